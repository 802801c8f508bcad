"""Application scorecard on a small simulated world with point-in-time features."""

from __future__ import annotations

import polars as pl
import pytest

from fengkong.modeling.world import application_sample, train_application_scorecard


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from fengkong.events.files import read_world
    from fengkong.features.offline import backfill
    from fengkong.features.spec import load_features
    from fengkong.simulate.config import SimConfig
    from fengkong.simulate.world import simulate_world

    d = tmp_path_factory.mktemp("world")
    simulate_world(d, SimConfig(customers=2500, months=3, seed=11))
    events = read_world(d)
    return d, backfill(events, load_features())


def test_sample_is_observed_month_1_2_applications(world):
    d, feats = world
    s = application_sample(d, feats)
    out = pl.read_parquet(d / "outcomes.parquet")
    observed = out.filter(pl.col("observed") & pl.col("loan_id").is_not_null())
    assert set(s["event_id"]) <= set(observed["application_id"])
    assert set(s["month"].unique()) <= {1, 2}
    assert s["bad"].sum() == observed.filter(pl.col("application_id").is_in(s["event_id"].implode()))["bad"].sum()


def test_train_application_scorecard(world):
    d, feats = world
    sc, m = train_application_scorecard(d, feats)
    assert sc.features_ and m["test"]["n"] > 100
    assert m["test"]["auc"] > 0.6  # velocity / network features carry signal in the simulated world
    with pytest.raises(ValueError, match="event_id"):
        train_application_scorecard(d, feats.drop("event_id"))
    with pytest.raises(FileNotFoundError, match="simulated world"):
        train_application_scorecard(d / "nope", feats)
