"""Online state: idempotency, late events, restart survival, expiry, unreachable stores, atomicity."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from array import array

import pytest
from fk_feature_streams import random_events

from fengkong.features import from_dicts, load_features
from fengkong.features.online import LateEventError, OnlineFeatures, ts_us
from fengkong.features.store_redis import RedisStore
from fengkong.features.store_sqlite import SQLiteStore
from fengkong.features.stores import MemoryStore, StoreUnavailableError

FS = load_features()
T = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _app(i: int, minutes: float, device: str = "d1", **kw) -> dict:
    return {"event_id": f"a{i}", "event_type": "application", "ts": T + dt.timedelta(minutes=minutes),
            "customer_id": f"c{i}", "device_id": device, "id_token": f"id{i}", **kw}


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "memory":
        s = MemoryStore()
    elif request.param == "sqlite":
        s = SQLiteStore(tmp_path / "state.db")
    else:
        url = request.getfixturevalue("redis_url")
        s = RedisStore(url, prefix=f"fktest:{uuid.uuid4().hex}:")
    yield s
    if isinstance(s, RedisStore):
        s.clear()
    s.close()


def test_redelivery_does_not_double_count(store):
    of = OnlineFeatures(FS, store)
    for i in range(3):
        of.update(_app(i, i))
    of.update(_app(1, 1))
    of.read_update(_app(2, 2))
    assert of.read(_app(9, 10))["app_cnt_device_1h"] == 3
    assert of.read(_app(9, 10))["distinct_id_per_device_30d"] == 3


def test_read_does_not_mutate_and_excludes_the_event_itself(store):
    of = OnlineFeatures(FS, store)
    e = _app(0, 0)
    assert of.read(e)["app_cnt_device_1h"] == 0
    assert of.read(e)["app_cnt_device_1h"] == 0
    of.update(e)
    assert of.read(e)["app_cnt_device_1h"] == 0  # same timestamp is not visible
    assert of.read(_app(1, 1))["app_cnt_device_1h"] == 1


def test_event_later_than_tolerance_is_rejected_and_nothing_is_written(store):
    of = OnlineFeatures(FS, store, late_tolerance="1h")
    of.update(_app(0, 600))
    of.update(_app(1, 600 - 59))  # late but within tolerance: folded in at its ts
    with pytest.raises(LateEventError, match="older than the newest"):
        of.read_update(_app(2, 600 - 61))
    with pytest.raises(LateEventError):
        of.update(_app(2, 600 - 61))
    assert of.read(_app(3, 601))["app_cnt_device_24h"] == 2
    assert of.read(_app(3, 601))["distinct_id_per_device_lifetime"] == 2


def test_memory_store_values_are_null_vs_zero_as_documented():
    of = OnlineFeatures(FS, MemoryStore())
    v = of.read(_app(0, 0, contact_tokens=[]))
    assert v["app_cnt_device_1h"] == 0 and v["distinct_id_per_device_30d"] == 0
    assert v["hours_since_last_app_id"] is None and v["app_cnt_phone_1h"] is None  # no phone: no entity
    assert v["contacts_overdue_share"] is None and v["shared_applicants_30d"] == 0
    assert v["purchase_cnt_merchant_1h"] is None  # not a purchase


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_state_survives_restart_and_matches_uninterrupted_run(kind, tmp_path, request):
    events = sorted(random_events(random.Random(3), 300, span_s=20 * 86400, pool=4),
                    key=lambda e: (e["ts"], e["event_id"]))
    ref = OnlineFeatures(FS, MemoryStore())
    expected = [ref.read_update(e) for e in events]
    prefix = f"fktest:{uuid.uuid4().hex}:"

    def open_store():
        if kind == "sqlite":
            return SQLiteStore(tmp_path / "state.db")
        return RedisStore(request.getfixturevalue("redis_url"), prefix=prefix)

    got = []
    s = open_store()
    of = OnlineFeatures(FS, s)
    got += [of.read_update(e) for e in events[:150]]
    s.close()
    del of, s
    s = open_store()
    of = OnlineFeatures(FS, s)
    of.update(events[149])  # a redelivery across the restart is still a duplicate
    got += [of.read_update(e) for e in events[150:]]
    if isinstance(s, RedisStore):
        s.clear()
    s.close()
    assert got == expected


def test_expiry_bounds_state_and_keeps_values():
    fs = from_dicts([{"name": "n_1h", "key": "device_id", "events": ["application"], "window": "1h"},
                     {"name": "n_all", "key": "id_token", "events": ["application"]}])
    store = MemoryStore()
    of = OnlineFeatures(fs, store, late_tolerance="10m", expire_every=0)
    ref = OnlineFeatures(fs, MemoryStore(), late_tolerance="10m", expire_every=0)
    for i in range(200):
        e = _app(i, i * 30, device=f"dev{i}", id_token="same")
        assert of.read_update(e) == ref.read_update(e)
    before = len(store.data)
    touched = of.expire()
    assert touched > 0
    assert len(store.data) < before - 150  # old devices and old event-id markers are gone
    st = next(v for k, v in store.data.items() if k.startswith("s|") and k.endswith("|same"))
    assert len(st["t"]) <= 3 and st["c"]["n"] >= 197  # lifetime count kept as a compact summary
    e = _app(500, 200 * 30, device="dev199", id_token="same")
    assert of.read(e) == ref.read(e)


def test_unreachable_redis_names_the_store():
    with pytest.raises(StoreUnavailableError, match=r"Redis state store redis://127\.0\.0\.1:1/0"):
        RedisStore("redis://127.0.0.1:1/0")


def test_unusable_sqlite_path_names_the_store(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailableError, match="SQLite state store"):
        SQLiteStore(blocker / "sub" / "state.db")


def test_redis_failure_mid_transaction_writes_nothing(redis_url):
    s = RedisStore(redis_url, prefix=f"fktest:{uuid.uuid4().hex}:")
    try:
        of = OnlineFeatures(FS, s)
        of.update(_app(0, 0))
        before = sorted(s.keys())

        def boom(tx):
            e = _app(1, 1)
            of._update(tx, e, ts_us(e["ts"]))
            raise RuntimeError("crash after staging writes")

        with pytest.raises(RuntimeError):
            s.run(boom)
        assert sorted(s.keys()) == before
        assert of.read(_app(2, 2))["app_cnt_device_1h"] == 1
    finally:
        s.clear()
        s.close()


def test_sqlite_failure_mid_transaction_writes_nothing(tmp_path):
    s = SQLiteStore(tmp_path / "state.db")
    of = OnlineFeatures(FS, s)
    of.update(_app(0, 0))

    def boom(tx):
        e = _app(1, 1)
        of._update(tx, e, ts_us(e["ts"]))
        raise RuntimeError("crash after staging writes")

    with pytest.raises(RuntimeError):
        s.run(boom)
    assert of.read(_app(2, 2))["app_cnt_device_1h"] == 1


def test_redis_server_going_away_raises_store_error(redis_url):
    s = RedisStore(redis_url, prefix=f"fktest:{uuid.uuid4().hex}:")
    of = OnlineFeatures(FS, s)
    s.client = s._redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    with pytest.raises(StoreUnavailableError, match="Redis state store"):
        of.read_update(_app(0, 0))


def test_redis_store_loads_its_script_again_after_the_server_lost_it(redis_url):
    s = RedisStore(redis_url, prefix=f"fktest:{uuid.uuid4().hex}:")
    try:
        of = OnlineFeatures(FS, s)
        of.read_update(_app(0, 0))
        s.client.script_flush()  # what a server restart or SCRIPT FLUSH does
        assert of.read_update(_app(1, 1))["app_cnt_device_1h"] == 1
        assert s.log_length() == 2
    finally:
        s.clear()
        s.close()


def test_sqlite_cache_sees_commits_of_another_connection(tmp_path):
    """Two stores (e.g. two worker processes) on one file: each sees the other's updates."""
    a, b = SQLiteStore(tmp_path / "state.db"), SQLiteStore(tmp_path / "state.db")
    fa, fb = OnlineFeatures(FS, a), OnlineFeatures(FS, b)
    fa.update(_app(0, 0))
    assert fb.read(_app(9, 5))["app_cnt_device_1h"] == 1  # b caches the state it read
    fa.update(_app(1, 1))
    fb.update(_app(2, 2))
    assert fa.read(_app(9, 5))["app_cnt_device_1h"] == 3
    assert fb.read(_app(9, 5))["app_cnt_device_1h"] == 3
    a.close()
    b.close()


def test_list_key_counts_per_contact_and_takes_the_largest():
    from fengkong.features.offline import backfill

    fs = from_dicts([{"name": "ct_7d", "key": "contact_tokens", "events": ["application"], "window": "7d"}])
    evs = [_app(0, 0, contact_tokens=["k1", "k2"]), _app(1, 1, contact_tokens=["k2", "k2"]),
           _app(2, 2, contact_tokens=["k3"]), _app(3, 3, contact_tokens=["k1", "k2", "k3"]),
           _app(4, 4, contact_tokens=[]), _app(5, 5)]
    of = OnlineFeatures(fs, MemoryStore())
    online = [of.read_update(e)["ct_7d"] for e in evs]
    assert online == [0, 1, 0, 2, None, None]  # k2 was listed by a0 and a1 (a1 lists it twice: once)
    import polars as pl

    from fengkong.events import EVENT_SCHEMA

    frame = pl.DataFrame([{k: e.get(k) for k in EVENT_SCHEMA} for e in evs], schema=EVENT_SCHEMA)
    assert backfill(frame, fs)["ct_7d"].to_list() == online


def test_list_key_rules():
    from fengkong.features.expr import FeatureSpecError

    with pytest.raises(FeatureSpecError, match="must be the only key field"):
        from_dicts([{"name": "x", "key": ["contact_tokens", "device_id"], "events": ["application"]}])
    with pytest.raises(FeatureSpecError, match="agg must be one of"):
        from_dicts([{"name": "x", "key": "contact_tokens", "agg": "last", "value": "ip", "events": ["application"]}])


def test_sqlite_batch_commits_once_at_the_end_with_the_same_values(tmp_path):
    evs = [_app(i, i * 0.5, device="d1") for i in range(6)]
    one = OnlineFeatures(FS, SQLiteStore(tmp_path / "a.db"))
    want = [one.read_update(e) for e in evs]
    s = SQLiteStore(tmp_path / "b.db")
    of = OnlineFeatures(FS, s)
    with s.batch():
        got = [of.read_update(e) for e in evs[:3]]
        other = SQLiteStore(tmp_path / "b.db")
        OnlineFeatures(FS, other)
        assert other.seq == 0  # nothing durable before the batch ends
        other.close()
    got += [of.read_update(e) for e in evs[3:]]
    assert got == want
    assert s.log_length() == 6


def test_sqlite_batch_error_rolls_back_the_log_and_the_replica(tmp_path):
    s = SQLiteStore(tmp_path / "s.db")
    of = OnlineFeatures(FS, s)
    of.read_update(_app(0, 0))
    with pytest.raises(RuntimeError), s.batch():
        of.read_update(_app(1, 1))
        of.read_update(_app(2, 2))
        raise RuntimeError("the caller failed before acknowledging")
    assert s.log_length() == 1
    assert of.read_update(_app(3, 3))["app_cnt_device_1h"] == 1  # only a0 counts: a1, a2 were never durable


def test_first_time_stream_is_one_integer_and_reads_old_layout():
    """A stream of only lifetime time_since_first keeps one integer; a state in the earlier list layout
    (a checkpoint written before) reads and updates to the same values."""
    fs = from_dicts([{"name": "dev_first_h", "key": "device_id", "events": ["application"],
                      "agg": "time_since_first", "unit": "hours"}])
    of = OnlineFeatures(fs, MemoryStore(), expire_every=0)
    of.read_update(_app(0, 60))
    of.read_update(_app(1, 30))  # earlier (within the late tolerance): the first time moves back
    ((key, st),) = [(k, v) for k, v in of.store.data.items() if k.startswith("s|")]
    assert st == ts_us(T + dt.timedelta(minutes=30))
    assert of.read(_app(2, 150))["dev_first_h"] == 2.0
    assert of.read(_app(3, 30))["dev_first_h"] is None  # strictly before: an equal time is not before
    old = {"t": array("q", [ts_us(T + dt.timedelta(minutes=90))]),
           "c": {"fa": [ts_us(T + dt.timedelta(minutes=30)), None]}}
    of.store.data[key] = old
    assert of.read(_app(4, 150))["dev_first_h"] == 2.0
    of.read_update(_app(5, 120))
    assert of.store.data[key] == ts_us(T + dt.timedelta(minutes=30))


def test_a_first_time_stream_that_gains_a_feature_keeps_working():
    """Adding a count to a live stream that held only lifetime time_since_first (one integer per key): its
    states are read and updated in the list layout (the new count needs a backfill, as any added feature
    does), the first time is kept, and expiry converts them instead of failing."""
    tsf = {"name": "dev_first_h", "key": "device_id", "events": ["application"], "agg": "time_since_first",
           "unit": "hours"}
    store = MemoryStore()
    a = OnlineFeatures(from_dicts([tsf]), store, expire_every=0)
    a.read_update(_app(0, 60))
    b = OnlineFeatures(from_dicts([tsf, {"name": "dev_cnt", "key": "device_id", "events": ["application"]}]),
                       store, expire_every=0)
    assert b.read(_app(1, 120)) == {"dev_first_h": 1.0, "dev_cnt": 1}
    assert b.read_update(_app(2, 180)) == {"dev_first_h": 2.0, "dev_cnt": 1}
    assert b.read(_app(3, 240)) == {"dev_first_h": 3.0, "dev_cnt": 2}
    b.expire()
    c = OnlineFeatures(from_dicts([tsf, {"name": "dev_cnt", "key": "device_id", "events": ["application"]}]),
                       store := MemoryStore(), expire_every=0)
    c.read_update(_app(4, 60))
    (key,) = [k for k in store.data if k.startswith("s|")]
    store.data[key] = ts_us(T + dt.timedelta(minutes=30))  # a checkpoint written by the one-integer layout
    assert c.expire() >= 1 and isinstance(store.data[key], dict)
    assert c.read(_app(5, 150))["dev_first_h"] == 2.0


def test_a_list_key_without_elements_evaluates_no_filter():
    """A list key with no non-null element folds nothing and evaluates neither filter nor value."""
    fs = from_dicts([{"name": "c_cnt", "key": "contact_tokens", "events": ["application"], "window": "1d",
                      "filter": "amount_fen > 200000"}])
    of = OnlineFeatures(fs, MemoryStore(), expire_every=0)
    of.update({**_app(0, 60), "contact_tokens": [None], "amount_fen": "x"})  # the filter would raise on "x"
    assert not [k for k in of.store.data if k.startswith("s|")]
