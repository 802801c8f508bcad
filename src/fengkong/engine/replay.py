"""Replaying a history through the online path: decide some event types, only update features for the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from fengkong.engine.decision import Decision


def event_dicts(frame: pl.DataFrame) -> Iterable[dict[str, Any]]:
    """Rows of a union-schema frame as event dicts holding only their own type's fields."""
    from fengkong.events import fields_of

    names = {}
    for row in frame.iter_rows(named=True):
        et = row["event_type"]
        keep = names.get(et)
        if keep is None:
            keep = names[et] = [f.name for f in fields_of(et)]
        yield {k: row[k] for k in keep}


def replay(frame: pl.DataFrame, engine: Any, decide_types: Iterable[str] = ("application",),
           features: Any = None, progress: Callable[[int], None] | None = None) -> list[Decision]:
    """Feed events in (ts, event_id) order: ``decide_types`` through ``engine.decide``; every other event
    only updates ``features`` (the engine's OnlineFeatures by default)."""
    features = features if features is not None else engine.features
    decide_set = set(decide_types)
    out: list[Decision] = []
    for i, ev in enumerate(event_dicts(frame.sort(["ts", "event_id"]))):
        if ev["event_type"] in decide_set:
            out.append(engine.decide(ev))
        elif features is not None:
            features.update(ev)
        if progress is not None and i % 5000 == 0:
            progress(i)
    return out
