"""``POST /v1/decisions`` (one or a batch), ``POST /v1/events``, ``GET /v1/decisions/{id}``, decisions by customer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from fengkong.events import EventValidationError
from fengkong.service.auth import Principal, permission
from fengkong.service.decider import NotFound
from fengkong.service.models import (
    Batch,
    BatchOut,
    DecisionOut,
    DecisionPage,
    Event,
    EventAccepted,
    event_dict,
)
from fengkong.service.respond import decide_durably, json_response, run_engine

router = APIRouter(prefix="/v1", tags=["decisions"])
_ERR = {401: {"description": "no or bad credentials"}, 403: {"description": "role missing"},
        409: {"description": "request_id used with another payload"}, 413: {"description": "body too large"},
        415: {"description": "not application/json"}, 422: {"description": "invalid field (path named)"},
        503: {"description": "a dependency failed or the time bound passed; nothing was recorded unless the "
                             "same request_id later returns a decision — retry with the same id"}}


@router.post("/decisions", response_model=DecisionOut, responses=_ERR)
async def decide(event: Event, request: Request, who: Principal = Depends(permission("decide"))) -> Response:
    """Decide one event (any event type). The request id is the event's ``event_id``: sending it again
    returns the stored decision (``replayed: true``) and changes no feature state. Answered only after the
    decision is in the hash-chained audit log."""
    svc = request.app.state.service
    clean, dg = svc.prepare(event_dict(event))
    out = await decide_durably(request, clean, dg)
    return json_response(out.body())


@router.post("/decisions/batch", response_model=BatchOut, responses=_ERR)
async def decide_batch(batch: Batch, request: Request, who: Principal = Depends(permission("decide"))) -> Response:
    """Decide up to ``max_batch`` events in order. Every event is validated first: one invalid event is a 422
    naming ``events.<i>.<field>`` and nothing is decided. Each result carries its own status."""
    svc = request.app.state.service
    limit = request.app.state.settings.max_batch
    if len(batch.events) > limit:
        request.state.loc_prefix = ["body"]
        raise EventValidationError("events", f"at most {limit} events per batch, got {len(batch.events)}")
    prepared = []
    for i, e in enumerate(batch.events):
        request.state.loc_prefix = ["body", "events", i]
        prepared.append(svc.prepare(event_dict(e)))
    request.state.loc_prefix = ["body"]
    ids = [c["event_id"] for c, _ in prepared]
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise EventValidationError("events", f"event_id {dup!r} appears twice in the batch")
    from fengkong.service.decider import Conflict

    results = []
    for i, (clean, dg) in enumerate(prepared):
        try:
            out = await decide_durably(request, clean, dg)
            results.append({"index": i, "status": 200, "decision": out.body()})
        except Conflict as exc:
            results.append({"index": i, "status": 409, "detail": str(exc)})
        except EventValidationError as exc:  # late or ahead of the clock: this event only, the others stand
            results.append({"index": i, "status": 422, "detail": str(exc)})
    return json_response({"results": results})


@router.post("/events", response_model=EventAccepted, status_code=202, responses=_ERR)
async def ingest(event: Event, request: Request, who: Principal = Depends(permission("decide"))) -> Response:
    """Accept an event that updates feature state (repayments, transfers, …). When a strategy is active for
    its type it is decided too and any alerts are returned; the caller need not wait for a business answer."""
    svc = request.app.state.service
    clean, dg = svc.prepare(event_dict(event))
    out = await run_engine(request, svc.ingest_clean, clean, dg)
    return json_response(out, 202)


@router.get("/decisions/{request_id}", response_model=DecisionOut, responses=_ERR)
async def get_decision(request_id: str, request: Request,
                       who: Principal = Depends(permission("read_decisions"))) -> Response:
    """The stored decision of a request id (404 if none)."""
    from starlette.concurrency import run_in_threadpool

    rec = await run_in_threadpool(request.app.state.store.decisions.get, request_id)
    if rec is None:
        raise NotFound(f"no decision for request_id {request_id!r}")
    body = {k: v for k, v in rec.items() if k not in ("event", "payload_sha256")}
    body["replayed"] = True
    return json_response(body)


@router.get("/customers/{customer_id}/decisions", response_model=DecisionPage, responses=_ERR)
async def customer_decisions(customer_id: str, request: Request, limit: int = Query(50, ge=1, le=500),
                             before: int | None = Query(None, ge=1, le=2**62, description="Page below this seq."),
                             who: Principal = Depends(permission("read_decisions"))) -> Response:
    """Decisions of one customer (the lender's customer key, never an identity element), newest first."""
    from starlette.concurrency import run_in_threadpool

    from fengkong.service.queries import decisions_of

    rows, nxt = await run_in_threadpool(decisions_of, request.app.state.store, customer_id, limit, before)
    return json_response({"customer_id": customer_id, "decisions": rows, "next_before": nxt})
