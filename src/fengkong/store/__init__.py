"""The fengkong store: decision audit log, strategy versions + routing, lists (SQLAlchemy 2 + Alembic).

``open_store(url)`` migrates the database to the current schema and returns a :class:`Store`.
SQLite (WAL) by default, PostgreSQL in production; the URL comes from ``--db`` / ``FENGKONG_DB``.
"""

from __future__ import annotations

from typing import Any

from fengkong.store.decisions import DecisionLog, DuplicateRequest, VerifyResult
from fengkong.store.engine_url import create, resolve_url
from fengkong.store.errors import STORE_ERRORS, StoreError, safe_url
from fengkong.store.lists import Lists
from fengkong.store.versions import Routing, StoredVersion, VersionError, Versions, route_of


class Store:
    """Facade over the repositories of one database."""

    def __init__(self, url: str | None = None, migrate: bool = True):
        from fengkong.store import migrate as _migrate

        self.url = resolve_url(url)
        #: The URL for messages (password hidden).
        self.name = safe_url(self.url)
        self.engine: Any = create(self.url)
        if migrate:
            _migrate.upgrade(self.engine)
        self.decisions = DecisionLog(self.engine)
        self.versions = Versions(self.engine)
        self.lists = Lists(self.engine)

    def close(self) -> None:
        self.decisions.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_store(url: str | None = None) -> Store:
    """Open (and migrate) the store at ``url`` (default: $FENGKONG_DB or ./fengkong.db)."""
    return Store(url)


__all__ = ["STORE_ERRORS", "DecisionLog", "DuplicateRequest", "Lists", "Routing", "Store", "StoreError",
           "StoredVersion", "VerifyResult", "VersionError", "Versions", "open_store", "resolve_url", "route_of",
           "safe_url"]
