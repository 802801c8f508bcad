"""The complaints pack's feature provider (``Pack.features`` of ``fengkong/complaints/pack.py``).

``open_online(ctx)`` is a :class:`fengkong.complaints.state.ComplaintState`; ``backfill(events, ctx)`` its
offline twin: the same state folded over the events in time order (complaints are few, a replay is exact
and point-in-time by construction). Features are those of ``state.FEATURE_KINDS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from fengkong.complaints.state import FEATURE_KINDS as _KINDS
from fengkong.complaints.state import ComplaintState

#: The reference complaint strategy (routing, complaint_agent_score, reason codes).
STRATEGY = Path(__file__).parents[1] / "strategies" / "complaint.yaml"
FEATURE_KINDS: dict[str, str] = dict(_KINDS)
_FOLDED = ("complaint", "repayment", "collection_contact")


def open_online(ctx: Any) -> ComplaintState:
    """The online state; beside a SQLite feature state its events are logged and replayed (shared by processes)."""
    from fengkong.complaints.state import FIELDS
    from fengkong.features.eventlog import EventLog, log_path

    path = log_path(getattr(ctx, "state", "memory"), "complaints")
    st = ComplaintState(log=EventLog(path, "complaints", FIELDS) if path is not None else None)
    st._catch_up()
    return st


def ordered(events: pl.DataFrame, types: tuple[str, ...] = _FOLDED) -> pl.DataFrame:
    """The events of ``types`` in time order (ties: complaints last, so a same-instant contact counts)."""
    ev = events.filter(pl.col("event_type").is_in(list(types)))
    rank = pl.col("event_type").replace_strict({t: i for i, t in enumerate(reversed(types))}, default=9)
    return ev.with_columns(rank.alias("__r")).sort(["ts", "__r", "event_id"]).drop("__r")


def backfill(events: pl.DataFrame, ctx: Any) -> pl.DataFrame:
    """``event_id`` + every complaint feature of every complaint event, point-in-time."""
    st = ComplaintState()
    keep = [c for c in ("event_id", "event_type", "ts", "customer_id", "loan_id", "text", "rep_phone_token",
                        "rep_name_token", "doc_issuer_id", "demands", "dpd", "paid_fen") if c in events.columns]
    ids, rows = [], []
    for ev in ordered(events).select(keep).iter_rows(named=True):
        f = st.read_update(ev)
        if ev["event_type"] == "complaint":
            ids.append(ev["event_id"])
            rows.append(f)
    schema = {"event_id": pl.Utf8, **{k: {"int": pl.Int64, "float": pl.Float64, "str": pl.Utf8}[v]
                                      for k, v in FEATURE_KINDS.items()}}
    return pl.DataFrame({"event_id": ids, **{k: [r[k] for r in rows] for k in FEATURE_KINDS}}, schema=schema)
