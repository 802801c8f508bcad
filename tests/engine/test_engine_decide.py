"""Engine: recorded decisions, idempotency, fallback on failing nodes/stores, champion/challenger/shadow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fengkong.engine import Engine, NoStrategyError, bucket_of
from fengkong.events import TZ
from fengkong.store import open_store
from fengkong.strategy import strategy_from_text

SMALL = (Path(__file__).parents[1] / "strategy" / "data" / "small_app.yaml").read_text()
FEATS = {"apps_7d": "int"}


class CountingFeatures:
    """A fake online feature engine: counts applications per customer, idempotent by event id."""

    def __init__(self, fail: bool = False):
        self.seen: set[str] = set()
        self.counts: dict[str, int] = {}
        self.fail = fail

    def read_update(self, event: dict) -> dict:
        if self.fail:
            raise ConnectionError("feature store down")
        c = event["customer_id"]
        if event["event_id"] not in self.seen:
            self.seen.add(event["event_id"])
            self.counts[c] = self.counts.get(c, 0) + 1
        return {"apps_7d": self.counts[c]}


def ev(i: int, **kw) -> dict:
    base = {"event_id": f"e{i}", "event_type": "application", "ts": "2025-03-01T10:00:00+08:00",
            "customer_id": f"c{i % 7}", "product": "credit_line", "amount_fen": 1_000_000, "term_months": 12,
            "age": 30, "declared_income_fen": 1_500_000, "monthly_debt_payment_fen": 100_000,
            "province": "GD", "ip_province": "GD", "channel": "app", "id_token": f"tok{i}"}
    base.update(kw)
    return base


def test_decisions_are_recorded_with_version_and_idempotent(db_url):
    st = open_store(db_url)
    s = strategy_from_text(SMALL, "s.yaml", features=FEATS)
    st.versions.deploy(s)
    st.versions.activate(s.name, s.version)
    st.lists.add("blacklist_id", "tok3", reason="confirmed fraud", source="test")
    feats = CountingFeatures()
    eng = Engine(st, feats, feature_kinds=FEATS)
    d = eng.decide(ev(1))
    assert d.outcome == "approve" and d.strategy == "app_test" and d.version == "1" and not d.replayed
    assert d.outputs["limit"] == 10000.0 and d.features == {"apps_7d": 1}
    bl = eng.decide(ev(3))
    assert bl.outcome == "reject" and bl.reason_codes == ["BLACKLIST"]
    again = eng.decide(ev(1))
    assert again.replayed and again.outcome == "approve" and again.to_dict() == d.to_dict()
    assert feats.counts["c1"] == 1  # not updated twice
    assert st.decisions.count() == 2 and st.decisions.verify().ok
    rec = st.decisions.get("e1")
    assert rec["version"] == "1" and rec["strategy"] == "app_test"
    st.close()


def test_failing_feature_store_gives_fallback_and_is_recorded(db_url):
    st = open_store(db_url)
    s = strategy_from_text(SMALL, "s.yaml", features=FEATS)
    eng = Engine(st, CountingFeatures(fail=True), strategy=s, feature_kinds=FEATS)
    d = eng.decide(ev(1))
    assert d.outcome == "review" and d.reason_codes == ["ENGINE_ERROR"] and "feature store down" in d.error
    assert st.decisions.get("e1")["error"] == d.error
    st.close()


def test_bad_model_file_gives_configured_fallback(tmp_path):
    text = """name: m
version: 1
event_type: application
fallback: reject
nodes:
  - {id: gbm, type: model, format: lightgbm, artifact: model.txt, inputs: {age: age}, output: pd}
"""
    (tmp_path / "s.yaml").write_text(text)
    (tmp_path / "model.txt").write_text("this is not a LightGBM model\n")
    from fengkong.strategy import load_strategy

    s = load_strategy(tmp_path / "s.yaml", features=FEATS)
    d = Engine(None, None, strategy=s).decide(ev(1))
    assert d.outcome == "reject" and d.error.startswith("node 'gbm' failed")


def test_lightgbm_model_node(tmp_path):
    import lightgbm as lgb
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    x = rng.uniform(18, 70, size=(400, 1))
    y = (x[:, 0] + rng.normal(0, 10, 400) < 35).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4}, lgb.Dataset(x, y), 10)
    booster.save_model(str(tmp_path / "m.txt"))
    text = """name: m
version: 1
event_type: application
nodes:
  - {id: gbm, type: model, format: lightgbm, artifact: m.txt, inputs: {age: age}, output: pd}
flow:
  outcome:
    - {when: "pd > 0.5", outcome: reject}
    - {outcome: approve}
"""
    (tmp_path / "s.yaml").write_text(text)
    from fengkong.strategy import load_strategy

    s = load_strategy(tmp_path / "s.yaml", features=FEATS)
    events = [dict(ev(i, age=a)) for i, a in enumerate([20, 30, 45, 65, None])]
    from fengkong.events import validate_event

    events = [validate_event(e) for e in events]
    online = [s.evaluate(e) for e in events]
    want = booster.predict(np.array([[20.0], [30.0], [45.0], [65.0], [np.nan]]))
    assert [o.scores["pd"] for o in online] == pytest.approx(list(want))
    off = s.evaluate_frame(pl.DataFrame(events))
    assert off["pd"].to_list() == pytest.approx(list(want))
    assert off["outcome"].to_list() == [o.outcome for o in online]
    assert s.spec.artifacts == {"m.txt": (tmp_path / "m.txt").read_text()}


def test_champion_challenger_split_and_shadow(db_url):
    st = open_store(db_url)
    v1 = strategy_from_text(SMALL, "s.yaml", features=FEATS)
    v2 = strategy_from_text(SMALL.replace("version: 1", "version: 2").replace("score < 440", "score < 600"),
                            "s.yaml", features=FEATS)
    v3 = strategy_from_text(SMALL.replace("version: 1", "version: 3").replace("age < 18", "age < 99"),
                            "s.yaml", features=FEATS)
    for s in (v1, v2, v3):
        st.versions.deploy(s)
    st.versions.activate("app_test", "1")
    st.versions.activate("app_test", "2", role="challenger", percent=30, split_key="customer_id")
    st.versions.activate("app_test", "3", role="shadow")
    eng = Engine(st, CountingFeatures(), feature_kinds=FEATS)
    ds = [eng.decide(ev(i, customer_id=f"cust{i}")) for i in range(300)]
    chal = [d for d in ds if d.role == "challenger"]
    assert 60 < len(chal) < 120  # ~30 %
    for d in ds:
        expect_chal = bucket_of("application", d.customer_id) < 3000
        assert (d.role == "challenger") == expect_chal
        assert d.version == ("2" if expect_chal else "1")
        assert d.shadows[0]["version"] == "3" and d.shadows[0]["outcome"] == "reject"
        if d.role == "challenger":
            assert d.outcome == "reject"  # cut-off 600 rejects every score here
    assert all(d.outcome != "reject" or d.role == "challenger" for d in ds)
    st.close()


def test_no_active_strategy_is_a_clear_error(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    with pytest.raises(NoStrategyError, match="no active strategy for event type 'application'"):
        Engine(st).decide(ev(1))
    st.close()


def test_real_online_features_are_not_double_counted(tmp_path):
    from fengkong.features import load_features
    from fengkong.features.online import OnlineFeatures
    from fengkong.features.store_sqlite import SQLiteStore

    fs = load_features()
    text = """name: vel
version: 1
event_type: application
nodes:
  - id: velocity
    type: ruleset
    rules:
      - {id: V1, when: "app_cnt_id_7d >= 3", action: review, reason_code: VELOCITY_ID}
"""
    s = strategy_from_text(text, "v.yaml", features=fs.kinds)
    st = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    of = OnlineFeatures(fs, SQLiteStore(tmp_path / "f.db"))
    eng = Engine(st, of, strategy=s)
    t0 = dt.datetime(2025, 3, 1, 10, tzinfo=TZ)
    evs = [ev(i, customer_id="c1", id_token="same", ts=(t0 + dt.timedelta(minutes=i)).isoformat()) for i in range(4)]
    first = [eng.decide(e) for e in evs]
    again = [eng.decide(e) for e in evs]
    assert [d.outcome for d in first] == [d.outcome for d in again]
    assert all(d.replayed for d in again)
    counts = [d.features["app_cnt_id_7d"] for d in first]
    assert counts == sorted(counts) and counts[-1] - counts[0] == 3
    assert first[-1].outcome == "review"
    st.close()


# ---------------------------------------------------------------- the store failing under the engine


def _engine_on(db_url: str, **kw):
    st = open_store(db_url)
    s = strategy_from_text(SMALL, "s.yaml", features=FEATS)
    st.versions.deploy(s)
    st.versions.activate(s.name, s.version)
    return st, Engine(st, CountingFeatures(), feature_kinds=FEATS, **kw)


def test_refresh_failure_keeps_the_last_good_routing_and_retries(tmp_path, monkeypatch, caplog):
    import logging

    from sqlalchemy.exc import OperationalError

    st, eng = _engine_on(f"sqlite:///{tmp_path / 'd.db'}", refresh_seconds=0.0)
    real = st.versions.routes
    down = {"on": True}

    def routes():
        if down["on"]:
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real()

    monkeypatch.setattr(st.versions, "routes", routes)
    with caplog.at_level(logging.WARNING, logger="fengkong.engine.core"):
        d = eng.decide(ev(1))  # refresh fails: the snapshot read at start-up still routes the event
    assert d.outcome == "approve" and d.version == "1" and st.decisions.get("e1") is not None
    assert any("keeping the routing and lists" in r.message and "server closed" in r.message for r in caplog.records)
    # the store comes back: the next refresh picks up a new champion
    down["on"] = False
    v2 = strategy_from_text(SMALL.replace("version: 1", "version: 2"), "s.yaml", features=FEATS)
    st.versions.deploy(v2)
    st.versions.activate("app_test", "2")
    assert eng.decide(ev(2)).version == "2"
    st.close()


def test_failed_audit_append_is_an_error_not_a_decision(tmp_path, monkeypatch):
    import sqlite3

    from fengkong.store import StoreError

    st, eng = _engine_on(f"sqlite:///{tmp_path / 'd.db'}")
    real = st.decisions.append
    monkeypatch.setattr(st.decisions, "append", lambda *a: (_ for _ in ()).throw(sqlite3.OperationalError("disk full")))
    with pytest.raises(StoreError, match=r"store sqlite:///.*d\.db: recording the decision of 'e1' in the audit log "
                                         r"failed: OperationalError: disk full"):
        eng.decide(ev(1))
    assert st.decisions.get("e1") is None
    monkeypatch.setattr(st.decisions, "append", real)
    d = eng.decide(ev(1))  # sent again once the store is back: decided and recorded once
    assert not d.replayed and st.decisions.get("e1")["outcome"] == d.outcome and st.decisions.count() == 1
    st.close()


def test_postgres_connection_killed_mid_stream(pg_url):
    """A real PostgreSQL backend terminated between decisions: the next decision raises StoreError (nothing is
    returned, nothing is lost), the one after reconnects, and the chain stays intact."""
    import uuid

    import sqlalchemy as sa

    from fengkong.store import StoreError

    schema = f"fk_test_{uuid.uuid4().hex[:10]}"
    app_name = f"fk_kill_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        st, eng = _engine_on(f"{pg_url}?options=-csearch_path%3D{schema}&application_name={app_name}")
        first = [eng.decide(ev(i)) for i in range(3)]
        with admin.begin() as c:
            killed = c.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE application_name = :a"), {"a": app_name}).scalar()
        assert killed >= 1
        with pytest.raises(StoreError, match="store postgresql"):
            eng.decide(ev(3))
        after = [eng.decide(ev(i)) for i in range(3, 6)]  # reconnected; e3 is decided now, exactly once
        assert [d.request_id for d in after] == ["e3", "e4", "e5"] and not any(d.replayed for d in after)
        assert all(st.decisions.get(d.request_id)["outcome"] == d.outcome for d in first + after)
        assert st.decisions.count() == 6 and st.decisions.verify().ok
        st.close()
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
