"""The vectorised backtest decides exactly like the online engine, event for event, on a simulated world."""

from __future__ import annotations

import polars as pl
import pytest

from fengkong.strategy import backtest as bt
from fengkong.strategy import load_strategy

STRATEGIES = ("application", "purchase")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from fengkong.simulate import SimConfig, simulate_world

    d = tmp_path_factory.mktemp("world")
    simulate_world(d, SimConfig(customers=600, months=3, seed=3))
    return d


@pytest.mark.parametrize("name", STRATEGIES)
def test_backtest_equals_online_engine(world, name, tmp_path):
    from pathlib import Path

    from fengkong.engine import Engine
    from fengkong.engine.replay import replay
    from fengkong.events.files import read_world
    from fengkong.features import load_features
    from fengkong.features.online import OnlineFeatures
    from fengkong.features.providers import ProviderContext, backfill_all, combined_kinds, open_features
    from fengkong.features.stores import MemoryStore
    from fengkong.store import open_store

    shipped = Path(__file__).parents[2] / "src" / "fengkong" / "strategies" / f"{name}.yaml"
    fs = load_features()
    s = load_strategy(shipped, features=combined_kinds(fs.kinds))  # + feature providers (fraud pack)
    events = read_world(world)
    lists = {"blacklist_id": frozenset(events.filter(pl.col("event_type") == "application")["id_token"]
                                       .drop_nulls().unique().sort().head(5).to_list()),
             "blocked_merchant": frozenset(events["merchant_id"].drop_nulls().unique().sort().head(3).to_list())}
    res = bt.run(s, bt.prepare_frame(events, s, features=backfill_all(events, fs, ProviderContext())), lists=lists)
    st = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    eng = Engine(st, open_features(OnlineFeatures(fs, MemoryStore()), ProviderContext()), strategy=s)
    eng.set_lists(lists)
    online = replay(events, eng, decide_types=(s.event_type,))
    off = res.decisions
    assert off.height == len(online) > 50
    assert len(set(off["outcome"])) >= 2  # the comparison is not trivial
    mism = []
    for d, row in zip(online, off.iter_rows(named=True), strict=True):
        assert d.request_id == row["event_id"]
        same = (d.outcome == row["outcome"] and d.rules_hit == row["rules_hit"]
                and d.reason_codes == row["reason_codes"]
                and all(d.outputs[k] == pytest.approx(row[f"out.{k}"], rel=1e-9, abs=1e-12)
                        if isinstance(d.outputs[k], float) else d.outputs[k] == row[f"out.{k}"]
                        for k in d.outputs)
                and all(d.scores[k] == pytest.approx(row[k], rel=1e-9) for k in d.scores))
        if not same:
            mism.append((d.request_id, d.outcome, row["outcome"], d.rules_hit, row["rules_hit"]))
    assert not mism, mism[:5]
    assert st.decisions.count() == len(online) and st.decisions.verify().ok
    st.close()


def test_prepare_frame_without_a_backfill_includes_provider_features(world):
    """prepare_frame computes the backfill itself when none is given: the providers' features come too."""
    from pathlib import Path

    from fengkong.events.files import read_world

    s = load_strategy(Path(__file__).parents[2] / "src" / "fengkong" / "strategies" / "application.yaml")
    frame = bt.prepare_frame(read_world(world), s)
    assert {f"__f.{n}" for n in s.used_features} <= set(frame.columns)
    assert "__f.graph_burst_multi_peers" in frame.columns
