"""DOMAIN.md §1.3 and Appendix A worked examples (0.01 percentage-point tolerance)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from fengkong.pricing import (
    Charge,
    Product,
    annualised_cost,
    apr_irr,
    build_schedule,
    daily_to_annual,
    solve_irr,
)

TOL = 0.0001  # 0.01 percentage point
START = dt.date(2026, 1, 15)


def cost(**kw):
    return annualised_cost(build_schedule(Product(principal_fen=1_000_000, start=START, **kw)))


@pytest.mark.parametrize(("n", "m", "simple", "apr", "ear"), [
    (3, "0.006", 0.1080, 0.1077, 0.1132),
    (6, "0.006", 0.1234, 0.1224, 0.1295),
    (12, "0.006", 0.1329, 0.1303, 0.1384),
    (24, "0.006", 0.1382, 0.1327, 0.1410),
    (12, "0.0072", 0.1595, 0.1558, 0.1674),
    (12, "0.0075", 0.1662, 0.1622, 0.1748),
])
def test_fee_per_period_on_original_principal(n, m, simple, apr, ear):
    c = cost(term=n, method="fee_per_period", fee_rate=D(m))
    assert c.apr_irr == pytest.approx(apr, abs=TOL)
    assert c.ear == pytest.approx(ear, abs=TOL)
    assert c.apr_simple == pytest.approx(simple, abs=TOL)
    assert c.nominal_flat_rate == pytest.approx(float(D(m)) * 12, abs=TOL)


def test_headline_13_03():
    assert round(apr_irr(10000, 12, "fee_per_period", fee_rate=0.006) * 100, 2) == 13.03


def test_total_fee_paid_up_front():
    c = cost(term=12, method="equal_principal", charges=(Charge("fee", timing="upfront", rate=D("0.072")),))
    assert c.apr_irr == pytest.approx(0.1402, abs=TOL)
    assert c.ear == pytest.approx(0.1496, abs=TOL)


@pytest.mark.parametrize(("n", "total", "apr"), [
    (3, "0.025", 0.1494), (6, "0.045", 0.1527), (9, "0.065", 0.1534), (12, "0.075", 0.1357), (12, "0.088", 0.1586),
])
def test_total_fee_spread_evenly(n, total, apr):
    assert cost(term=n, method="fee_total", total_fee_rate=D(total)).apr_irr == pytest.approx(apr, abs=TOL)


GUAR = Charge("guarantee", kind="guarantee_fee", payee="guarantor", rate=D("0.005"))


@pytest.mark.parametrize(("kw", "apr", "ear"), [
    ({"rate": D("0.12")}, 0.1200, 0.1268),
    ({"rate": D("0.12"), "upfront_fee_fen": 10_000}, 0.1391, 0.1484),
    ({"rate": D("0.12"), "charges": (GUAR,)}, 0.2253, 0.2501),
    ({"rate": D("0.18"), "charges": (GUAR,)}, 0.2836, 0.3235),
    ({"rate": D("0.2399")}, 0.2399, 0.2681),
    ({"rate": D("0.2399"), "charges": (Charge("membership", kind="membership", payee="membership",
                                              timing="upfront", amount_fen=50_000),)}, 0.3413, 0.4001),
])
def test_equal_installment_cost_stacking(kw, apr, ear):
    c = cost(term=12, method="equal_installment", **kw)
    assert c.apr_irr == pytest.approx(apr, abs=TOL)
    assert c.ear == pytest.approx(ear, abs=TOL)


def test_equal_installment_payment_888_49():
    s = build_schedule(Product(principal_fen=1_000_000, term=12, rate=D("0.12"), start=START))
    assert {p.total_fen for p in s.periods[:-1]} == {88_849}
    assert sum(p.principal_fen for p in s.periods) == 1_000_000


def test_interest_only_bullet():
    c = cost(term=12, method="interest_first", rate=D("0.12"))
    assert c.apr_irr == pytest.approx(0.12, abs=TOL)
    assert c.ear == pytest.approx(0.1268, abs=TOL)


def test_appendix_a_raw_flows():
    assert solve_irr([-10000] + [888.49] * 12) * 12 == pytest.approx(0.12, abs=TOL)
    pay = 10000 * (0.2399 / 12) / (1 - (1 + 0.2399 / 12) ** -12)
    assert solve_irr([-(10000 - 500)] + [pay] * 12) * 12 == pytest.approx(0.3413, abs=TOL)


def test_daily_rate_conversion_and_simple_method():
    assert daily_to_annual(0.0005) == pytest.approx(0.1825)
    assert daily_to_annual(0.0002) == pytest.approx(0.0730)
    c = cost(term=12, method="daily_rate", daily_rate=D("0.0005"))
    assert c.apr_simple == pytest.approx(0.1825, abs=1e-5)   # simple on actual days: exact up to fen rounding
    assert c.apr_irr == pytest.approx(0.1825, abs=0.001)      # XIRR monthly-equivalent × 12
    assert "XIRR" in c.convention


def test_breakdown_sums_to_headline_and_names_payees():
    c = cost(term=12, rate=D("0.18"), charges=(GUAR,))
    assert sum(i.annualised_contribution for i in c.items) == pytest.approx(c.apr_irr, abs=1e-12)
    payees = {i.name: i.payee for i in c.items}
    assert payees == {"interest": "lender", "guarantee": "guarantor"}
    interest = next(i for i in c.items if i.name == "interest")
    assert interest.standalone_apr == pytest.approx(0.18, abs=1e-5)
    assert c.total_cost_fen == sum(i.total_fen for i in c.items)
