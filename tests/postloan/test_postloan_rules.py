"""Rules on hand-made histories: splitting to evade entrusted payment, in-and-out within 24 h, the 90-day horizon,
loan money first, missing fields — online and offline alike."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from fengkong.events import EVENT_SCHEMA, TZ
from fengkong.features.providers import combined_kinds
from fengkong.postloan.alerts import TRANSFER_STRATEGY
from fengkong.postloan.provider import PostloanFeatures
from fengkong.postloan.tracing import FEATURE_KINDS, feature_frame
from fengkong.strategy.compiled import load_strategy

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=TZ)


def _disb(i: int, loan: str, fen: int, t: dt.datetime, card: str = "K1") -> dict:
    return {"event_id": f"D{i}", "event_type": "disbursement", "ts": t, "customer_id": "C1", "loan_id": loan,
            "amount_fen": fen, "term_months": 12, "payment_mode": "self", "card_token": card}


def _tr(i: int, t: dt.datetime, fen: int, ctype: str, cid: str, name: str | None = None, cat: str | None = None,
        card: str = "K1", direction: str = "out") -> dict:
    return {"event_id": f"T{i:03d}", "event_type": "transfer", "ts": t, "customer_id": "C1", "card_token": card,
            "direction": direction, "counterparty_id": cid, "counterparty_type": ctype, "counterparty_name": name,
            "counterparty_category": cat, "amount_fen": fen}


def _run(events: list[dict]) -> tuple[dict, dict]:
    """Online features and decisions per transfer, after checking the offline twin gives the same features."""
    frame = pl.DataFrame([{k: e.get(k) for k in EVENT_SCHEMA} for e in events], schema=EVENT_SCHEMA)
    off = {r["event_id"]: r for r in feature_frame(frame).iter_rows(named=True)}
    s = load_strategy(TRANSFER_STRATEGY, features=combined_kinds())
    p = PostloanFeatures()
    feats, dec = {}, {}
    for e in sorted(events, key=lambda e: (e["ts"], e["event_id"])):
        f = p.read_update(e)
        if e["event_type"] == "transfer":
            for k, kind in FEATURE_KINDS.items():  # floats are informative; the rules use integer fen and seconds
                o = off[e["event_id"]][k]
                assert (f[k] == o) if kind != "float" or f[k] is None or o is None else math.isclose(f[k], o), (k, e)
            feats[e["event_id"]], dec[e["event_id"]] = f, s.evaluate(e, f)
    return feats, dec


def test_splitting_to_one_payee_above_the_entrusted_threshold():
    ev = [_disb(1, "L1", 20_000_000, T0), _disb(2, "L2", 20_000_000, T0 + dt.timedelta(hours=1))]
    for k in range(4):  # 4 × 100 000 yuan to one company within 4 days: 400 000 > 300 000
        ev.append(_tr(k, T0 + dt.timedelta(days=k, hours=2), 10_000_000, "company", f"X{k}", name="某某装饰工程有限公司"))
    feats, dec = _run(ev)
    hits = [d.rules_hit for d in dec.values()]
    assert "PL_SPLITTING" not in hits[2] and "PL_SPLITTING" in hits[3]
    assert feats["T003"]["pl_same_payee_7d_cnt"] == 4 and feats["T003"]["pl_same_payee_7d_fen"] == 40_000_000


def test_in_out_24h_horizon_and_loan_money_first():
    ev = [_disb(1, "L1", 1_000_000, T0),
          _tr(1, T0 + dt.timedelta(hours=1), 500_000, "individual", "A1", cat="person"),
          _tr(2, T0 + dt.timedelta(hours=3), 400_000, "cash", "ATM"),  # 90 % out within 24 h
          _tr(3, T0 + dt.timedelta(days=2), 50_000, "individual", "A2", card="K1", direction="in"),  # own inflow
          _tr(4, T0 + dt.timedelta(days=3), 300_000, "financial", "S1", name="某某证券营业部"),  # 100 000 is loan money
          _tr(5, T0 + dt.timedelta(days=95), 100_000, "financial", "S2", name="某某期货有限公司")]  # beyond T+90
    feats, dec = _run(ev)
    assert "PL_IN_OUT_24H" not in dec["T001"].rules_hit and "PL_IN_OUT_24H" in dec["T002"].rules_hit
    assert feats["T004"]["pl_attributed_fen"] == 100_000 and "PL_PROHIBITED_T7" in dec["T004"].rules_hit
    assert not feats["T005"]["pl_traced"] and dec["T005"].outcome == "allow"
    assert dec["T003"].outcome == "allow" and feats["T003"]["pl_class"] == "PERSON"


def test_missing_fields_are_unknown_and_reported():
    ev = [_disb(1, "L1", 1_000_000, T0), _tr(1, T0 + dt.timedelta(hours=5), 200_000, "financial", "F1")]
    feats, dec = _run(ev)
    assert feats["T001"]["pl_class"] == "UNKNOWN" and dec["T001"].outcome == "allow"
    assert "PL_UNKNOWN_COUNTERPARTY" in dec["T001"].rules_hit
