"""What every API route shares: orjson JSON responses and running work on the engine thread with a timeout."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An orjson-encoded JSON response (the fast path for decisions)."""
    return Response(orjson.dumps(body, default=str, option=orjson.OPT_NON_STR_KEYS), status_code=status, media_type="application/json",
                    headers=headers)


async def run_engine(request: Request, fn: Any, *args: Any) -> Any:
    """Run ``fn`` on the engine thread, bounded by ``request_timeout_s`` (a 503 after that; retry same id)."""
    return await wait_engine(request, request.app.state.service.submit(fn, *args))


async def decide_durably(request: Request, clean: dict[str, Any], dg: str) -> Any:
    """Decide a prepared event in the engine thread's next group commit; returns once it is durable."""
    app = request.app
    return await wait_decided(app.state.service.decide_soon(clean, dg), app.state.settings.request_timeout_s)


def _expire(fut: asyncio.Future, timeout: float) -> None:
    from fengkong.service.decider import Unavailable

    if not fut.done():  # a group that has not started yet will not decide it
        fut.set_exception(Unavailable(f"not decided within {timeout:g} s; send it again with the same request_id "
                                      f"(it is decided at most once)"))


async def wait_decided(fut: asyncio.Future, timeout: float) -> Any:
    """Wait for a future of :meth:`~fengkong.service.decider.DecisionService.decide_soon`, bounded by
    ``timeout`` seconds (a 503 after that; one timer, no extra task or future as ``asyncio.wait_for`` has)."""
    timer = asyncio.get_running_loop().call_later(timeout, _expire, fut, timeout)
    try:
        return await fut
    finally:
        timer.cancel()


async def wait_engine(request: Request, fut: Any) -> Any:
    """Wait for a future of the engine thread, bounded by ``request_timeout_s``."""
    from fengkong.service.decider import Unavailable

    if fut.done():  # inline engine: already decided
        return fut.result()
    timeout = request.app.state.settings.request_timeout_s
    try:
        return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)
    except TimeoutError:
        raise Unavailable(f"not decided within {timeout:g} s; send it again with the same request_id "
                          f"(it is decided at most once)") from None
