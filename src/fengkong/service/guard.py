"""ASGI middleware at the edge: 413 for oversized bodies, 415 for non-JSON bodies, request metrics.

The body is read here in full (up to the limit) before any route sees it, so an oversized request is refused
with nothing recorded, whether or not it declared a Content-Length.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

JSON_TYPES = ("application/json",)
_BODY_METHODS = {"POST", "PUT", "PATCH"}


async def _reply(send: Any, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _reply422(send: Any, msg: str) -> None:
    body = orjson.dumps({"detail": [{"loc": ["body"], "msg": msg, "type": "json_invalid"}]})
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Wraps the app: body limits and content type on ``/v1/`` writes, latency histogram for every request."""

    def __init__(self, app: Any, max_body: int, metrics: Any = None, prefix: str = "/v1/", fast: Any = None):
        """``fast``: an optional ``async (scope, headers, parsed body, send) -> bool`` that may answer a JSON
        write itself (:class:`fengkong.service.fastpath.FastDecide`); False passes it on to the app."""
        self.app, self.max_body, self.metrics, self.prefix, self.fast = app, max_body, metrics, prefix, fast

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = [500]

        async def send_wrapped(msg: dict) -> None:
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        try:
            if scope["method"] in _BODY_METHODS and scope["path"].startswith(self.prefix):
                headers = dict(scope.get("headers") or ())
                ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
                declared = headers.get(b"content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                    await _reply(send_wrapped, 413, f"request body over {self.max_body} bytes")
                    return
                body = bytearray()
                more = True
                while more:
                    msg = await receive()
                    if msg["type"] == "http.disconnect":
                        return
                    body += msg.get("body", b"")
                    more = msg.get("more_body", False)
                    if len(body) > self.max_body:
                        await _reply(send_wrapped, 413, f"request body over {self.max_body} bytes")
                        return
                if body and ctype not in JSON_TYPES:
                    await _reply(send_wrapped, 415, f"send the body as application/json (got {ctype or 'none'})")
                    return
                data = bytes(body)
                # strict JSON: valid UTF-8, no lone surrogates, no NaN (the stores could not keep them);
                # an empty body is left to the route (a 422 where one is required)
                try:
                    parsed = orjson.loads(data) if data else None
                except orjson.JSONDecodeError as exc:
                    await _reply422(send_wrapped, f"the body is not valid JSON: {exc}")
                    return
                if (self.fast is not None and data and scope["method"] == "POST"
                        and await self.fast(scope, headers, parsed, send_wrapped)):
                    return
                sent = [False]

                async def replay() -> dict:
                    if not sent[0]:
                        sent[0] = True
                        return {"type": "http.request", "body": data, "more_body": False}
                    return await receive()

                await self.app(scope, replay, send_wrapped)
            else:
                await self.app(scope, receive, send_wrapped)
        finally:
            if self.metrics is not None:
                route = scope.get("route")
                path = getattr(route, "path", None) or "unmatched"
                self.metrics.requests.labels(scope["method"], path, str(status[0])).observe(time.perf_counter() - t0)
