"""The providers' offline twins equal the online path: the engine replaying a world decides every complaint and
every contact attempt exactly as the vectorised strategy over the backfill."""

from __future__ import annotations

import polars as pl
import pytest

from fengkong.engine import Engine
from fengkong.engine.replay import replay
from fengkong.eventio import read_world
from fengkong.features.providers import CombinedFeatures, ProviderContext, backfill_all, combined_kinds
from fengkong.simulate.config import SimConfig
from fengkong.simulate.world import simulate_world
from fengkong.strategy.backtest import prepare_frame
from fengkong.strategy.compiled import load_strategy


@pytest.mark.slow
@pytest.mark.parametrize("pack", ["complaints", "collections"])
def test_engine_replay_equals_backfill(tmp_path, pack):
    import importlib

    from fengkong.features import load_features

    prov = importlib.import_module(f"fengkong.{pack}.provider")
    et = "complaint" if pack == "complaints" else "collection_contact"
    simulate_world(tmp_path, SimConfig(customers=2500, seed=60601))
    events = read_world(tmp_path).filter(pl.col("event_type").is_in(["complaint", "repayment", "collection_contact"]))
    kinds = combined_kinds(load_features().kinds)
    s = load_strategy(prov.STRATEGY, features=kinds)
    feats = CombinedFeatures(None, [prov.open_online(ProviderContext())], kinds)
    online = replay(events, Engine(features=feats, strategy=s), decide_types=(et,))
    on = pl.DataFrame({"event_id": [d.request_id for d in online], "on_outcome": [d.outcome for d in online],
                       "on_codes": [",".join(d.reason_codes) for d in online]})
    f = backfill_all(events, load_features(), ProviderContext(), names=set(s.used_features))
    rows = events.filter(pl.col("event_type") == et)
    off = s.evaluate_frame(prepare_frame(rows, s, features=f)).select(
        "event_id", "outcome", pl.col("reason_codes").list.join(",").alias("codes"))
    m = on.join(off, on="event_id", how="inner")
    assert m.height == rows.height > 0
    assert (m["on_outcome"] == m["outcome"]).all()
    assert (m["on_codes"] == m["codes"]).all()
