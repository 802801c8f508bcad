"""Block / allow / watch lists with reason, source and expiry; snapshots feed ``in_list`` in strategies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update

from fengkong.store.schema import lists

KINDS = ("block", "allow", "watch")


@dataclass
class ListEntry:
    id: int
    list_name: str
    kind: str
    value: str
    reason: str | None
    source: str | None
    created_at: str
    expires_at: str | None


def _iso(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        raise ValueError("list timestamps must be timezone-aware")
    return t.astimezone(dt.UTC).isoformat()


class Lists:
    """Repository of list entries. Values are tokens (never plaintext identity data)."""

    def __init__(self, engine: Any):
        self.engine = engine

    def add(self, list_name: str, value: str, kind: str = "block", reason: str | None = None,
            source: str | None = None, expires_at: dt.datetime | None = None) -> int:
        if kind not in KINDS:
            raise ValueError(f"list kind must be one of {', '.join(KINDS)}")
        with self.engine.begin() as conn:
            res = conn.execute(lists.insert().values(
                list_name=list_name, kind=kind, value=value, reason=reason, source=source,
                created_at=_iso(dt.datetime.now(dt.UTC)), expires_at=_iso(expires_at)))
            return int(res.inserted_primary_key[0])

    def remove(self, list_name: str, value: str) -> int:
        with self.engine.begin() as conn:
            res = conn.execute(update(lists).where(lists.c.list_name == list_name, lists.c.value == value,
                                                   lists.c.removed_at.is_(None))
                               .values(removed_at=_iso(dt.datetime.now(dt.UTC))))
            return res.rowcount

    def entries(self, list_name: str | None = None, at: dt.datetime | None = None) -> list[ListEntry]:
        now = _iso(at or dt.datetime.now(dt.UTC))
        q = select(lists).where(lists.c.removed_at.is_(None),
                                or_(lists.c.expires_at.is_(None), lists.c.expires_at > now),
                                lists.c.created_at <= now)
        if list_name:
            q = q.where(and_(lists.c.list_name == list_name))
        with self.engine.connect() as conn:
            rs = conn.execute(q.order_by(lists.c.id)).mappings().all()
        return [ListEntry(r["id"], r["list_name"], r["kind"], r["value"], r["reason"], r["source"],
                          r["created_at"], r["expires_at"]) for r in rs]

    def snapshot(self, at: dt.datetime | None = None) -> dict[str, frozenset[str]]:
        """Active, unexpired values per list name (what ``in_list`` sees)."""
        out: dict[str, set[str]] = {}
        for e in self.entries(at=at):
            out.setdefault(e.list_name, set()).add(e.value)
        return {k: frozenset(v) for k, v in out.items()}
