"""The collections pack's feature provider (``Pack.features`` of ``fengkong/collections/pack.py``).

For a ``collection_contact`` event: ``cc_breaches`` (the reason codes of the contact policy the attempt
would break, :mod:`fengkong.collections.policy`), ``cc_breach_count`` and, for the collection score, the
loan's repayment behaviour (``cc_dpd``, ``cc_late_payments``, ``cc_paid_installments``,
``cc_promises_30d``, ``cc_connected_7d``). Complaints on the loan pause it, a "not me" complaint freezes it in
the same event; registered caller numbers and listed agencies come from the store lists
``collector_number`` (``collector|token``) and ``collection_agency``, frozen loans from ``collection_freeze``.
``backfill`` replays the same state in time order (the offline twin).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.collections.policy import ContactState, Registry

STRATEGY = Path(__file__).parents[1] / "strategies" / "collection_contact.yaml"
FREEZE_LIST = "collection_freeze"
FOLDED = frozenset({"complaint", "repayment", "collection_contact"})
#: The fields the provider reads (all it logs).
FIELDS = ("customer_id", "loan_id", "channel", "target", "target_relation", "target_token", "collector_id",
          "agency_id", "caller_number_token", "collectors_present", "outcome", "claims_not_me", "demands", "dpd",
          "paid_fen")
FEATURE_KINDS: dict[str, str] = {
    "cc_breaches": "list", "cc_breach_count": "int", "cc_dpd": "int", "cc_late_payments": "int",
    "cc_paid_installments": "int", "cc_promises_30d": "int", "cc_connected_7d": "int",
    "cc_days_in_collections": "float",
}


class CollectionFeatures:
    """Online provider: the contact policy state plus per-loan repayment behaviour."""

    def __init__(self, registry: Registry | None = None, frozen: Any = (), mode: str = "enforce",
                 log: Any = None) -> None:
        """``log``: a :class:`fengkong.features.eventlog.EventLog` shared with other processes (or None)."""
        self.log = log
        self._reading: str | None = None
        self.policy = ContactState(registry, mode=mode, frozen=frozen)
        self.loans: dict[str, list[int]] = {}  # loan → [dpd, late payments, paid installments]
        self.promises: dict[str, deque[dt.datetime]] = {}
        self.since: dict[str, dt.datetime] = {}  # loan → first unpaid DPD ≥ 1 status of the current arrears

    def catch_up(self) -> None:
        if self.log is not None:
            for ev in self.log.pending():
                self._apply(ev)

    def read(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if event.get("event_type") != "collection_contact":
            return {}
        self.catch_up()
        self._reading = event.get("event_id")
        b = self.policy.read(event)
        loan = self.loans.get(event.get("loan_id") or "", [0, 0, 0])
        ts = event.get("ts")
        prom = self.promises.get(event.get("loan_id") or "", ())
        d = self.policy.debtors.get(event.get("customer_id") or "")
        week = ts - dt.timedelta(days=7) if isinstance(ts, dt.datetime) else None
        return {"cc_breaches": b, "cc_breach_count": len(b), "cc_dpd": loan[0], "cc_late_payments": loan[1],
                "cc_paid_installments": loan[2],
                "cc_promises_30d": sum(1 for t in prom if week is not None and t > ts - dt.timedelta(days=30)),
                "cc_connected_7d": sum(1 for t in d.connected if week is not None and t > week) if d else 0,
                "cc_days_in_collections": ((ts - self.since[event["loan_id"]]).total_seconds() / 86_400
                                           if week is not None and event.get("loan_id") in self.since else None)}

    def update(self, event: Mapping[str, Any]) -> None:
        if event.get("event_type") not in FOLDED:
            return
        if self.log is not None:
            if self._reading != event.get("event_id"):
                self.catch_up()
            self._reading = None
            if not self.log.append(event):
                return  # folded before (this process or another): a re-delivery
        self._apply(event)

    def _apply(self, event: Mapping[str, Any]) -> None:
        self.policy.update(event)
        et, loan = event.get("event_type"), event.get("loan_id")
        if et == "repayment" and loan:
            s = self.loans.setdefault(loan, [0, 0, 0])
            dpd = event.get("dpd") or 0
            if (event.get("paid_fen") or 0) > 0:
                s[2] += 1
                s[1] += int(dpd > 0)
                s[0] = 0
                self.since.pop(loan, None)
            else:
                s[0] = max(s[0], dpd)
                if dpd >= 1 and isinstance(event.get("ts"), dt.datetime):
                    self.since.setdefault(loan, event["ts"])
        elif et == "collection_contact" and loan and event.get("outcome") in ("promise_to_pay", "plan_agreed"):
            self.promises.setdefault(loan, deque()).append(event["ts"])

    def read_update(self, event: Mapping[str, Any]) -> dict[str, Any]:
        out = self.read(event)
        self.update(event)
        return out

    def close(self) -> None:
        if self.log is not None:
            self.log.close()


def _snapshot(db: str | None) -> dict[str, frozenset[str]]:
    if not db:
        return {}
    from fengkong.store import open_store

    st = open_store(db)
    try:
        return st.lists.snapshot()
    finally:
        st.close()


def open_online(ctx: Any, registry: Registry | None = None) -> CollectionFeatures:
    """The provider for ``ctx``: registry and frozen loans from the store's lists (none without a store)."""
    from fengkong.features.eventlog import EventLog, log_path

    snap = _snapshot(getattr(ctx, "db", None))
    reg = registry if registry is not None else (Registry.from_lists(snap) if snap.get("collector_number") else None)
    path = log_path(getattr(ctx, "state", "memory"), "collections")
    cf = CollectionFeatures(reg, frozen=snap.get(FREEZE_LIST, ()),
                            log=EventLog(path, "collections", FIELDS) if path is not None else None)
    cf.catch_up()
    return cf


def ordered(events: pl.DataFrame) -> pl.DataFrame:
    """Complaints, repayments and contacts in time order (ties: complaints, then repayments, then contacts)."""
    ev = events.filter(pl.col("event_type").is_in(["complaint", "repayment", "collection_contact"]))
    rank = pl.col("event_type").replace_strict({"complaint": 0, "repayment": 1}, default=2)
    return ev.with_columns(rank.alias("__r")).sort(["ts", "__r", "event_id"]).drop("__r")


def replay(events: pl.DataFrame, feats: CollectionFeatures) -> pl.DataFrame:
    """Fold ``events`` in time order through ``feats``; ``event_id`` + features of every contact."""
    keep = [c for c in ("event_id", "event_type", "ts", *FIELDS) if c in events.columns]
    ids, rows = [], []
    for ev in ordered(events).select(keep).iter_rows(named=True):
        f = feats.read_update(ev)
        if ev["event_type"] == "collection_contact":
            ids.append(ev["event_id"])
            rows.append(f)
    schema = {"event_id": pl.Utf8, "cc_breaches": pl.List(pl.Utf8), "cc_breach_count": pl.Int64, "cc_dpd": pl.Int64,
              "cc_late_payments": pl.Int64, "cc_paid_installments": pl.Int64, "cc_promises_30d": pl.Int64,
              "cc_connected_7d": pl.Int64, "cc_days_in_collections": pl.Float64}
    return pl.DataFrame({"event_id": ids, **{k: [r[k] for r in rows] for k in schema if k != "event_id"}},
                        schema=schema)


def backfill(events: pl.DataFrame, ctx: Any) -> pl.DataFrame:
    """``event_id`` + every collections feature of every contact event, point-in-time (a fresh in-memory
    state: the registry and frozen loans from the store's lists, never the online event log)."""
    snap = _snapshot(getattr(ctx, "db", None))
    reg = Registry.from_lists(snap) if snap.get("collector_number") else None
    return replay(events, CollectionFeatures(reg, frozen=snap.get(FREEZE_LIST, ())))
