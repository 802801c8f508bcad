"""Console log-in: a signed session cookie (itsdangerous) with a CSRF token, idle timeout and role checks."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "fk_console"
PRE_COOKIE = "fk_console_pre"  # CSRF token of the log-in form (before a session exists)
PATH = "/console"


class LoginRequired(Exception):
    """No valid session (never logged in, logged out, or idle too long)."""

    def __init__(self, reason: str = "login"):
        self.reason = reason


class Forbidden(Exception):
    """Logged in, but without a role the page needs."""

    def __init__(self, roles: Iterable[str]):
        self.roles = tuple(roles)


class CsrfError(Exception):
    """A POST without the session's CSRF token."""


@dataclass
class Session:
    username: str
    roles: frozenset[str]
    csrf: str
    display_name: str | None = None

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)


class Sessions:
    """Signs and checks the session cookie; ``idle_seconds`` without a request ends a session."""

    def __init__(self, secret: str, idle_seconds: float = 1800, secure: bool = False):
        self.ser = URLSafeSerializer(secret, salt="fengkong-console-session")
        self.idle = float(idle_seconds)
        self.secure = secure

    def issue(self, username: str, csrf: str | None = None) -> tuple[str, str]:
        csrf = csrf or secrets.token_urlsafe(24)
        return self.ser.dumps({"u": username, "c": csrf, "t": time.time()}), csrf

    def read(self, cookie: str | None) -> dict[str, Any]:
        if not cookie:
            raise LoginRequired("login")
        try:
            d = self.ser.loads(cookie)
        except BadSignature:
            raise LoginRequired("login") from None
        if time.time() - float(d.get("t", 0)) > self.idle:
            raise LoginRequired("idle")
        return d

    def set_cookie(self, response: Any, value: str) -> None:
        response.set_cookie(COOKIE, value, path=PATH, httponly=True, samesite="strict", secure=self.secure,
                            max_age=int(self.idle) + 60)

    def clear(self, response: Any) -> None:
        response.delete_cookie(COOKIE, path=PATH)


def check_csrf(expected: str, got: str | None) -> None:
    if not got or not hmac.compare_digest(expected, got):
        raise CsrfError()
