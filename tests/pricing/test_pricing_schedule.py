"""Schedules: exact fen arithmetic, rounding, charges, early repayment, bad input, properties."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.pricing import (
    Charge,
    PricingError,
    Product,
    annualised_cost,
    build_schedule,
    prepay,
    product_from_mapping,
)
from fengkong.pricing.schedule import METHODS

START = dt.date(2026, 1, 31)


def test_principal_sums_and_last_absorbs_rounding():
    s = build_schedule(Product(principal_fen=1_000_001, term=3, method="equal_principal", start=START))
    assert [p.principal_fen for p in s.periods] == [333_333, 333_333, 333_335]
    s = build_schedule(Product(principal_fen=1_000_000, term=7, method="fee_total", total_fee_rate=D("0.05"),
                               start=START))
    fees = [p.fees["installment_fee"] for p in s.periods]
    assert sum(fees) == 50_000 and fees[:-1] == [7142] * 6 and fees[-1] == 50_000 - 7142 * 6


def test_due_dates_clamp_to_month_end():
    s = build_schedule(Product(principal_fen=100_000, term=3, start=START))
    assert [p.due_date for p in s.periods] == [dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]


def test_equal_principal_interest_on_outstanding():
    s = build_schedule(Product(principal_fen=1_200_000, term=12, method="equal_principal", rate=D("0.12"),
                               start=START))
    assert [p.interest_fen for p in s.periods[:3]] == [12_000, 11_000, 10_000]


def test_charge_timings_and_bases():
    charges = (
        Charge("ins", kind="insurance", payee="insurer", timing="per_period", basis="outstanding_principal",
               rate=D("0.001")),
        Charge("club", kind="membership", payee="membership", timing="upfront", amount_fen=1_990),
        Charge("exit", kind="service_fee", payee="platform", timing="end", amount_fen=500),
    )
    s = build_schedule(Product(principal_fen=600_000, term=6, method="equal_principal", charges=charges,
                               start=START))
    assert s.received_fen == 600_000 - 1_990
    assert [p.fees["ins"] for p in s.periods] == [600, 500, 400, 300, 200, 100]
    assert "exit" not in s.periods[0].fees and s.periods[-1].fees["exit"] == 500
    c = annualised_cost(s)
    assert {i.name: i.payee for i in c.items} == {"interest": "lender", "ins": "insurer", "club": "membership",
                                                  "exit": "platform"}


def test_prepayment_cuts_cost_and_charges_fee():
    s = build_schedule(Product(principal_fen=1_000_000, term=12, rate=D("0.18"), start=START))
    early = prepay(s, 6, fee_rate=0.01)
    assert len(early.periods) == 6
    assert sum(p.principal_fen for p in early.periods) == 1_000_000
    assert early.periods[-1].fees["prepayment_fee"] > 0
    assert early.total_cost_fen < s.total_cost_fen
    assert annualised_cost(early).apr_irr > 0.18  # the fee lifts the realised rate
    with pytest.raises(PricingError, match="after_period"):
        prepay(s, 12)


@pytest.mark.parametrize(("mapping", "field"), [
    ({"principal": -100, "term": 12}, "principal"),
    ({"principal": 0, "term": 12}, "principal"),
    ({"principal": 1000, "term": 0}, "term"),
    ({"principal": 1000, "term": 12, "method": "balloon"}, "method"),
    ({"principal": 1000, "term": 12, "rate": -0.1}, "rate"),
    ({"principal": 1000.001, "term": 12}, "principal"),
    ({"principal": 1000, "term": 12, "upfront_fee": 1000}, "upfront_fee"),
    ({"principal": 1000, "term": 12, "colour": "red"}, "colour"),
    ({"principal": 1000, "term": 12, "charges": [{"name": "x", "payee": "uncle", "rate": 0.01}]},
     "charges.x.payee"),
])
def test_bad_input_names_the_field(mapping, field):
    with pytest.raises(PricingError) as ei:
        build_schedule(product_from_mapping({"start": "2026-01-01", **mapping}))
    assert ei.value.field == field
    assert field in str(ei.value)


rates = st.decimals(min_value=D("0"), max_value=D("0.36"), places=4)


@settings(max_examples=40, deadline=None)
@given(rate=rates, term=st.integers(1, 36), principal=st.integers(10_000_00, 500_000_00))
def test_zero_fee_equal_installment_returns_contract_rate(rate, term, principal):
    c = annualised_cost(build_schedule(Product(principal_fen=principal, term=term, rate=rate, start=START)),
                        breakdown=False)
    # fen rounding moves the rate by at most a hair; 0.01 pp is the DOMAIN tolerance
    assert c.apr_irr == pytest.approx(float(rate), abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(method=st.sampled_from([m for m in METHODS if m != "daily_rate"]), rate=rates, term=st.integers(1, 36),
       fee=st.integers(1, 100_000), timing=st.sampled_from(["upfront", "per_period", "end"]))
def test_adding_a_positive_charge_never_lowers_the_rate(method, rate, term, fee, timing):
    base = Product(principal_fen=1_000_000, term=term, method=method, rate=rate, fee_rate=D("0.003"),
                   total_fee_rate=D("0.03"), start=START)
    more = Product(principal_fen=1_000_000, term=term, method=method, rate=rate, fee_rate=D("0.003"),
                   total_fee_rate=D("0.03"), start=START,
                   charges=(Charge("extra", timing=timing, amount_fen=fee),))
    a = annualised_cost(build_schedule(base), breakdown=False)
    b = annualised_cost(build_schedule(more), breakdown=False)
    assert b.apr_irr > a.apr_irr
    assert b.apr_simple > a.apr_simple


def _cfg(**money):
    import copy

    from fengkong.pricing.config import Config, _merge, load_config

    return Config(_merge(copy.deepcopy(load_config().data), {"money": money}), "test")


def test_rounding_mode_comes_from_configuration():
    # 100,100 fen at 6 % / 12 = 500.5 fen of interest: a tie that each mode settles differently
    p = Product(principal_fen=100_100, term=1, method="equal_principal", rate=D("0.06"), start=START)
    assert build_schedule(p).periods[0].interest_fen == 501                            # shipped: ROUND_HALF_UP
    assert build_schedule(p, _cfg(rounding="ROUND_HALF_EVEN")).periods[0].interest_fen == 500
    assert build_schedule(p, _cfg(rounding="ROUND_UP")).periods[0].interest_fen == 501
    p2 = replace(p, principal_fen=100_300)                                              # 501.5 fen
    assert build_schedule(p2, _cfg(rounding="ROUND_HALF_EVEN")).periods[0].interest_fen == 502
    assert build_schedule(p2, _cfg(rounding="ROUND_DOWN")).periods[0].interest_fen == 501
    with pytest.raises(PricingError) as ei:
        build_schedule(p, _cfg(rounding="ROUND_SOMETIMES"))
    assert ei.value.field == "money.rounding"


def test_day_count_basis_comes_from_configuration():
    # a daily-rate product quoted as an annual rate: daily = annual / basis
    p = Product(principal_fen=1_000_000, term=3, method="daily_rate", rate=D("0.1825"), start=dt.date(2026, 1, 10))
    first = build_schedule(p).periods[0]                                               # 31 days at 0.05 %
    assert first.interest_fen == 15_500
    assert build_schedule(p, _cfg(day_count_basis=360)).periods[0].interest_fen == round(1_000_000 * 0.1825 * 31 / 360)
    assert build_schedule(replace(p, day_basis=365), _cfg(day_count_basis=360)).periods[0].interest_fen == 15_500
    with pytest.raises(PricingError) as ei:
        build_schedule(p, _cfg(day_count_basis=364))
    assert ei.value.field == "money.day_count_basis"


def test_irregular_first_period_earns_interest_by_actual_days():
    # 10,000 yuan at 12 %, disbursed 2026-01-10, first due 2026-03-01: 50 days of interest, not one month
    p = Product(principal_fen=1_000_000, term=12, rate=D("0.12"), start=dt.date(2026, 1, 10),
                first_due=dt.date(2026, 3, 1))
    assert p.irregular_first
    s = build_schedule(p)
    first = s.periods[0]
    assert first.days == 50
    assert first.interest_fen == 16_438                                   # 1,000,000 × 0.12 × 50 / 365
    assert first.principal_fen == 88_849 - 10_000                         # the regular principal part
    assert {q.total_fen for q in s.periods[1:-1]} == {88_849}             # later installments unchanged
    assert sum(q.principal_fen for q in s.periods) == 1_000_000
    assert build_schedule(p, _cfg(day_count_basis=360)).periods[0].interest_fen == 16_667
    short = build_schedule(replace(p, first_due=dt.date(2026, 1, 25)))   # a short first period: 15 days
    assert short.periods[0].interest_fen == 4_932
    for method in ("equal_principal", "interest_first"):
        assert build_schedule(replace(p, method=method)).periods[0].interest_fen == 16_438
    # one calendar month (clamped to the month end) is a regular period
    assert not Product(principal_fen=1_000, term=2, start=START, first_due=dt.date(2026, 2, 28)).irregular_first
    c = annualised_cost(s)
    assert "XIRR" in c.convention and c.apr_simple == pytest.approx(0.12, abs=1e-3)
