"""Strategies (deploy, activate, rollback, list, diff), four-eyes deploy requests, and backtest jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fengkong.deploy import Deployments, diff_strategies, routing_dict
from fengkong.events import EventValidationError
from fengkong.service.auth import Principal, permission
from fengkong.service.decider import NotFound
from fengkong.service.models import ActivateIn, BacktestIn, DeployIn, RejectIn, RollbackIn
from fengkong.service.respond import json_response, run_engine

router = APIRouter(prefix="/v1", tags=["strategies"])


def _deployments(request: Request) -> Deployments:
    return Deployments(request.app.state.store, four_eyes=request.app.state.settings.four_eyes)


async def _refresh(request: Request) -> None:
    svc = request.app.state.service
    await run_engine(request, svc.refresh)


def _listing(store: Any) -> dict[str, Any]:
    from fengkong.deploy import version_rows

    return {"versions": version_rows(store),
            "routes": {r: routing_dict(c) for r, c in store.versions.routes().items()}}


@router.get("/strategies")
async def list_strategies(request: Request, who: Principal = Depends(permission("strategy_read"))) -> Response:
    """Deployed versions and what is active on every route."""
    return json_response(await run_in_threadpool(_listing, request.app.state.store))


def _compiled(store: Any, ref: str, field: str) -> Any:
    from fengkong.runtime import strategy_kinds
    from fengkong.strategy import strategy_from_text

    name, _, version = ref.partition("@")
    sv = store.versions.get(name, version) if version else store.versions.latest(name)
    if sv is None:
        raise EventValidationError(field, f"{ref!r} is not a deployed strategy")
    return strategy_from_text(sv.source, f"{sv.name}@{sv.version}", features=strategy_kinds(), artifacts=sv.artifacts)


@router.get("/strategies/diff")
async def diff(request: Request, a: str = Query(..., min_length=1, max_length=256),
               b: str = Query(..., min_length=1, max_length=256),
               who: Principal = Depends(permission("strategy_read"))) -> Response:
    """Rules added, removed and changed between two deployed versions (``name@version``), and the text diff."""
    st = request.app.state.store

    def op() -> dict[str, Any]:
        request.state.loc_prefix = ["query"]
        return diff_strategies(_compiled(st, a, "a"), _compiled(st, b, "b"))

    return json_response(await run_in_threadpool(op))


@router.post("/strategies", status_code=201)
async def deploy(body: DeployIn, request: Request, who: Principal = Depends(permission("strategy_write"))) -> Response:
    """Validate and store a strategy version (immutable); optionally activate it. Making it champion is a
    pending request for a second deployer when four-eyes is on (the default)."""
    from fengkong.runtime import strategy_kinds
    from fengkong.strategy import strategy_from_text

    d = _deployments(request)

    def op() -> dict[str, Any]:
        import yaml

        try:
            s = strategy_from_text(body.source, "<request body>", features=strategy_kinds())
        except yaml.YAMLError as exc:
            raise EventValidationError("source", f"not valid YAML: {exc}") from None
        sv, created = d.deploy(s, who.name)
        out: dict[str, Any] = {"name": sv.name, "version": sv.version, "sha256": sv.sha256, "created": created}
        if body.activate:
            out["activation"] = d.activate(sv.name, sv.version, body.activate, who.name, body.percent,
                                           body.split_key).to_dict()
        return out

    out = await run_in_threadpool(op)
    await _refresh(request)
    return json_response(out, 201)


@router.post("/strategies/{name}/{version}/activate")
async def activate(body: ActivateIn, request: Request, name: str = PathParam(..., min_length=1, max_length=128),
                   version: str = PathParam(..., min_length=1, max_length=64),
                   who: Principal = Depends(permission("strategy_write"))) -> Response:
    """Make a deployed version champion (pending approval under four-eyes), challenger (percent), shadow, or off."""
    d = _deployments(request)
    res = await run_in_threadpool(d.activate, name, version, body.role, who.name, body.percent, body.split_key)
    await _refresh(request)
    return json_response(res.to_dict(), 202 if res.status == "pending" else 200)


@router.post("/strategies/rollback")
async def rollback(body: RollbackIn, request: Request, who: Principal = Depends(permission("strategy_write"))) -> Response:
    """Restore the routing in force before the last change of a route (or of a strategy's route)."""
    d = _deployments(request)
    route, cfg = await run_in_threadpool(d.rollback, body.target, who.name)
    await _refresh(request)
    return json_response({"route": route, "routing": routing_dict(cfg)})


@router.get("/deploy-requests")
async def deploy_requests(request: Request, status: str | None = Query("pending", pattern="^(pending|applied|rejected)$"),
                          who: Principal = Depends(permission("strategy_read"))) -> Response:
    """Champion changes waiting for (or given) a second deployer's approval."""
    d = _deployments(request)
    rows = await run_in_threadpool(d.requests, status)
    return json_response({"requests": [r.to_dict() for r in rows]})


@router.post("/deploy-requests/{request_id}/approve")
async def approve(request: Request, request_id: int = PathParam(..., ge=1, le=2**31 - 1),
                  who: Principal = Depends(permission("strategy_write"))) -> Response:
    """Approve a pending champion change (a different deployer than the one who asked); applies it."""
    d = _deployments(request)
    res = await run_in_threadpool(d.approve, request_id, who.name, who.roles)
    await _refresh(request)
    return json_response(res.to_dict())


@router.post("/deploy-requests/{request_id}/reject")
async def reject(body: RejectIn, request: Request, request_id: int = PathParam(..., ge=1, le=2**31 - 1),
                 who: Principal = Depends(permission("strategy_write"))) -> Response:
    """Reject a pending champion change."""
    d = _deployments(request)
    res = await run_in_threadpool(d.reject, request_id, who.name, who.roles, body.note)
    return json_response(res.to_dict())


# ---------------------------------------------------------------- backtests


@router.post("/backtests", status_code=202)
async def submit_backtest(body: BacktestIn, request: Request, who: Principal = Depends(permission("backtest"))) -> Response:
    """Start a vectorised backtest of a deployed strategy over a world directory under the service's data_dir."""
    from fengkong.service.jobs import JobError

    def op() -> dict[str, Any]:
        try:
            return request.app.state.jobs.submit(body.strategy, body.events, body.against, who.name)
        except JobError as exc:
            field, _, msg = str(exc).partition(": ")
            raise EventValidationError(field, msg) from None

    return json_response(await run_in_threadpool(op), 202)


async def _job(request: Request, job_id: str) -> dict[str, Any]:
    row = await run_in_threadpool(request.app.state.jobs.status, job_id)
    if row is None:
        raise NotFound(f"no job {job_id!r}")
    return row


@router.get("/backtests/{job_id}")
async def backtest_status(request: Request, job_id: str = PathParam(..., max_length=32),
                          who: Principal = Depends(permission("backtest"))) -> Response:
    """Status of a backtest job (queued, running, done, failed)."""
    row = await _job(request, job_id)
    row.pop("result", None)
    return json_response(row)


@router.get("/backtests/{job_id}/result")
async def backtest_result(request: Request, job_id: str = PathParam(..., max_length=32),
                          who: Principal = Depends(permission("backtest"))) -> Response:
    """The summary of a finished backtest (outcome mix, rule hits, bad rates, swap set); 409 until it is done."""
    from fengkong.service.decider import Conflict

    row = await _job(request, job_id)
    if row["status"] != "done":
        raise Conflict(f"job {job_id} is {row['status']}" + (f": {row['error']}" if row.get("error") else ""))
    return json_response({"id": job_id, "result": row["result"]})
