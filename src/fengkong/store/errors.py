"""Store failures as one exception type naming the store (database down, locked, disk full, …)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from fengkong.errors import UnavailableError


class StoreError(UnavailableError, RuntimeError):
    """The store could not be read or written. ``store`` is its URL without the password."""

    def __init__(self, store: str, action: str, cause: BaseException):
        self.store = store
        self.action = action
        self.cause = cause
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        super().__init__(f"store {store}: {action} failed: {type(cause).__name__}: {first}".rstrip(": "))


class StoreOpenError(StoreError):
    """The store could not be opened; the message is one line naming the store and the cause."""

    def __init__(self, store: str, cause: BaseException, reason: str):
        self.store, self.action, self.cause, self.reason = store, "opening", cause, reason
        RuntimeError.__init__(self, f"cannot open the store {store}: {reason}")


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` of the driver's own exception (no SQLAlchemy banner or link)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return f"{type(orig).__name__}: {text.splitlines()[0]}" if text else type(orig).__name__


def open_failure(url: str, exc: BaseException) -> str:
    """Why a store URL could not be opened: for SQLite files the folder or file at fault, else the driver's line."""
    try:
        from sqlalchemy.engine import make_url

        u = make_url(str(url))
        db = u.database if u.get_backend_name() == "sqlite" else None
    except Exception:
        db = None
    if db and db != ":memory:" and not db.startswith("file:"):
        p = Path(db).expanduser()
        parent = p.parent
        if not parent.exists():
            return f"folder {parent} does not exist"
        if not parent.is_dir():
            return f"{parent} is not a folder"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"folder {parent} is not writable"
        if p.exists() and not os.access(p, os.R_OK | os.W_OK):
            return f"{p} is not readable and writable"
    return first_line(exc)


def open_error_line(exc: BaseException) -> str:
    """The one-line message for a store that failed to open (any exception)."""
    if isinstance(exc, StoreError):
        return str(exc)
    return f"cannot open the store: {first_line(exc)}"


def _error_types() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import SQLAlchemyError

    types: list[type[BaseException]] = [SQLAlchemyError, sqlite3.Error]
    try:
        import psycopg

        types.append(psycopg.Error)
    except ImportError:  # pragma: no cover - PostgreSQL driver not installed
        pass
    return tuple(types)


#: Exceptions that mean "the store failed" (SQLAlchemy's and the DBAPI drivers' own).
STORE_ERRORS: tuple[type[BaseException], ...] = _error_types()


def safe_url(url: Any) -> str:
    """A store URL for messages: the password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(str(url)).render_as_string(hide_password=True)
    except Exception:
        return "<store>"
