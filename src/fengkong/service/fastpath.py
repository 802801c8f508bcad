"""``POST /v1/decisions`` answered from the edge middleware, past the framework's routing and dependency layers.

Taken only when everything the route would check already holds: a cached API key with the ``decide``
permission, a JSON object that validates against its event type's request model (the same pydantic model
as the route's), and an event the boundary tokenises and validates. Anything else (no or unknown key, a
schema error, a plaintext identity value in a token field, …) goes on to the FastAPI route unchanged, which
answers it with its 401/403/422, so the OpenAPI document and every error stay the route's own. Once the
event is queued for the engine the answer is given here: the decision once it is durable, or the error
through the app's own exception handlers.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from fengkong.events import EventValidationError
from fengkong.service.auth import PERMISSIONS
from fengkong.service.decider import Overloaded

PATH = "/v1/decisions"
_ALLOWED = frozenset(PERMISSIONS["decide"])
_HEADERS = [(b"content-type", b"application/json")]


class _Route:
    """What the request-latency histogram reads off ``scope["route"]``."""

    path = PATH


ROUTE = _Route()


class FastDecide:
    """The fast path of one app (reads ``app.state`` when called, so it follows the app it serves)."""

    def __init__(self, app: Any):
        self.app = app

    def _principal(self, headers: dict[bytes, bytes]) -> Any:
        cache = getattr(self.app.state, "key_cache", None)
        if cache is None:
            return None
        raw = headers.get(b"x-api-key")
        if raw:
            key = raw.decode("latin-1").strip()
        else:
            scheme, _, cred = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
            key = cred.strip() if scheme.lower() == "bearer" else ""
        if not key:
            return None
        hit, p = cache.peek(key)
        return p if hit and p is not None and p.roles & _ALLOWED else None

    async def __call__(self, scope: dict, headers: dict[bytes, bytes], obj: Any, send: Any) -> bool:
        """Answer the request and return True, or return False having done nothing (the route answers)."""
        from fengkong.service.models import EVENT_MODELS, event_dict
        from fengkong.service.respond import wait_decided

        if not isinstance(obj, dict) or self._principal(headers) is None:
            return False
        model = EVENT_MODELS.get(obj.get("event_type"))  # type: ignore[arg-type]
        if model is None:
            return False
        state = self.app.state
        svc = state.service
        try:
            clean, dg = svc.prepare(event_dict(model.model_validate(obj)))
            fut = svc.decide_soon(clean, dg)
        except (ValidationError, EventValidationError, Overloaded):  # nothing queued: the route answers it
            return False
        scope["route"] = ROUTE
        try:
            out = await wait_decided(fut, state.settings.request_timeout_s)
        except Exception as exc:
            from starlette.requests import Request

            request = Request(scope)
            handler = next((h for c in type(exc).__mro__ if (h := self.app.exception_handlers.get(c)) is not None
                            and c is not Exception), None)
            if handler is None:
                raise
            await (await handler(request, exc))(scope, _no_body, send)
            return True
        body = orjson.dumps(out.body(), default=str, option=orjson.OPT_NON_STR_KEYS)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HEADERS, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return True


async def _no_body() -> dict:
    return {"type": "http.disconnect"}
