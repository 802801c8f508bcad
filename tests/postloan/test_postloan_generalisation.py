"""The figures hold when the simulator's misuse changes: delay, hops, splitting, share moved, payee wording."""

from __future__ import annotations

import pytest
from pl_worlds import make_world

from fengkong.postloan.evaluate import evaluate_world

VARIANTS = {
    "same_day": {"fund_misuse_delay_days_min": 0, "fund_misuse_delay_days_max": 0},
    "late_t90": {"fund_misuse_delay_days_min": 31, "fund_misuse_delay_days_max": 80, "months": 4},
    "five_hops": {"fund_misuse_routed_share": 1.0, "fund_misuse_hops": 5},
    "split_in_8": {"fund_misuse_splits_max": 8},
    "small_share": {"fund_misuse_share_min": 0.05, "fund_misuse_share_max": 0.15},
    "other_names_no_category": {"fund_misuse_payee_names": "variant", "fund_misuse_category_known_share": 0.0},
    # splitting to evade entrusted payment: exactly three payments right after the drawdowns, or up to eight spread
    # over six days (the 7-day window of DOMAIN §3.3 item 4)
    "split_three_at_once": {"splitting_payments_min": 3, "splitting_payments_max": 3, "splitting_gap_hours_max": 2,
                            "splitting_days": 0},
    "split_eight_over_six_days": {"splitting_payments_min": 6, "splitting_payments_max": 8,
                                  "splitting_gap_hours_max": 71, "splitting_days": 3},
}
#: Variants known to miss a bar, run strictly as expected failures so a fix shows up. Late misuse with no splitting
#: customers (every customer with two cash loans into one account is a misuse candidate): each loan keeps its pot on
#: the account, but an outflow names one loan, and with the default newest-loan-first order an older loan's late
#: misuse is drawn from the newer loan's pot: SECURITIES 0.898 / 0.898 at seed 9001. Oldest first (0.959) and
#: pro rata (0.939) lose loan-to-repay-loan in other variants instead (docs/postloan.md §1 and Limits).
KNOWN_SHORT = {
    "late_t90_no_splitting": {**VARIANTS["late_t90"], "splitting_share": 0.0},
}
CASES = [*sorted(VARIANTS), *(pytest.param(n, marks=pytest.mark.xfail(strict=True, raises=AssertionError,
                                                                       reason="one loan per outflow, docs/postloan.md Limits"))
                              for n in sorted(KNOWN_SHORT))]


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_misuse_recall_and_precision_hold(tmp_path, name):
    world = make_world(tmp_path, customers=5000, seed=9001, fund_misuse_share=0.15, **{**VARIANTS, **KNOWN_SHORT}[name])
    r = evaluate_world(world)
    fm = r["fund_misuse"]
    assert fm["positives"] >= 150, fm
    assert fm["recall"] >= 0.95 and fm["precision"] >= 0.90, fm
    # the bars per destination class, once a class has 20 positives to measure (KNOWN_SHORT: where not)
    for key, v in r.items():
        if key.startswith("fund_misuse.") and v["positives"] >= 20:
            assert v["recall"] >= 0.95 and v["precision"] >= 0.90, (key, v)
        if key.startswith("fund_misuse.") and v["positives"] == 0:
            assert v["alerted"] == 0, (key, v)  # no destination class is alerted that was never planted
    l2r = r["loan_to_repay_loan.postloan"]
    assert l2r["recall"] >= 0.95 and l2r["precision"] >= 0.90, l2r
    sp = r["splitting"]
    assert sp["positives"] >= 20 and sp["recall"] >= 0.95 and sp["precision"] >= 0.90, sp
    g = r["postloan_good_loans"]
    assert g["by_rule"].get("PL_SPLITTING", 0) == 0, g  # several small purchases at one merchant do not alert
    assert g["alert_rate"] < 0.005 and g["destination_alerts_on_lookalikes"] == 0 and g["alerts_on_inflows"] == 0, g


def test_default_world_meets_the_targets(pl_world):
    r = evaluate_world(pl_world)
    # per-class targets once a class has enough positives to measure them (a 3 000-customer world is small)
    unmet = {k: t for k, t in r["postloan_targets"].items() if not t["met"] and t.get("positives", 99) >= 30}
    assert not unmet, unmet
    assert r["fund_misuse"]["recall"] >= 0.95 and r["fund_misuse"]["precision"] >= 0.90
    assert r["payee_mismatch"]["recall"] == 1.0 and r["payee_mismatch"]["precision"] == 1.0
