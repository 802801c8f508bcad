"""The fengkong store: decision audit log, strategy versions + routing, lists, cases, labels, users, admin log.

``open_store(url)`` migrates the database to the current schema and returns a :class:`Store`.
SQLite (WAL) by default, PostgreSQL in production; the URL comes from ``--db`` / ``FENGKONG_DB``.
"""

from __future__ import annotations

from typing import Any

from fengkong.settings import Settings
from fengkong.store.admin_log import AdminLog
from fengkong.store.cases import Case, CaseError, Cases
from fengkong.store.decisions import DecisionLog, DuplicateRequest, VerifyResult
from fengkong.store.engine_url import create, resolve_url
from fengkong.store.errors import STORE_ERRORS, StoreError, StoreOpenError, open_error_line, safe_url
from fengkong.store.labels import Labels
from fengkong.store.lists import Lists
from fengkong.store.users import ROLES, UserError, Users
from fengkong.store.versions import Routing, StoredVersion, VersionError, Versions, route_of


class Store:
    """Facade over the repositories of one database."""

    def __init__(self, url: str | None = None, migrate: bool = True, settings: Settings | None = None):
        from fengkong.store import migrate as _migrate

        self.url = resolve_url(url, settings=settings)
        #: The URL for messages (password hidden).
        self.name = safe_url(self.url)
        try:
            self.engine: Any = create(self.url)
            if migrate:
                _migrate.upgrade(self.engine)
            self.decisions = DecisionLog(self.engine, settings)
        except (*STORE_ERRORS, OSError) as exc:
            from fengkong.store.errors import StoreOpenError, open_failure

            raise StoreOpenError(self.name, exc, open_failure(self.url, exc)) from exc
        self.versions = Versions(self.engine)
        self.lists = Lists(self.engine)
        self.cases = Cases(self.engine)
        self.labels = Labels(self.engine)
        self.users = Users(self.engine)
        self.admin = AdminLog(self.engine)

    def close(self) -> None:
        self.decisions.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_store(url: str | None = None, settings: Settings | None = None) -> Store:
    """Open (and migrate) the store at ``url`` (default: $FENGKONG_DB or ./fengkong.db); the URL, audit key and
    checkpoint interval come from ``settings`` (default :func:`fengkong.settings.current`)."""
    return Store(url, settings=settings)


__all__ = [
    "ROLES",
    "STORE_ERRORS",
    "AdminLog",
    "Case",
    "CaseError",
    "Cases",
    "DecisionLog",
    "DuplicateRequest",
    "Labels",
    "Lists",
    "Routing",
    "Store",
    "StoreError",
    "StoreOpenError",
    "StoredVersion",
    "UserError",
    "Users",
    "VerifyResult",
    "VersionError",
    "Versions",
    "open_error_line",
    "open_store",
    "resolve_url",
    "route_of",
    "safe_url",
]
