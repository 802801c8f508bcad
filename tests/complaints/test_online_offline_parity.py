"""The providers' offline twins equal the online path: the engine replaying a world decides every complaint and
every contact attempt exactly as the vectorised strategy over the backfill."""

from __future__ import annotations

import polars as pl
import pytest

from fengkong.engine import Engine
from fengkong.engine.replay import replay
from fengkong.events.files import read_world
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


@pytest.mark.slow
def test_every_not_me_victim_frozen_in_the_same_event_on_a_world(tmp_path):
    """Both packs' providers in one engine state: after each "not me" complaint is decided, every contact
    attempt on its loan is refused (the misbehaving agency keeps trying; nothing gets through)."""
    from fengkong.collections import provider as cprov
    from fengkong.complaints import provider as kprov
    from fengkong.features import load_features

    simulate_world(tmp_path, SimConfig(customers=4000, seed=60602))
    events = read_world(tmp_path).filter(pl.col("event_type").is_in(["complaint", "repayment", "collection_contact"]))
    kinds = combined_kinds(load_features().kinds)
    feats = CombinedFeatures(None, [kprov.open_online(ProviderContext()), cprov.open_online(ProviderContext())],
                             kinds)
    eng_c = Engine(features=feats, strategy=load_strategy(kprov.STRATEGY, features=kinds))
    eng_k = Engine(features=feats, strategy=load_strategy(cprov.STRATEGY, features=kinds))
    from fengkong.engine.replay import event_dicts

    frozen_at: dict[str, object] = {}
    after = []
    for ev in event_dicts(events.sort(["ts", "event_id"])):
        if ev["event_type"] == "complaint":
            d = eng_c.decide(ev)
            if ev.get("claims_not_me"):
                assert d.outputs["route"] == "identity_team"
                frozen_at.setdefault(ev["loan_id"], ev["ts"])
        elif ev["event_type"] == "collection_contact":
            d = eng_k.decide(ev)
            if ev["loan_id"] in frozen_at:
                after.append(d)
        else:
            feats.update(ev)
    assert frozen_at and after  # the world has victims and attempts on their loans after the claim
    assert all(d.outcome == "reject" and "LOAN_FROZEN" in d.reason_codes for d in after)
