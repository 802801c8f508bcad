"""Offline backfill and online incremental state give identical values, for every store (hypothesis)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import polars as pl
import pytest
from fk_feature_streams import random_events, to_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengkong.features import from_dicts, load_features
from fengkong.features.offline import affected_by_late, backfill
from fengkong.features.online import OnlineFeatures
from fengkong.features.parity import compare
from fengkong.features.store_redis import RedisStore
from fengkong.features.store_sqlite import SQLiteStore
from fengkong.features.stores import MemoryStore

STANDARD = load_features()
#: Every aggregation, lifetime and windowed, composite keys, float values, filters with nulls.
EVERY_AGG = from_dicts([
    {"name": "n_{window}", "windows": ["10m", "1d", "lifetime"], "key": "customer_id", "agg": "count"},
    {"name": "sum_{window}", "windows": ["2h", "lifetime"], "key": "customer_id", "agg": "sum",
     "value": "amount_fen", "events": ["application", "purchase", "transfer"]},
    {"name": "mean_{window}", "windows": ["3d", "lifetime"], "key": "customer_id", "agg": "mean",
     "value": "amount_fen % 10000 == 0", "events": ["purchase", "transfer"]},
    {"name": "min_{window}", "windows": ["5h", "lifetime"], "key": "customer_id", "agg": "min",
     "value": "amount_fen", "events": ["purchase", "transfer"], "applies_to": ["purchase", "transfer"]},
    {"name": "max_{window}", "windows": ["5h", "lifetime"], "key": "customer_id", "agg": "max", "value": "dpd",
     "events": ["repayment"], "applies_to": ["repayment", "application"]},
    {"name": "dist_{window}", "windows": ["1d", "lifetime"], "key": "customer_id", "agg": "distinct",
     "value": "device_id"},
    {"name": "last_{window}", "windows": ["1d", "lifetime"], "key": "customer_id", "agg": "last",
     "value": "ip"},
    {"name": "first_{window}", "windows": ["1d", "lifetime"], "key": "customer_id", "agg": "first",
     "value": "ip"},
    {"name": "tsl_{window}", "windows": ["1d", "lifetime"], "key": "customer_id", "agg": "time_since_last",
     "unit": "hours"},
    {"name": "tsf_{window}", "windows": ["1d", "lifetime"], "key": "customer_id", "agg": "time_since_first"},
    {"name": "tsf_ip", "key": "ip", "agg": "time_since_first", "unit": "days"},  # a first-seen-only stream
    {"name": "pair_7d", "key": ["device_id", "ip"], "events": ["application", "purchase"], "window": "7d"},
    {"name": "flt_1d", "key": "merchant_id", "events": ["purchase"], "window": "1d",
     "filter": "not is_refund"},
    {"name": "ct_n_{window}", "windows": ["1d", "lifetime"], "key": "contact_tokens", "agg": "count",
     "events": ["application"]},
    {"name": "ct_dist_7d", "key": "contact_tokens", "agg": "distinct", "value": "customer_id",
     "events": ["application"], "window": "7d"},
    {"name": "ct_max_2d", "key": "contact_tokens", "agg": "max", "value": "amount_fen", "events": ["application"],
     "window": "2d"},
    {"name": "ct_sum_1d", "key": "contact_tokens", "agg": "sum", "value": "amount_fen", "events": ["application"],
     "window": "1d"},
    {"name": "ratio_x", "ratio": ["sum_2h", "n_10m"]},
    {"name": "diff_x", "diff": ["n_1d", "n_10m"]},
    {"name": "overdue_share", "cross": "contacts_overdue_share"},
    {"name": "shared_2d", "cross": "shared_applicants", "window": "2d"},
])
LATE_S = 3600


def _arrivals(events: list[dict], rng: random.Random, late_share: float) -> list[int]:
    """Arrival order: some events are delayed by up to the late tolerance (never beyond it)."""
    def when(i: int) -> tuple:
        delay = rng.randrange(LATE_S) if rng.random() < late_share else 0
        return (events[i]["ts"] + dt.timedelta(seconds=delay), i)

    keyed = [when(i) for i in range(len(events))]
    return [k[1] for k in sorted(keyed)]


def _run(events: list[dict], order: list[int], fs, store) -> dict[str, dict]:
    of = OnlineFeatures(fs, store, late_tolerance=f"{LATE_S}s")
    return {events[i]["event_id"]: of.read_update(events[i]) for i in order}


def _offline(events: list[dict], order: list[int], fs) -> pl.DataFrame:
    arr = {events[i]["event_id"]: pos for pos, i in enumerate(order)}
    df = to_frame(events)
    df = df.with_columns(pl.col("event_id").replace_strict(arr, return_dtype=pl.Int64).alias("_arr"))
    return backfill(df, fs, arrival="_arr")


streams = st.fixed_dictionaries({
    "seed": st.integers(0, 2**32 - 1),
    "n": st.integers(1, 80),
    "pool": st.integers(1, 6),
    "span_days": st.integers(1, 60),
    "missing": st.sampled_from([0.0, 0.15, 0.5]),
    "late": st.sampled_from([0.0, 0.0, 0.1, 0.4]),
})


def _check(params: dict, fs, make_store) -> None:
    rng = random.Random(params["seed"])
    events = random_events(rng, params["n"], span_s=params["span_days"] * 86400, pool=params["pool"],
                           missing=params["missing"])
    order = _arrivals(events, rng, params["late"])
    off = _offline(events, order, fs)
    store = make_store()
    try:
        on = _run(events, order, fs, store)
    finally:
        if isinstance(store, RedisStore):
            store.clear()
        store.close()
    bad = compare(off, on, fs)
    assert not bad, "\n".join(str(m) for m in bad[:10])


def _settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@_settings(40)
@given(params=streams)
def test_parity_memory_every_aggregation(params):
    _check(params, EVERY_AGG, MemoryStore)


@_settings(20)
@given(params=streams)
def test_parity_memory_standard_library(params):
    _check(params, STANDARD, MemoryStore)


@_settings(20)
@given(params=streams)
def test_parity_sqlite(params, tmp_path):
    _check(params, EVERY_AGG.merged(STANDARD), lambda: SQLiteStore(tmp_path / f"{uuid.uuid4().hex}.db"))


@_settings(15)
@given(params=streams)
def test_parity_redis(params, redis_url):
    _check(params, EVERY_AGG.merged(STANDARD), lambda: RedisStore(redis_url, prefix=f"fktest:{uuid.uuid4().hex}:"))


def test_equal_timestamps_are_not_visible_to_each_other():
    fs = from_dicts([{"name": "n", "key": "device_id", "events": ["application"], "window": "1h"}])
    t = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    evs = [{"event_id": f"x{i}", "event_type": "application", "ts": t, "customer_id": "c", "device_id": "d"}
           for i in range(3)] + [{"event_id": "y", "event_type": "application", "ts": t + dt.timedelta(seconds=1),
                                  "customer_id": "c", "device_id": "d"}]
    of = OnlineFeatures(fs, MemoryStore())
    assert [of.read_update(e)["n"] for e in evs] == [0, 0, 0, 3]
    assert backfill(to_frame(evs), fs)["n"].to_list() == [0, 0, 0, 3]


def test_window_boundary_is_left_closed():
    """An event exactly w before is inside the window [t - w, t); one microsecond earlier is not."""
    fs = from_dicts([{"name": "n", "key": "ip", "events": ["application"], "window": "1h"}])
    t = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    evs = [{"event_id": "a", "event_type": "application", "ts": t - dt.timedelta(hours=1, microseconds=1),
            "customer_id": "c", "ip": "i"},
           {"event_id": "b", "event_type": "application", "ts": t - dt.timedelta(hours=1), "customer_id": "c",
            "ip": "i"},
           {"event_id": "c", "event_type": "application", "ts": t, "customer_id": "c", "ip": "i"}]
    assert backfill(to_frame(evs), fs)["n"].to_list() == [0, 1, 1]


def test_affected_by_late_marks_only_events_a_late_arrival_could_change():
    t = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    df = pl.DataFrame({"ts": [t, t + dt.timedelta(minutes=1), t + dt.timedelta(minutes=2)], "arr": [2, 0, 1]})
    assert affected_by_late(df, "arr").to_list() == [False, True, True]


@pytest.mark.parametrize("fs", [EVERY_AGG, STANDARD], ids=["every_agg", "standard"])
def test_late_event_values_differ_from_complete_information(fs):
    """The as-arrived offline values are what online saw — not the complete-information values."""
    rng = random.Random(7)
    events = random_events(rng, 80, span_s=3 * 86400, pool=3)
    order = _arrivals(events, rng, 0.4)
    online = _run(events, order, fs, MemoryStore())
    as_arrived = _offline(events, order, fs)
    assert not compare(as_arrived, online, fs)
    assert compare(backfill(to_frame(events), fs), online, fs), "late arrivals should hide some values"


def test_backfill_keeps_the_input_row_order():
    """Rows in any order give the same values per event, in the caller's row order."""
    df = to_frame(random_events(random.Random(5), 200, pool=3))
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=1)
    a = backfill(df, EVERY_AGG)
    b = backfill(shuffled, EVERY_AGG)
    assert b["event_id"].to_list() == shuffled["event_id"].to_list()
    assert b.sort("event_id").equals(a.sort("event_id"))
