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
    return await wait_engine(request, request.app.state.service.decide_async(clean, dg))


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
