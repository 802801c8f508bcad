"""Organised-complaint detection holds while the simulator's complaint parameters vary; genuine ones protected."""

from __future__ import annotations

import pytest

from fengkong.complaints.evaluate import evaluate_world, render_table
from fengkong.simulate.config import SimConfig
from fengkong.simulate.world import simulate_world

VARIANTS = {
    "default": {},
    "paraphrased_rotated": {"complaint_paraphrase": 0.8, "complaint_rep_rotation": 4},
    "many_agents_slow_waves": {"complaint_agents": 8, "complaint_wave_spread_days": 30,
                               "genuine_rep_share": 0.4, "genuine_illness_share": 0.6},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_quality_bar_holds_across_complaint_parameters(tmp_path, name):
    cfg = SimConfig(customers=8000, seed=40417 + len(name), genuine_complaint_rate=0.02, **VARIANTS[name])
    simulate_world(tmp_path, cfg)
    r = evaluate_world(tmp_path)
    print(render_table(r))
    o = r["organised_complaint"]
    assert o["offline"]["recall"] >= 0.90 and o["offline"]["precision"] >= 0.90
    assert o["genuine"]["share"] < 0.03
    nm = o["not_me_to_identity_team"]
    assert nm["routed"] == nm["n"]


def test_complaint_strategy_never_rejects():
    import yaml

    from fengkong.complaints.provider import STRATEGY

    doc = yaml.safe_load(STRATEGY.read_text(encoding="utf-8"))
    actions = {r["action"] for n in doc["nodes"] for r in n.get("rules", [])}
    assert "reject" not in actions
    assert {o["outcome"] for o in doc["flow"]["outcome"]} == {"review"} and doc["fallback"] == "review"


def test_evaluate_names_the_missing_file(tmp_path):
    from fengkong.complaints.evaluate import EvaluationError

    with pytest.raises(EvaluationError, match=r"complaint\.parquet"):
        evaluate_world(tmp_path)
