"""Purchase rules do not act on undefined features; `fengkong evaluate` reports the whole strategy's cost and
credits repeat applications to multi-head (issue 20 items 9 and 10)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fengkong.events import TZ
from fengkong.fraud.evaluate import decide, evaluate_world, purchase_decisions
from fengkong.simulate import SimConfig, simulate_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("pworld")
    simulate_world(d, SimConfig(customers=1500, months=3, seed=47))
    return d


def test_large_purchase_on_known_device_is_not_sent_to_review():
    t0 = dt.datetime(2026, 2, 1, 10, tzinfo=TZ)
    base = {"customer_id": "C1", "id_token": "tok_id_1", "device_id": "dev-1", "merchant_id": "M1",
            "merchant_category": "electronics", "is_refund": False}
    rows = [dict(base, event_id="A1", event_type="application", ts=t0, amount_fen=5_000_000),
            dict(base, event_id="P1", event_type="purchase", ts=t0 + dt.timedelta(days=3), amount_fen=2_100_000),
            dict(base, event_id="P2", event_type="purchase", ts=t0 + dt.timedelta(days=4), amount_fen=2_100_000,
                 device_id="dev-brand-new")]
    from fengkong.events.files import to_union

    ev = pl.concat([to_union(pl.DataFrame([r], infer_schema_length=None)) for r in rows], how="diagonal_relaxed")
    dec = purchase_decisions(ev)
    hit = dict(zip(dec["event_id"], dec["hit.CO_BIG_NEW"], strict=True))
    assert hit["P1"] is False  # the device was seen at the application three days before
    assert hit["P2"] is True  # a device never seen before


def test_evaluate_counts_the_score_cut_off_and_credits_velocity_to_multi_head(world):
    from fengkong.events.files import read_world

    res = evaluate_world(world)
    events = read_world(world)
    dec, _, feats = decide(events)
    labels = pl.read_parquet(world / "labels.parquet")
    good = dec.filter(~pl.col("event_id").is_in(labels.filter(pl.col("entity_type") == "application")["entity_id"]
                                                .implode()))
    assert res["good_reject_rate"] == pytest.approx((good["outcome"] == "reject").mean())
    assert res["good_review_rate"] == pytest.approx((good["outcome"] == "review").mean())
    assert res["good_reject_rate"] >= res["good_rule_reject_rate"]
    # every application the repeat-application rule sends to review counts for the multi-head pattern
    vel = dec.join(feats.select("event_id", "app_cnt_id_7d"), on="event_id").filter(pl.col("app_cnt_id_7d") >= 3)
    assert (vel["pat_multi_head"] >= 2).all()  # vacuous when the world has no repeat applications
    ps = res["purchase_strategy"]
    assert ps["good_purchases"] > 0 and 0 <= ps["good_stop_rate"] < 0.01
    assert ps["good_stop_rate_by_rule"]["CO_BIG_NEW"] < 0.001
