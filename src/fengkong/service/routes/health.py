"""``/healthz`` (alive), ``/readyz`` (store, feature state, strategies), ``/metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengkong.service.respond import json_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Response:
    """The process is up (no dependency is checked)."""
    return json_response({"ok": True})


@router.get("/readyz", responses={503: {"description": "not ready (the body says which check failed)"}})
async def readyz(request: Request) -> Response:
    """Ready to decide: the store answers, the feature state answers, strategies are loaded."""
    svc = request.app.state.service
    try:
        checks = await asyncio.wait_for(asyncio.wrap_future(svc.submit(svc.ready)), 5)
    except Exception as exc:
        checks = {"ok": False, "error": type(exc).__name__}
    return json_response(checks, 200 if checks.get("ok") else 503)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this worker process (no identity data in any label)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
