"""Authentication (API keys, users) and role checks, as FastAPI dependencies the API and the console share.

Credentials: ``Authorization: Bearer fk_<id>_<secret>`` or ``X-API-Key: fk_...`` for machine callers (keys
stored hashed in ``store.users``), ``Authorization: Basic`` user:password for people (scrypt). A missing or
wrong credential is a 401; a valid one without the route's role a 403. Usage::

    from fengkong.service.auth import Principal, require

    @router.get("/thing")
    def thing(who: Principal = Depends(require("analyst", "investigator"))): ...

Another front end (the console's session cookie) can set ``request.state.principal`` before the
dependency runs; it is used as is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

#: Which roles may do what (documented in docs/service.md; the route table uses these names).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "decide": ("decision_client",),
    "read_decisions": ("decision_client", "analyst", "investigator", "compliance", "supervisor", "reviewer"),
    "lists_read": ("analyst", "investigator", "supervisor", "compliance"),
    "lists_write": ("investigator", "supervisor"),
    "identity": ("decision_client", "investigator", "supervisor"),
    "strategy_read": ("analyst", "deployer", "compliance", "supervisor"),
    "strategy_write": ("deployer",),
    "backtest": ("analyst",),
    "admin": ("admin",),
    "admin_log": ("admin", "compliance"),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``kind`` is ``key`` or ``user``; ``name`` goes into the admin log as the actor."""

    name: str
    kind: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


class KeyCache:
    """Checked API keys for ``ttl`` seconds (by sha256 of the whole key), so a decision costs no key query.

    A revoked key stops working within ``ttl`` seconds on every worker (at once on the worker that revoked it).
    """

    def __init__(self, ttl: float = 5.0, size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._d: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def peek(self, key: str) -> tuple[bool, Principal | None]:
        """(cached?, principal) without any store query."""
        hit = self._d.get(hashlib.sha256(key.encode()).hexdigest())
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def get(self, key: str, check: Callable[[str], Principal | None]) -> Principal | None:
        h = hashlib.sha256(key.encode()).hexdigest()
        now = time.monotonic()
        hit = self._d.get(h)
        if hit is not None and hit[0] > now:
            return hit[1]
        p = check(key)
        with self._lock:
            if len(self._d) >= self.size:
                self._d.clear()
            self._d[h] = (now + self.ttl, p)
        return p

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


def principal_from_headers(store: Any, authorization: str | None, api_key: str | None,
                           cache: KeyCache | None = None) -> Principal | None:
    """The principal these header values prove, or None (no or bad credentials)."""

    def check(key: str) -> Principal | None:
        k = store.users.check_key(key)
        return None if k is None else Principal(f"key:{k.name}", "key", frozenset(k.roles))

    if api_key:
        return cache.get(api_key.strip(), check) if cache else check(api_key.strip())
    if not authorization:
        return None
    scheme, _, cred = authorization.partition(" ")
    scheme = scheme.lower()
    cred = cred.strip()
    if scheme == "bearer" and cred:
        return cache.get(cred, check) if cache else check(cred)
    if scheme == "basic" and cred:
        try:
            user, _, password = base64.b64decode(cred, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        u = store.users.authenticate(user, password)
        return None if u is None else Principal(u.username, "user", frozenset(u.roles))
    return None


def _bearer(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, cred = (request.headers.get("authorization") or "").partition(" ")
    return cred.strip() if scheme.lower() == "bearer" and cred.strip() else None


async def current_principal(request: Request) -> Principal:
    """The authenticated caller of a request, or a 401 (a cached API key costs no store query)."""
    p = getattr(request.state, "principal", None)
    if p is None:
        app = request.app
        cache = getattr(app.state, "key_cache", None)
        key = _bearer(request)
        hit = cache.peek(key) if cache is not None and key else (False, None)
        if hit[0]:
            p = hit[1]
        else:
            from starlette.concurrency import run_in_threadpool

            p = await run_in_threadpool(principal_from_headers, app.state.store, request.headers.get("authorization"),
                                        request.headers.get("x-api-key"), cache)
        if p is None:
            raise HTTPException(401, "missing or invalid credentials (send Authorization: Bearer <API key>)",
                                headers={"WWW-Authenticate": 'Bearer realm="fengkong", Basic realm="fengkong"'})
        request.state.principal = p
    return p


def require(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller must hold one of ``roles`` (401 without credentials, 403 without the role)."""
    allowed = frozenset(roles)

    async def dep(request: Request) -> Principal:
        p = await current_principal(request)
        if not p.roles & allowed:
            raise HTTPException(403, f"this needs one of the roles {', '.join(sorted(allowed))}")
        return p

    dep.__name__ = "require_" + "_".join(sorted(allowed))
    return dep


def permission(name: str) -> Callable[[Request], Awaitable[Principal]]:
    """``require`` with the roles of a named permission in :data:`PERMISSIONS`."""
    return require(*PERMISSIONS[name])
