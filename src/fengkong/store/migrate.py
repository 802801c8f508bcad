"""Run the store's Alembic migrations programmatically (shipped inside the package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fengkong.store.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).with_name("migrations")


def head() -> str:
    """The newest revision shipped in ``migrations/versions`` (one head; several is a packaging error)."""
    global _HEAD
    if _HEAD is None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        heads = ScriptDirectory.from_config(cfg).get_heads()
        if len(heads) != 1:
            raise RuntimeError(f"the store migrations have {len(heads)} heads ({', '.join(heads)}); chain them")
        _HEAD = heads[0]
    return _HEAD


_HEAD: str | None = None


def upgrade(engine: Any) -> None:
    """Bring the database to the newest schema (no-op when it is already there)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if inspect(conn).has_table(VERSION_TABLE):
            cur = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
            if cur == head():
                return
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
