"""Users (scrypt-hashed passwords) and API keys (sha256 of the secret) with their roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from fengkong.errors import InputError
from fengkong.store.schema import api_keys, users

#: The roles of the service and console.
ROLES = ("decision_client", "analyst", "deployer", "reviewer", "supervisor", "investigator", "compliance",
         "admin")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class UserError(InputError, ValueError):
    """A bad user or key request (unknown role, duplicate name, weak password)."""


@dataclass
class User:
    id: int
    username: str
    display_name: str | None
    roles: frozenset[str]
    active: bool


@dataclass
class ApiKey:
    key_id: str
    name: str
    roles: frozenset[str]
    created_by: str
    created_at: str
    revoked_at: str | None


def _roles(roles: Any) -> str:
    rs = sorted({r.strip() for r in (roles.split(",") if isinstance(roles, str) else roles) if r.strip()})
    bad = [r for r in rs if r not in ROLES]
    if bad or not rs:
        raise UserError(f"unknown role(s) {', '.join(bad) or '(none given)'}; roles are {', '.join(ROLES)}")
    return ",".join(rs)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    h = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${h.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, h = stored.split("$")
    except ValueError:
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(got.hex(), h)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Users:
    """Repository of users and API keys."""

    def __init__(self, engine: Any):
        self.engine = engine

    def add(self, username: str, password: str, roles: Any, display_name: str | None = None) -> int:
        if not username or len(username) > 128:
            raise UserError("a username is 1-128 characters")
        if len(password) < 8:
            raise UserError("a password has at least 8 characters")
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.username == username)).first():
                raise UserError(f"user {username!r} exists")
            res = conn.execute(users.insert().values(username=username, display_name=display_name,
                                                     password_hash=hash_password(password), roles=_roles(roles),
                                                     active=1, created_at=_now()))
            return int(res.inserted_primary_key[0])

    def get(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(users).where(users.c.username == username)).mappings().first()
        return None if r is None else User(r["id"], r["username"], r["display_name"],
                                           frozenset(r["roles"].split(",")), bool(r["active"]))

    def all(self) -> list[User]:
        with self.engine.connect() as conn:
            rs = conn.execute(select(users).order_by(users.c.username)).mappings().all()
        return [User(r["id"], r["username"], r["display_name"], frozenset(r["roles"].split(",")),
                     bool(r["active"])) for r in rs]

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this password, else None (same work whether or not the user exists)."""
        with self.engine.connect() as conn:
            r = conn.execute(select(users).where(users.c.username == username)).mappings().first()
        ok = check_password(password, r["password_hash"] if r else hash_password("x" * 12))
        if r is None or not ok or not r["active"]:
            return None
        return User(r["id"], r["username"], r["display_name"], frozenset(r["roles"].split(",")), True)

    def set_roles(self, username: str, roles: Any) -> None:
        with self.engine.begin() as conn:
            if conn.execute(update(users).where(users.c.username == username)
                            .values(roles=_roles(roles))).rowcount != 1:
                raise UserError(f"no user {username!r}")

    def set_active(self, username: str, active: bool) -> None:
        with self.engine.begin() as conn:
            if conn.execute(update(users).where(users.c.username == username)
                            .values(active=int(active))).rowcount != 1:
                raise UserError(f"no user {username!r}")

    # ------------------------------------------------------------ API keys

    def create_key(self, name: str, roles: Any, created_by: str) -> str:
        """A new API key ``fk_<key_id>_<secret>``; only its hash is stored, so show it once."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(key_id=key_id, key_hash=hashlib.sha256(secret.encode()).hexdigest(),
                                                  name=name, roles=_roles(roles), created_by=created_by,
                                                  created_at=_now()))
        return f"fk_{key_id}_{secret}"

    def check_key(self, key: str) -> ApiKey | None:
        """The live key this string is, else None."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "fk":
            return None
        with self.engine.connect() as conn:
            r = conn.execute(select(api_keys).where(api_keys.c.key_id == parts[1])).mappings().first()
        if r is None or r["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(hashlib.sha256(parts[2].encode()).hexdigest(), r["key_hash"]):
            return None
        return ApiKey(r["key_id"], r["name"], frozenset(r["roles"].split(",")), r["created_by"], r["created_at"],
                      None)

    def revoke_key(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                            .values(revoked_at=_now())).rowcount != 1:
                raise UserError(f"no live API key {key_id!r}")

    def keys(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rs = conn.execute(select(api_keys).order_by(api_keys.c.id)).mappings().all()
        return [ApiKey(r["key_id"], r["name"], frozenset(r["roles"].split(",")), r["created_by"], r["created_at"],
                       r["revoked_at"]) for r in rs]
