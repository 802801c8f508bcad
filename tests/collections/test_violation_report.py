"""Every planted contact violation is found, with no false alarm, and the report names the agency."""

from __future__ import annotations

import polars as pl
import pytest

from fengkong.collections.evaluate import EvaluationError, evaluate_world
from fengkong.simulate.config import SimConfig
from fengkong.simulate.world import simulate_world


@pytest.mark.slow
def test_every_planted_violation_found(tmp_path):
    simulate_world(tmp_path, SimConfig(customers=6000, seed=5150, collection_agencies=4))
    res = evaluate_world(tmp_path)
    r = res["contact_violation"]
    assert res["collection_cure_score"]["auc"] > 0.55  # the shipped C-card on a world it never saw
    assert r["planted"] > 0 and r["missed"] == 0 and r["false_alarms"] == 0
    worst = max(r["by_agency"], key=lambda a: a["violations"])
    assert worst["agency_id"] == "AG04"
    lab = pl.read_parquet(tmp_path / "labels.parquet").filter(pl.col("pattern") == "contact_violation")
    assert set(lab["detail"].unique()) >= {"quiet_hours", "min_gap", "unregistered_number", "third_party"}


def test_missing_files_are_named(tmp_path):
    with pytest.raises(EvaluationError, match=r"collection_contact\.parquet"):
        evaluate_world(tmp_path)
