"""The IRR solvers: loud failures, no wrong roots, vectorised == scalar exactly on a sample."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.pricing import IRRError, annualised_cost, build_schedule, solve_irr
from fengkong.pricing.irr import npv, solve_irr_vector
from fengkong.pricing.vector import loans_apr, product_of_row


def test_no_sign_change_fails_loudly():
    with pytest.raises(IRRError, match="never change sign"):
        solve_irr([100, 10, 10])


def test_multiple_roots_are_refused():
    # (1.1 - x)(1.2 - x) style flows: -1, 2.3, -1.32 has IRRs 10 % and 20 %
    with pytest.raises(IRRError, match="several IRRs"):
        solve_irr([-1.0, 2.3, -1.32])


def test_root_is_a_root_even_for_huge_rates():
    flows = [-100.0, 1000.0]
    r = solve_irr(flows)
    assert r == pytest.approx(9.0)
    assert abs(npv(r, flows)) < 1e-9


def test_negative_rate():
    assert solve_irr([-100.0, 50.0, 40.0]) < 0


def test_vector_matches_scalar_rows():
    rng = np.random.default_rng(3)
    n, T = 300, 24
    flows = np.zeros((n, T + 1))
    flows[:, 0] = -rng.uniform(1000, 100000, n)
    terms = rng.integers(1, T + 1, n)
    for i in range(n):
        flows[i, 1:terms[i] + 1] = -flows[i, 0] * rng.uniform(0.02, 1.5) / terms[i]
    v = solve_irr_vector(flows)
    s = np.array([solve_irr(f[: terms[i] + 1].tolist()) for i, f in enumerate(flows)])
    np.testing.assert_allclose(v, s, rtol=0, atol=1e-12)


def test_vector_falls_back_to_scalar_for_unusual_rows():
    flows = np.array([[-100.0, 50.0, 60.0], [-1.0, 2.3, -1.32]])
    with pytest.raises(IRRError):
        solve_irr_vector(flows)


def test_loans_apr_vector_equals_scalar_schedule_exactly():
    rng = np.random.default_rng(7)
    N = 600
    methods = np.array(["equal_installment", "equal_principal", "interest_first", "fee_per_period", "fee_total",
                        "daily_rate"])
    df = pl.DataFrame({
        "loan_id": [f"L{i}" for i in range(N)],
        "ts": [dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)] * N,
        "amount_fen": rng.integers(100_00, 200_000_00, N),
        "term_months": rng.choice([3, 6, 12, 24, 36], N),
        "repayment_method": rng.choice(methods, N),
        "contract_rate": np.round(rng.uniform(0, 0.24, N), 4),
        "fee_rate": np.round(rng.uniform(0, 0.008, N), 4),
        "upfront_fee_fen": rng.integers(0, 2, N) * rng.integers(0, 5000, N),
        "guarantee_fee_rate": np.round(rng.uniform(0, 0.004, N), 4),
    })
    out = loans_apr(df)
    for row in out.iter_rows(named=True):
        c = annualised_cost(build_schedule(product_of_row(row)), breakdown=False)
        assert c.total_cost_fen == row["total_cost_fen"], row["loan_id"]
        assert abs(c.apr_irr - row["apr_irr"]) < 1e-10, row["loan_id"]


def test_vector_newton_converges_in_few_iterations_and_stays_converged():
    # a near-zero-cost loan: converged Newton steps must not be replaced by a bisection jump
    row = np.array([[-19_993_067.0] + [3_332_761.0] * 6 + [0.0] * 30])
    exact = solve_irr(row[0].tolist())
    for k in (3, 5, 12, 50):
        assert solve_irr_vector(row, max_iter=k)[0] == pytest.approx(exact, abs=1e-12)
    rng = np.random.default_rng(11)
    flows = np.zeros((200, 37))
    flows[:, 0] = -rng.uniform(1e5, 1e7, 200)
    flows[:, 1:13] = (-flows[:, :1] * rng.uniform(1.0, 1.3, (200, 1))) / 12
    want = np.array([solve_irr(f[:13].tolist()) for f in flows])
    np.testing.assert_allclose(solve_irr_vector(flows, max_iter=12), want, rtol=0, atol=1e-12)


def test_xirr_act_365():
    import datetime as dt

    from fengkong.pricing.irr import xirr

    d0 = dt.date(2026, 1, 1)
    assert xirr([-1000.0, 1100.0], [d0, d0 + dt.timedelta(days=365)]) == pytest.approx(0.10, abs=1e-12)
    with pytest.raises(IRRError):
        xirr([-1.0, 2.0], [d0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 5000, allow_nan=False), min_size=1, max_size=40), st.floats(100, 100_000))
def test_scalar_root_is_a_true_root_for_conventional_flows(payments, received):
    flows = [-received, *payments]
    if sum(payments) <= 0:
        with pytest.raises(IRRError):
            solve_irr(flows)
        return
    try:
        r = solve_irr(flows)
    except IRRError:
        # only when the root lies at or below the bracket's -99 % per period (almost nothing repaid)
        assert npv(-0.99, flows) <= 1e-9 * received
        return
    scale = received + sum(payments)
    assert abs(npv(r, flows)) <= 1e-7 * scale
    # unique: NPV has opposite signs just either side of the root
    assert npv(r - 1e-6, flows) * npv(r + 1e-6, flows) <= 0


def _flows_with_irrs(*rates: float) -> list[float]:
    """Flows whose NPV is -Π(1 - (1+r)v) in v = 1/(1+r): exactly these IRRs."""
    poly = np.array([-1.0])
    for r in rates:
        poly = np.convolve(poly, [1.0, -(1.0 + r)])   # coefficients in v, lowest power first
    return poly.tolist()


def test_two_roots_in_one_grid_cell_are_found_and_refused():
    flows = _flows_with_irrs(0.10, 0.1005, 0.30)   # [-1, 3.5005, -4.0712, 1.573715]
    with pytest.raises(IRRError, match="several IRRs") as ei:
        solve_irr(flows)
    assert all(s in str(ei.value) for s in ("10.000000%", "10.050000%", "30.000000%"))
    from fengkong.pricing.irr import count_irrs

    np.testing.assert_allclose(count_irrs(flows), [0.10, 0.1005, 0.30], atol=1e-8)
    with pytest.raises(IRRError, match="several IRRs"):   # the vectorised path hands such rows to the scalar one
        solve_irr_vector(np.array([[-100.0, 50.0, 60.0, 0.0], flows]))


def test_double_root_is_refused_not_reported_as_no_root():
    with pytest.raises(IRRError, match="double"):
        solve_irr([1.0, -2.2, 1.21])                  # (1 - 1.1 v)^2: one double IRR of 10 %


def test_several_sign_changes_with_one_real_root_returns_it():
    flows = [-1.0, 3.0, -3.3, 1.2]                    # three sign changes, one real IRR
    r = solve_irr(flows)
    assert abs(npv(r, flows)) < 1e-12
    assert r == pytest.approx(-0.2686805322752547, abs=1e-12)
    with pytest.raises(IRRError, match="no root"):
        solve_irr([1.0, -2.0, 1.5])                   # two sign changes, no real IRR


def test_dated_flows_with_several_roots_are_refused():
    # the same three-root polynomial on irregular times (XIRR-style): still found and refused
    flows = _flows_with_irrs(0.10, 0.1005, 0.30)
    with pytest.raises(IRRError, match="several IRRs"):
        solve_irr(flows, [0.0, 0.5, 1.25, 3.1])


def test_vector_never_returns_the_bracket_end_as_a_root():
    # almost nothing repaid: the IRR is below -99 % per period; the bracket end is not a root
    with pytest.raises(IRRError, match="out of range"):
        solve_irr_vector(np.array([[-100.0, 50.0, 60.0], [-100.0, 0.5, 0.0]]))


@pytest.mark.parametrize("mode", ["ROUND_HALF_EVEN", "ROUND_DOWN", "ROUND_UP", "ROUND_HALF_DOWN"])
def test_loans_apr_vector_equals_scalar_under_the_configured_rounding(mode):
    import copy

    from fengkong.pricing.config import Config, _merge, load_config

    cfg = Config(_merge(copy.deepcopy(load_config().data), {"money": {"rounding": mode}}), "test")
    rng = np.random.default_rng(13)
    N = 300
    starts = [dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 90, N)]
    df = pl.DataFrame({
        "loan_id": [f"L{i}" for i in range(N)],
        "ts": [dt.datetime.combine(d, dt.time(10), dt.timezone(dt.timedelta(hours=8))) for d in starts],
        "amount_fen": rng.integers(100_00, 200_000_00, N) | 1,   # odd amounts: ties in the last fen digit
        "term_months": rng.choice([3, 6, 12, 24], N),
        "repayment_method": rng.choice(["equal_installment", "equal_principal", "interest_first", "fee_per_period",
                                        "fee_total"], N),
        "contract_rate": np.round(rng.uniform(0, 0.24, N), 4),
        "fee_rate": np.round(rng.uniform(0, 0.008, N), 5),
        "guarantee_fee_rate": np.round(rng.uniform(0, 0.004, N), 5),
    })
    out = loans_apr(df, config=cfg)
    for row in out.iter_rows(named=True):
        c = annualised_cost(build_schedule(product_of_row(row), cfg), breakdown=False)
        assert c.total_cost_fen == row["total_cost_fen"], row["loan_id"]
        assert abs(c.apr_irr - row["apr_irr"]) < 1e-10, row["loan_id"]


def test_loans_apr_routes_first_due_dates_like_the_schedule():
    # month-end starts: a first due one calendar month later (clamped) is regular -> vectorised path;
    # any other first due date is an irregular first period -> exact path with interest by actual days
    from fengkong.pricing.schedule import add_months

    starts = [dt.date(2026, 1, 31), dt.date(2026, 1, 31), dt.date(2026, 1, 10), dt.date(2026, 1, 10)]
    dues = [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 2, 10), dt.date(2026, 2, 8)]
    df = pl.DataFrame({
        "loan_id": ["a", "b", "c", "d"],
        "ts": [dt.datetime.combine(d, dt.time(10), dt.timezone(dt.timedelta(hours=8))) for d in starts],
        "amount_fen": [1_000_000] * 4, "term_months": [12] * 4, "repayment_method": ["equal_installment"] * 4,
        "contract_rate": [0.12] * 4, "first_due_date": dues,
    })
    out = loans_apr(df)
    for row in out.iter_rows(named=True):
        p = product_of_row(row)
        assert p.irregular_first == (row["first_due_date"] != add_months(row["start"], 1))
        c = annualised_cost(build_schedule(p), breakdown=False)
        assert c.total_cost_fen == row["total_cost_fen"] and abs(c.apr_irr - row["apr_irr"]) < 1e-10
    assert out.filter(pl.col("loan_id") == "a")["apr_irr"][0] == pytest.approx(0.12, abs=1e-4)
