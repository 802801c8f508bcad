"""Lists (add / remove / expire entries) and identity locks ("lock", "unlock", "not me" via the fraud pack)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fengkong.events import EventValidationError, pii
from fengkong.service.auth import Principal, permission
from fengkong.service.models import IdentityIn, ListEntryIn, ListExpireIn, NotMeIn
from fengkong.service.respond import json_response, run_engine

router = APIRouter(prefix="/v1", tags=["lists and identity"])
_NAME_RE = r"^[A-Za-z0-9_.:-]+$"


def _name() -> Any:
    return PathParam(..., min_length=1, max_length=128, pattern=_NAME_RE)



def _not_plain(field: str, value: str) -> None:
    if pii.redact(value) != value:
        raise EventValidationError(field, "looks like a plaintext ID, card or phone number; lists hold tokens")


def _entry(e: Any) -> dict[str, Any]:
    return {"id": e.id, "list": e.list_name, "kind": e.kind, "value": e.value, "reason": e.reason,
            "source": e.source, "created_at": e.created_at, "expires_at": e.expires_at}


async def _refresh(request: Request) -> None:
    svc = request.app.state.service
    await run_engine(request, svc.refresh)


@router.get("/lists")
async def lists(request: Request, name: str | None = Query(None, max_length=128),
                who: Principal = Depends(permission("lists_read"))) -> Response:
    """Active (unexpired, not removed) entries of every list, or of one."""
    rows = await run_in_threadpool(request.app.state.store.lists.entries, name)
    return json_response({"entries": [_entry(e) for e in rows]})


@router.post("/lists/{name}/entries", status_code=201)
async def add_entry(body: ListEntryIn, request: Request, name: str = _name(),
                    who: Principal = Depends(permission("lists_write"))) -> Response:
    """Add a value (a token or key) to a list; optional expiry (``expires_at`` or ``expires_days``)."""
    _not_plain("value", body.value)
    if body.expires_at is not None and body.expires_days is not None:
        raise EventValidationError("expires_days", "give expires_at or expires_days, not both")
    exp = body.expires_at or (dt.datetime.now(dt.UTC) + dt.timedelta(days=body.expires_days)
                              if body.expires_days else None)
    st = request.app.state.store

    def op() -> int:
        i = st.lists.add(name, body.value, body.kind, body.reason, body.source or who.name, exp)
        st.admin.append(who.name, "lists.add", name, {"entry": i, "kind": body.kind, "value": body.value,
                                                      "expires_at": exp.isoformat() if exp else None})
        return i

    i = await run_in_threadpool(op)
    await _refresh(request)
    return json_response({"id": i, "list": name, "value": body.value, "kind": body.kind,
                          "expires_at": exp.isoformat() if exp else None}, 201)


@router.delete("/lists/{name}/entries/{value}")
async def remove_entry(request: Request, name: str = _name(), value: str = PathParam(..., min_length=1, max_length=256),
                       who: Principal = Depends(permission("lists_write"))) -> Response:
    """Remove a value (its entries are kept, stamped removed)."""
    st = request.app.state.store

    def op() -> int:
        n = st.lists.remove(name, value)
        st.admin.append(who.name, "lists.remove", name, {"value": value, "entries": n})
        return n

    n = await run_in_threadpool(op)
    await _refresh(request)
    return json_response({"removed": n})


@router.post("/lists/{name}/expire")
async def expire_entry(body: ListExpireIn, request: Request, name: str = _name(),
                       who: Principal = Depends(permission("lists_write"))) -> Response:
    """Set (or bring forward) the expiry of a value's active entries."""
    from fengkong.service.queries import expire_entries

    st = request.app.state.store

    def op() -> int:
        n = expire_entries(st, name, body.value, body.expires_at)
        st.admin.append(who.name, "lists.expire", name, {"value": body.value, "entries": n,
                                                         "expires_at": body.expires_at.isoformat()})
        return n

    n = await run_in_threadpool(op)
    await _refresh(request)
    return json_response({"expired": n, "expires_at": body.expires_at.isoformat()})


# ---------------------------------------------------------------- identity


def registry_path(settings: Any) -> Path:
    """The fraud pack's lock registry: configured, beside a SQLite store, else .fengkong/fraud.sqlite."""
    from sqlalchemy.engine import make_url

    from fengkong.fraud.locks import default_path

    if settings.lock_registry:
        return Path(settings.lock_registry)
    u = make_url(settings.store_url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        p = Path(u.database)
        return p.with_name(p.name + ".fraud.sqlite")
    return default_path()


def _token(request: Request, body: IdentityIn) -> str:
    if bool(body.id_no) == bool(body.id_token):
        raise EventValidationError("id_no", "give exactly one of id_no or id_token")
    if body.id_no:
        from fengkong.events import pii

        if (problem := pii.id_no_problem(body.id_no)) is not None:
            raise EventValidationError("id_no", problem)
        return request.app.state.tokenizer.token("id", body.id_no)
    _not_plain("id_token", body.id_token or "")
    return body.id_token or ""


def _locks(request: Request) -> Any:
    from fengkong.fraud.locks import IdentityLocks

    return IdentityLocks(registry_path(request.app.state.settings), lists=request.app.state.store.lists)


async def _lock_call(request: Request, who: Principal, action: str, fn: Any) -> Any:
    from fengkong.fraud.locks import LockError

    def op() -> Any:
        locks = _locks(request)
        try:
            return fn(locks)
        except LockError as exc:
            field, _, msg = str(exc).partition(": ")
            raise EventValidationError(field, msg or str(exc)) from None
        finally:
            locks.close()

    out = await run_in_threadpool(op)
    await _refresh(request)
    return out


@router.post("/identity/lock")
async def lock(body: IdentityIn, request: Request, who: Principal = Depends(permission("identity"))) -> Response:
    """Lock an identity: later applications with it are refused (``IDENTITY_LOCKED``)."""
    tok = _token(request, body)
    changed = await _lock_call(request, who, "lock", lambda lk: lk.lock(tok, body.actor, body.reason))
    await run_in_threadpool(request.app.state.store.admin.append, who.name, "identity.lock", tok,
                            {"actor": body.actor, "changed": changed})
    return json_response({"id_token": tok, "locked": True, "changed": changed})


@router.post("/identity/unlock")
async def unlock(body: IdentityIn, request: Request, who: Principal = Depends(permission("identity"))) -> Response:
    """Unlock an identity."""
    tok = _token(request, body)
    changed = await _lock_call(request, who, "unlock", lambda lk: lk.unlock(tok, body.actor, body.reason))
    await run_in_threadpool(request.app.state.store.admin.append, who.name, "identity.unlock", tok,
                            {"actor": body.actor, "changed": changed})
    return json_response({"id_token": tok, "locked": False, "changed": changed})


@router.post("/identity/not-me")
async def not_me(body: NotMeIn, request: Request, who: Principal = Depends(permission("identity"))) -> Response:
    """A victim's "not me" report against applications this service decided: marks them, freezes
    collection on their loans, locks the identity and marks the attacker's device and phone risky."""
    from fengkong.service.queries import customer_events, decided_events

    tok = _token(request, body)
    st = request.app.state.store

    def frame() -> Any:
        apps = decided_events(st, body.application_ids)
        custs = {e.get("customer_id") for e in apps if e.get("customer_id")}
        return _events_frame(apps + customer_events(st, custs))

    events = await run_in_threadpool(frame)
    out = await _lock_call(request, who, "not_me", lambda lk: lk.report_not_me(
        tok, body.application_ids, events, actor=body.actor, reason=body.reason, lock=body.lock))
    await run_in_threadpool(st.admin.append, who.name, "identity.not_me", tok,
                            {"applications": out["applications"], "locked": out["locked"]})
    return json_response({"id_token": tok, **out})


def _events_frame(rows: list[dict[str, Any]]) -> Any:
    """A frame of the columns the fraud pack's report needs, from tokenised event dicts (deduplicated)."""
    import polars as pl

    from fengkong.events import TZ

    cols = ("event_id", "event_type", "ts", "customer_id", "id_token", "device_id", "phone_token", "application_id",
            "loan_id")
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        seen.setdefault(r["event_id"], {c: r.get(c) for c in cols})
    frame = pl.DataFrame(list(seen.values()), schema={c: pl.Utf8 for c in cols}, orient="row") if seen else \
        pl.DataFrame(schema={c: pl.Utf8 for c in cols})
    return frame.with_columns(pl.col("ts").str.to_datetime(time_zone=str(TZ), strict=False))
