"""Two loans' money on one account: one pot per loan, the stated draw order, online = offline, the chain's loan."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fengkong.postloan.alerts import decide_history, evidence_chain
from fengkong.postloan.config import TraceConfig
from fengkong.postloan.pots import ORDERS, draw
from fengkong.postloan.provider import PostloanFeatures
from fengkong.postloan.tracing import FEATURE_KINDS, feature_frame

T0 = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)


def _ev(i, day, kind, **kw):
    base = {"event_id": f"E{i:02d}", "event_type": kind, "ts": T0 + dt.timedelta(days=day), "customer_id": "C1",
            "loan_id": None, "payment_mode": None, "card_token": "CARD1", "direction": None, "counterparty_id": None,
            "counterparty_type": None, "counterparty_category": None, "counterparty_name": None,
            "payee_id": None, "contract_payee_id": None}
    return {**base, **kw}


def _world() -> pl.DataFrame:
    sec = {"counterparty_type": "merchant", "counterparty_category": "securities", "counterparty_name": "某某证券营业部"}
    rows = [_ev(1, 0, "disbursement", loan_id="L1", amount_fen=100_000, payment_mode="self"),
            _ev(2, 1, "transfer", direction="out", amount_fen=30_000, counterparty_id="M1",
                counterparty_type="merchant", counterparty_category="everyday_retail", counterparty_name="某某超市"),
            _ev(3, 10, "disbursement", loan_id="L2", amount_fen=50_000, payment_mode="self"),
            # 30 000 leaves with 70 000 of L1 and 50 000 of L2 on the account
            _ev(4, 11, "transfer", direction="out", amount_fen=30_000, counterparty_id="S1", **sec),
            # money of both loans moves to the borrower's second account, and some of it on to a broker
            _ev(5, 12, "transfer", direction="out", amount_fen=80_000, counterparty_id="ACC2",
                counterparty_type="own_account", counterparty_category="own_account"),
            _ev(6, 13, "transfer", direction="out", amount_fen=15_000, counterparty_id="S1", card_token="ACC2", **sec),
            # L1 is past T+90, L2 is not: only L2's money is traced
            _ev(7, 95, "transfer", direction="out", amount_fen=5_000, counterparty_id="S1", **sec)]
    return pl.DataFrame(rows, schema_overrides={"ts": pl.Datetime("us", "UTC"), "amount_fen": pl.Int64})


# what each order gives the securities outflow E04 (30 000 out of L1 70 000 and L2 50 000)
EXPECTED_E04 = {"newest_first": ("L2", 30_000), "oldest_first": ("L1", 30_000), "pro_rata": ("L1", 17_500)}


def test_draw_orders():
    assert draw([70_000, 50_000], 60_000, "newest_first") == [10_000, 50_000]
    assert draw([70_000, 50_000], 60_000, "oldest_first") == [60_000, 0]
    assert draw([70_000, 50_000], 60_000, "pro_rata") == [35_000, 25_000]
    assert draw([1, 1, 1], 2, "pro_rata") == [1, 1, 0]  # the rounding fen go to the older loans on a tie
    assert draw([10, 20], 100, "pro_rata") == [10, 20]  # the rest is the holder's own funds
    with pytest.raises(ValueError):
        draw([1], 1, "lifo")
    with pytest.raises(ValueError, match="pot_order"):
        TraceConfig(pot_order="lifo")


@pytest.mark.parametrize("order", ORDERS)
def test_two_loans_on_one_account_online_equals_offline(order):
    events = _world()
    cfg = TraceConfig(pot_order=order)
    off = {r["event_id"]: r for r in feature_frame(events, config=cfg).iter_rows(named=True)}
    online = PostloanFeatures(config=cfg)
    for ev in events.sort("ts", "event_id").iter_rows(named=True):
        f = online.read_update(ev)
        if ev["event_type"] == "transfer":
            assert {k: f[k] for k in FEATURE_KINDS} == {k: off[ev["event_id"]][k] for k in FEATURE_KINDS}, ev
    assert (off["E04"]["pl_loan_id"], off["E04"]["pl_attributed_fen"]) == EXPECTED_E04[order]
    assert off["E07"]["pl_loan_id"] == "L2" and off["E02"]["pl_loan_id"] == "L1"
    pots = {p["loan_id"]: p for p in online.pots_of("CARD1")}
    assert set(pots) == {"L1", "L2"} and pots["L1"]["credit_fen"] == 100_000  # neither pot replaced the other


@pytest.mark.parametrize("order", ORDERS)
def test_chain_names_the_loan_whose_money_it_follows(order, monkeypatch):
    import fengkong.postloan.tracing as tracing

    cfg = TraceConfig(pot_order=order)
    orig = tracing.trace
    monkeypatch.setattr(tracing, "trace", lambda ev, tax=None: orig(ev, tax, cfg))
    res = decide_history(_world())
    row = res.trace.filter(pl.col("event_id") == "E06").row(0, named=True)
    assert row["pl_hop"] == 2
    e05 = res.trace.filter(pl.col("event_id") == "E05").row(0, named=True)
    parts = {p["loan_id"]: p["fen"] for p in e05["loan_parts"]}
    assert set(parts) == {"L1", "L2"} and sum(parts.values()) == 80_000  # both loans' money moved in E05
    chain = evidence_chain(res, "E06")
    loan = row["pl_loan_id"]
    # newest first: E06 draws L2, whose money is the smaller part of E05 (reported under L1)
    assert order != "newest_first" or (loan == "L2" and e05["pl_loan_id"] == "L1")
    assert chain["loan_id"] == loan and chain["path"][0]["kind"] == "disbursement"
    assert chain["path"][0]["event_id"] == {"L1": "E01", "L2": "E03"}[loan]
    hop1 = next(s for s in chain["path"] if s["event_id"] == "E05")
    assert hop1["loan_money_fen"] == parts[loan]  # the hop shows this loan's part of the money, not the other's


def test_trace_of_a_loan_lists_its_parts_of_shared_outflows():
    from fengkong.postloan.alerts import loan_flows

    res = decide_history(_world())  # newest first: E05 moves 20 000 of L2 and 60 000 of L1
    flows = {loan: {f["event_id"]: f["loan_money_fen"] for f in loan_flows(res, loan)["flows"]} for loan in ("L1", "L2")}
    assert flows["L1"]["E05"] == 60_000 and flows["L2"]["E05"] == 20_000
    assert "E02" in flows["L1"] and "E02" not in flows["L2"]


def test_an_outflow_is_reported_under_the_pot_that_gave_most():
    from fengkong.postloan.pots import primary

    assert primary([10_000, 50_000]) == 1 and primary([30_000, 30_000]) == 0 and primary([0, 0]) == -1
