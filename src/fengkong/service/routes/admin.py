"""Administration: API keys, users and the admin log (role ``admin``; the log also for ``compliance``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fengkong.service.auth import Principal, permission
from fengkong.service.models import KeyIn, UserIn
from fengkong.service.respond import json_response

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/keys", status_code=201)
async def create_key(body: KeyIn, request: Request, who: Principal = Depends(permission("admin"))) -> Response:
    """A new API key; the secret is shown in this response only (the store keeps its hash)."""
    st = request.app.state.store

    def op() -> dict:
        key = st.users.create_key(body.name, body.roles, who.name)
        key_id = key.split("_", 2)[1]
        st.admin.append(who.name, "key.create", key_id, {"name": body.name, "roles": sorted(body.roles)})
        return {"key": key, "key_id": key_id, "name": body.name, "roles": sorted(body.roles)}

    return json_response(await run_in_threadpool(op), 201)


@router.get("/keys")
async def list_keys(request: Request, who: Principal = Depends(permission("admin"))) -> Response:
    """Every key (id, name, roles, created, revoked); never a secret."""
    keys = await run_in_threadpool(request.app.state.store.users.keys)
    return json_response({"keys": [{"key_id": k.key_id, "name": k.name, "roles": sorted(k.roles),
                                    "created_by": k.created_by, "created_at": k.created_at,
                                    "revoked_at": k.revoked_at} for k in keys]})


@router.delete("/keys/{key_id}")
async def revoke_key(key_id: str, request: Request, who: Principal = Depends(permission("admin"))) -> Response:
    """Revoke a key (at once on this worker; within key_cache_seconds on the others)."""
    st = request.app.state.store

    def op() -> None:
        st.users.revoke_key(key_id)
        st.admin.append(who.name, "key.revoke", key_id, {})

    await run_in_threadpool(op)
    request.app.state.key_cache.clear()
    return json_response({"revoked": key_id})


@router.post("/users", status_code=201)
async def add_user(body: UserIn, request: Request, who: Principal = Depends(permission("admin"))) -> Response:
    """Add a user (password stored as scrypt) with roles."""
    st = request.app.state.store

    def op() -> int:
        uid = st.users.add(body.username, body.password, body.roles, body.display_name)
        st.admin.append(who.name, "user.add", body.username, {"roles": sorted(body.roles)})
        return uid

    uid = await run_in_threadpool(op)
    return json_response({"id": uid, "username": body.username, "roles": sorted(body.roles)}, 201)


@router.get("/log")
async def admin_log(request: Request, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=2**62),
                    action: str | None = Query(None, max_length=64),
                    who: Principal = Depends(permission("admin_log"))) -> Response:
    """The hash-chained admin log, newest first, and whether the chain verifies."""
    st = request.app.state.store
    rows = await run_in_threadpool(st.admin.entries, limit, offset, action)
    ok = await run_in_threadpool(st.admin.verify)
    return json_response({"entries": rows, "chain_ok": ok.ok, "checked": ok.checked})
