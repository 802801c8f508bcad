"""Parity check: offline backfill vs online incremental replay of the same events, value for value."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from fengkong.errors import InputError
from fengkong.features.spec import FeatureSet


@dataclass
class Mismatch:
    event_id: str
    feature: str
    offline: Any
    online: Any

    def __str__(self) -> str:
        return f"event {self.event_id} feature {self.feature}: offline={self.offline!r} online={self.online!r}"


@dataclass
class ParityReport:
    events: int
    features: int
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        return (f"checked {self.events} events x {self.features} features: "
                f"{len(self.mismatches)} mismatches")


def same(a: Any, b: Any) -> bool:
    """Exact equality, nulls equal; ints and floats compare by value (1 == 1.0)."""
    if a is None or b is None:
        return a is None and b is None
    return a == b


def compare(offline: pl.DataFrame, online: dict[str, dict], fs: FeatureSet) -> list[Mismatch]:
    """Every (event, feature) where the offline row and the online dict differ."""
    out: list[Mismatch] = []
    for row in offline.iter_rows(named=True):
        eid = row["event_id"]
        on = online.get(eid)
        if on is None:
            out.append(Mismatch(eid, "*", "row", None))
            continue
        for n in fs.names:
            if not same(row[n], on.get(n)):
                out.append(Mismatch(eid, n, row[n], on.get(n)))
    return out


def replay(events: pl.DataFrame, fs: FeatureSet, store: Any,
           tick: Callable[[int], None] | None = None) -> dict[str, dict]:
    """Feed events online in (ts, event_id) order through ``read_update``; values by event id."""
    from fengkong.features.online import OnlineFeatures

    of = OnlineFeatures(fs, store)
    out: dict[str, dict] = {}
    rows: Iterable[dict] = events.sort(["ts", "event_id"]).iter_rows(named=True)
    for k, e in enumerate(rows, 1):
        out[e["event_id"]] = of.read_update(e)
        if tick is not None and k % 1000 == 0:
            tick(1000)
    return out


def check(events: pl.DataFrame, fs: FeatureSet, store: Any,
          tick: Callable[[int], None] | None = None) -> ParityReport:
    """Backfill offline, replay online, compare every value."""
    from fengkong.features.offline import backfill

    off = backfill(events, fs)
    on = replay(events, fs, store, tick)
    return ParityReport(events=events.height, features=len(fs), mismatches=compare(off, on, fs))


class StoreKindError(InputError, ValueError):
    """The online store named for a parity replay is not one fengkong has."""


STORE_KINDS = ("memory", "sqlite", "redis")


def check_with_store(events: pl.DataFrame, fs: FeatureSet, store: str = "memory", store_url: str | None = None,
                     tick: Callable[[int], None] | None = None) -> ParityReport:
    """:func:`check` against a fresh online store of kind ``store`` (``fengkong features check``): memory,
    sqlite (``store_url`` a path; default a temporary file) or redis (``store_url``; keys under a fresh
    prefix, removed afterwards)."""
    import tempfile
    import uuid
    from pathlib import Path

    from fengkong.features.store_redis import RedisStore
    from fengkong.features.store_sqlite import SQLiteStore
    from fengkong.features.stores import MemoryStore

    if store not in STORE_KINDS:
        raise StoreKindError(f"--store {store!r} is not memory, sqlite or redis")
    with tempfile.TemporaryDirectory() as tmp:
        if store == "memory":
            st: Any = MemoryStore()
        elif store == "sqlite":
            st = SQLiteStore(store_url or str(Path(tmp) / "state.db"))
        else:
            st = RedisStore(store_url or "redis://127.0.0.1:6379/0", prefix=f"fkcheck:{uuid.uuid4().hex[:8]}:")
        try:
            return check(events, fs, st, tick)
        finally:
            if isinstance(st, RedisStore):
                st.clear()
            st.close()
