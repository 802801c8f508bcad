"""Run the store's Alembic migrations programmatically (shipped inside the package)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fengkong.store.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).with_name("migrations")


def head() -> str:
    """The newest revision shipped in ``migrations/versions`` (one head; several is a packaging error).

    Read from the scripts' ``revision``/``down_revision`` lines, without loading Alembic: every store
    open asks for it, and Alembic (with Mako and Pygments) costs a command-line call about 0.5 CPU-s.
    A test checks the answer against Alembic's own.
    """
    global _HEAD
    if _HEAD is None:
        revs: dict[str, str | None] = {}
        for f in sorted((MIGRATIONS / "versions").glob("[!_]*.py")):
            text = f.read_text(encoding="utf-8")
            rev, down = _REVISION.search(text), _DOWN.search(text)
            if rev is None or down is None:
                raise RuntimeError(f"store migration {f.name} has no revision/down_revision line")
            revs[rev.group(1)] = None if down.group(1) == "None" else down.group(1).strip("\"'")
        heads = sorted(set(revs) - {d for d in revs.values() if d is not None})
        if len(heads) != 1:
            raise RuntimeError(f"the store migrations have {len(heads)} heads ({', '.join(heads)}); chain them")
        _HEAD = heads[0]
    return _HEAD


_REVISION = re.compile(r"^revision\s*(?::\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(None|[\"'][^\"']+[\"'])", re.M)
_HEAD: str | None = None


def upgrade(engine: Any) -> None:
    """Bring the database to the newest schema (no-op when it is already there)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if inspect(conn).has_table(VERSION_TABLE):
            cur = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
            if cur == head():
                return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
