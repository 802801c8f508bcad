"""Run the store's Alembic migrations programmatically (shipped inside the package)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from fengkong.store.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).with_name("migrations")


def head() -> str:
    """The newest revision shipped in ``migrations/versions`` (one head; several is a packaging error).

    Read from the scripts' top-level ``revision`` / ``down_revision`` assignments (the last of each, as
    Alembic sees them once the module ran; a merge revision names a tuple), without loading Alembic: every
    store open asks for it, and Alembic (with Mako and Pygments) costs a command-line call about 0.5 CPU-s.
    A test checks the answer against Alembic's own, merge revisions included.
    """
    global _HEAD
    if _HEAD is None:
        revs: dict[str, tuple[str, ...]] = {}
        for f in sorted((MIGRATIONS / "versions").glob("*.py")):
            if f.name == "__init__.py" or f.name.startswith(".#"):
                continue
            rev, down = _revision_of(f)
            revs[rev] = down
        named = {d for downs in revs.values() for d in downs}
        heads = sorted(set(revs) - named)
        if len(heads) != 1:
            raise RuntimeError(f"the store migrations have {len(heads)} heads ({', '.join(heads)}); chain them")
        _HEAD = heads[0]
    return _HEAD


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]]:
    """(revision, the revisions it follows) from one migration script's top-level assignments."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for t in targets:
            if isinstance(t, ast.Name) and t.id in ("revision", "down_revision"):
                try:
                    found[t.id] = ast.literal_eval(value)
                except ValueError:
                    raise RuntimeError(f"store migration {path.name}: {t.id} is not a literal") from None
    rev, down = found.get("revision"), found.get("down_revision", ...)
    if not isinstance(rev, str) or down is ...:
        raise RuntimeError(f"store migration {path.name} has no revision/down_revision assignment")
    downs = (() if down is None else (down,) if isinstance(down, str)
             else tuple(down) if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down) else None)
    if downs is None:
        raise RuntimeError(f"store migration {path.name}: down_revision {down!r} is not a revision or a tuple of them")
    return rev, downs


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
