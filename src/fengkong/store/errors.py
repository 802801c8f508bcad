"""Store failures as one exception type naming the store (database down, locked, disk full, …)."""

from __future__ import annotations

import sqlite3
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
