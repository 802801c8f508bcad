"""Choosing and opening the store database: ``--db URL`` / ``FENGKONG_DB`` / ./fengkong.db (SQLite, WAL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fengkong.settings import Settings, current

DEFAULT_FILE = "fengkong.db"


def resolve_url(url: str | None = None, settings: Settings | None = None) -> str:
    """The SQLAlchemy URL to use: explicit, else ``settings.db`` ($FENGKONG_DB), else a SQLite file in the
    working directory."""
    if url:
        return url
    configured = (settings or current()).db
    if configured:
        return configured
    return f"sqlite:///{Path.cwd() / DEFAULT_FILE}"


def create(url: str) -> Any:
    """A SQLAlchemy engine; SQLite gets WAL, synchronous=NORMAL and BEGIN IMMEDIATE transactions."""
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(eng, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(eng, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return eng
    return create_engine(url, pool_pre_ping=True)
