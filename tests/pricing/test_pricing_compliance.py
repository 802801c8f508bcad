"""Caps, the per-loan check, the portfolio monitor (average, drivers, projection, what-if), risk pricing."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

import polars as pl
import pytest

from fengkong.pricing import (
    Charge,
    PricingError,
    Product,
    annualised_cost,
    build_schedule,
    check_offer,
    pricing_cap,
    quote,
    risk_price,
    risk_price_rate,
)
from fengkong.pricing.compliance import monitor
from fengkong.pricing.config import load_config

SH = dt.timezone(dt.timedelta(hours=8))


def test_caps_by_lender_channel_and_date(tmp_path):
    assert pricing_cap(dt.date(2025, 10, 1), "bank", "zhudai").rule_id in ("zhudai_24", "licensed_judicial_24")
    assert pricing_cap(dt.date(2025, 10, 1), "bank", "zhudai").limit == pytest.approx(0.24)
    # private lending: 4 x one-year LPR in force on the contract date (3.0 % -> 12 %)
    assert pricing_cap(dt.date(2026, 2, 1), "private", "own").limit == pytest.approx(0.12)
    assert pricing_cap(dt.date(2021, 1, 1), "private", "own").limit == pytest.approx(4 * 0.0385)
    assert pricing_cap(dt.date(2028, 6, 1), "micro_loan", "own").rule_id == "micro_loan_4lpr"
    cf = pricing_cap(dt.date(2026, 5, 1), "consumer_finance", "own")
    assert [r["id"] for r in cf.portfolio_rules] == ["consumer_finance_avg_20"]
    with pytest.raises(PricingError) as ei:
        pricing_cap(dt.date(2010, 1, 1), "bank", "own")
    assert ei.value.field == "date"
    # configuration override: a stricter zhudai cap
    over = tmp_path / "o.yaml"
    over.write_text("caps:\n  - {id: strict, lender_types: [bank], channels: [zhudai], metric: per_loan, limit: 0.18,"
                    " from: 2025-01-01, to: null, status: proposal}\n", encoding="utf-8")
    assert pricing_cap(dt.date(2026, 1, 1), "bank", "zhudai", load_config(over)).limit == pytest.approx(0.18)


def test_check_blocks_18pct_plus_guarantee_with_evidence():
    s = build_schedule(Product(principal_fen=1_000_000, term=12, rate=D("0.18"), start=dt.date(2026, 1, 5),
                               charges=(Charge("guarantee", kind="guarantee_fee", payee="guarantor",
                                               rate=D("0.005")),)))
    chk = check_offer(annualised_cost(s), dt.date(2026, 1, 5), "bank", "zhudai")
    assert not chk.allowed and chk.reason == "PRICE_ABOVE_CAP"
    assert chk.apr_irr == pytest.approx(0.2836, abs=1e-4)
    assert {e["item"]: e["payee"] for e in chk.evidence} == {"interest": "lender", "guarantee": "guarantor"}


def test_23_99_is_not_flagged_and_exact_24_passes():
    for rate in ("0.2399", "0.24"):
        s = build_schedule(Product(principal_fen=4_500_000, term=12, rate=D(rate), start=dt.date(2026, 1, 8)))
        assert check_offer(annualised_cost(s), dt.date(2026, 1, 8), "consumer_finance", "own").allowed


def _loans(rates, amounts, days, lender="consumer_finance"):
    n = len(rates)
    return pl.DataFrame({
        "event_id": [f"e{i}" for i in range(n)], "loan_id": [f"L{i}" for i in range(n)],
        "ts": [dt.datetime.combine(d, dt.time(10), SH) for d in days],
        "amount_fen": amounts, "term_months": [12] * n, "repayment_method": ["equal_installment"] * n,
        "contract_rate": rates, "lender_type": [lender] * n, "channel": ["own"] * n,
    })


def test_monitor_weighted_average_projection_and_what_if():
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(40)]
    rates = [0.18 if i % 2 else 0.24 for i in range(40)]
    amounts = [1_000_000 if i % 2 else 3_000_000 for i in range(40)]
    rep = monitor(_loans(rates, amounts, days), "2026Q1", as_of=dt.date(2026, 2, 9), what_if_cap=0.195)
    r = rep.rules[0]
    assert r.rule_id == "consumer_finance_avg_20" and r.in_transition
    assert r.weighted_apr == pytest.approx((0.18 * 1 + 0.24 * 3) / 4, abs=1e-4)
    assert r.excess > 0
    assert r.projected_apr == pytest.approx(r.weighted_apr, abs=1e-4)   # same mix continues
    assert r.projected_whatif_apr < r.projected_apr
    assert r.remaining_days == (dt.date(2026, 4, 1) - dt.date(2026, 2, 9)).days - 1
    # at the required rest average the quarter ends exactly on the limit
    add = r.recent_daily_principal_fen * r.remaining_days
    end = (r.weighted_apr * r.principal_fen + r.required_rest_apr * add) / (r.principal_fen + add)
    assert end == pytest.approx(0.20, abs=1e-9)
    assert r.drivers[0]["apr_irr"] == pytest.approx(0.24, abs=1e-4)
    assert rep.breaches.height == 0


def test_monitor_bad_input_names_the_field():
    df = _loans([0.1], [100_000], [dt.date(2026, 1, 2)])
    with pytest.raises(PricingError) as ei:
        monitor(df.with_columns(pl.lit("pawnshop").alias("lender_type")), "2026Q1")
    assert ei.value.field == "lender_type"
    with pytest.raises(PricingError) as ei:
        monitor(df, "2026Q5")
    assert ei.value.field == "quarter"
    with pytest.raises(PricingError) as ei:
        monitor(df.with_columns(pl.lit(-5).alias("amount_fen")), "2026Q1")
    assert ei.value.field == "amount_fen"
    with pytest.raises(PricingError) as ei:
        monitor(df, "2026Q1", as_of=dt.date(2026, 5, 1))
    assert ei.value.field == "as_of"


def test_risk_price_monotone_in_pd_and_declines_above_cap():
    rates = [risk_price_rate(pd, start="2026-01-10") for pd in (0.005, 0.02, 0.05, 0.08)]
    assert all(a < b for a, b in itertools.pairwise(rates))
    assert risk_price(0.5, start="2026-01-10") == "decline: PRICE_ABOVE_CAP"
    assert risk_price_rate(0.5, start="2026-01-10") is None
    p = Product(principal_fen=1_000_000, term=12, method="fee_per_period", fee_rate=D("0.003"),
                start=dt.date(2026, 1, 10))
    q = quote(0.03, product=p)
    assert q.decision == "price"
    assert q.apr_irr == pytest.approx(q.required_apr, abs=1e-6)  # fee structure accounted for
    q2 = quote(0.3, product=p)
    assert q2.decision == "decline" and q2.reason == "PRICE_ABOVE_CAP" and q2.required_apr > q2.cap
    with pytest.raises(PricingError) as ei:
        quote(1.5, product=p)
    assert ei.value.field == "pd"


def test_report_transition_sentence_follows_the_configuration(tmp_path):
    import copy

    from fengkong.pricing.config import Config, _merge
    from fengkong.pricing.report import compliance_html

    caps = copy.deepcopy(load_config().data["caps"])
    for c in caps:
        if c["id"] == "consumer_finance_avg_20":
            c.update({"transition_from": "2025-12-15", "from": "2026-07-01"})
    cfg = Config(_merge(copy.deepcopy(load_config().data), {"caps": caps}), "test")
    days = [dt.date(2026, 4, 1) + dt.timedelta(days=i) for i in range(10)]
    rep = monitor(_loans([0.21] * 10, [1_000_000] * 10, days), "2026Q2", config=cfg)
    assert rep.rules[0].in_transition
    out = tmp_path / "c.html"
    compliance_html(rep, out)
    text = out.read_text(encoding="utf-8")
    assert "transition from 2025-12-15" in text and "within the limit by 2026-06-30" in text
    assert "Q1 2026" not in text


def test_quarter_before_every_rule_names_the_quarter():
    with pytest.raises(PricingError) as ei:
        monitor(_loans([0.1], [100_000], [dt.date(2026, 1, 2)]), "2010Q1")
    assert ei.value.field == "quarter"


def test_report_says_when_no_loan_breaches_its_cap(tmp_path):
    from fengkong.pricing.report import compliance_html

    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    rep = monitor(_loans([0.15] * 10, [1_000_000] * 10, days), "2026Q1")
    assert rep.breaches.height == 0
    compliance_html(rep, tmp_path / "c.html")
    assert "No loan of the quarter is above the per-loan cap" in (tmp_path / "c.html").read_text(encoding="utf-8")
