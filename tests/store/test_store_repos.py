"""Store repositories on SQLite and PostgreSQL: audit chain, immutable versions, routing, lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.store import DuplicateRequest, VersionError, open_store
from fengkong.strategy import strategy_from_text

SMALL = (Path(__file__).parents[1] / "strategy" / "data" / "small_app.yaml").read_text()
FEATS = {"apps_7d": "int"}


def _meta(i: int) -> dict:
    return {"request_id": f"r{i}", "event_type": "application", "event_ts": "2025-01-01T00:00:00+08:00",
            "customer_id": f"c{i}", "strategy_name": "s", "strategy_version": "1", "outcome": "approve",
            "created_at": "2025-01-01T00:00:00+00:00"}


def test_audit_chain_detects_an_edited_row(db_url):
    st = open_store(db_url)
    for i in range(20):
        st.decisions.append(_meta(i), {"outcome": "approve", "i": i})
    assert st.decisions.verify().ok and st.decisions.verify().checked == 20
    assert st.decisions.get("r3") == {"outcome": "approve", "i": 3}
    with pytest.raises(DuplicateRequest):
        st.decisions.append(_meta(3), {"outcome": "reject"})
    with st.engine.begin() as c:
        c.execute(sa.text("UPDATE fk_decisions SET outcome = 'reject' WHERE request_id = 'r7'"))
    res = st.decisions.verify()
    assert not res.ok and res.request_id == "r7" and res.first_bad_seq == 8 and "edited" in res.reason
    st.close()


def test_audit_chain_detects_a_deleted_row(db_url):
    st = open_store(db_url)
    for i in range(5):
        st.decisions.append(_meta(i), {"i": i})
    with st.engine.begin() as c:
        c.execute(sa.text("DELETE FROM fk_decisions WHERE request_id = 'r2'"))
    res = st.decisions.verify()
    assert not res.ok and res.request_id == "r3"
    st.close()


def test_versions_are_immutable_and_routing_rolls_back(db_url):
    st = open_store(db_url)
    s1 = strategy_from_text(SMALL, "a.yaml", features=FEATS)
    s2 = strategy_from_text(SMALL.replace("version: 1", "version: 2"), "a.yaml", features=FEATS)
    changed = strategy_from_text(SMALL.replace("age < 18", "age < 21"), "a.yaml", features=FEATS)
    sv, created = st.versions.deploy(s1)
    assert created and sv.version == "1"
    assert st.versions.deploy(s1)[1] is False  # same content: no-op
    with pytest.raises(VersionError, match="already deployed with different content"):
        st.versions.deploy(changed)
    st.versions.deploy(s2)
    st.versions.activate("app_test", "1")
    st.versions.activate("app_test", "2")
    assert st.versions.routing("application").champion == ("app_test", "2")
    st.versions.rollback("application")
    assert st.versions.routing("application").champion == ("app_test", "1")
    st.versions.activate("app_test", "2", role="challenger", percent=25)
    r = st.versions.routing("application")
    assert r.champion == ("app_test", "1") and r.challengers[0]["percent"] == 25
    with pytest.raises(VersionError, match="not deployed"):
        st.versions.activate("app_test", "9")
    assert [v.version for v in st.versions.list()] == ["1", "2"]
    st.close()


def test_lists_expire_and_are_removed(db_url):
    st = open_store(db_url)
    now = dt.datetime.now(dt.UTC)
    st.lists.add("blacklist_id", "tok1", reason="fraud confirmed", source="case-17")
    st.lists.add("blacklist_id", "tok2", expires_at=now - dt.timedelta(seconds=1))
    st.lists.add("blacklist_id", "tok3", expires_at=now + dt.timedelta(days=1))
    st.lists.add("vip", "c9", kind="allow")
    snap = st.lists.snapshot()
    assert snap == {"blacklist_id": frozenset({"tok1", "tok3"}), "vip": frozenset({"c9"})}
    assert st.lists.remove("blacklist_id", "tok1") == 1
    assert st.lists.snapshot()["blacklist_id"] == frozenset({"tok3"})
    with pytest.raises(ValueError):
        st.lists.add("x", "y", kind="nope")
    st.close()


def test_concurrent_writers_keep_one_linear_chain(db_url):
    import threading

    stores = [open_store(db_url) for _ in range(4)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(25):
                stores[k].decisions.append(_meta(1000 * k + i), {"k": k, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    res = stores[0].decisions.verify()
    assert res.ok and res.checked == 100
    for s in stores:
        s.close()


def _versions(st, n: int) -> None:
    for v in range(1, n + 1):
        st.versions.deploy(strategy_from_text(SMALL.replace("version: 1", f"version: {v}"), "a.yaml", features=FEATS))


def test_rollback_walks_back_through_the_activation_history(db_url):
    st = open_store(db_url)
    _versions(st, 3)
    for v in ("1", "2", "3"):
        st.versions.activate("app_test", v)
    before = st.versions.history("application")
    champions = []
    for _ in range(2):
        champions.append(st.versions.rollback("application").champion[1])
        assert st.versions.routing("application").champion[1] == champions[-1]
    assert champions == ["2", "1"]  # 3 → 2 → 1, not 2, 3, 2
    with pytest.raises(VersionError, match="nothing to roll back"):
        st.versions.rollback("application")
    # append-only: the earlier entries are untouched, each rollback is a new entry naming what it restored
    after = st.versions.history("application")
    assert after[:len(before)] == before and len(after) == len(before) + 2
    assert [note for _, _, note, _ in after[len(before):]] == [f"rollback to #{before[1][0]}",
                                                               f"rollback to #{before[0][0]}"]
    # a new activation after rollbacks is rolled back to where it came from
    st.versions.activate("app_test", "3")
    assert st.versions.rollback("application").champion[1] == "1"
    st.close()


def test_second_rollback_does_not_re_add_a_removed_challenger(db_url):
    st = open_store(db_url)
    _versions(st, 3)
    st.versions.activate("app_test", "1")
    st.versions.activate("app_test", "2")
    st.versions.activate("app_test", "3", role="challenger", percent=20)
    r = st.versions.rollback("application")  # removes the challenger
    assert r.champion == ("app_test", "2") and r.challengers == []
    r = st.versions.rollback("application")  # walks back to v1, the challenger stays gone
    assert r.champion == ("app_test", "1") and r.challengers == []
    assert st.versions.routing("application").challengers == []
    st.close()


def test_rollback_skips_re_activations_that_changed_nothing(db_url):
    st = open_store(db_url)
    _versions(st, 2)
    st.versions.activate("app_test", "1")
    st.versions.activate("app_test", "2")
    st.versions.activate("app_test", "2")  # no change
    assert st.versions.rollback("application").champion == ("app_test", "1")
    st.close()


def test_rollback_understands_entries_written_by_the_old_rollback(db_url):
    """History written before rollbacks named their target ("rollback"): the walk still goes 3 → 2 → 1."""
    st = open_store(db_url)
    _versions(st, 3)
    for v in ("1", "2", "3"):
        st.versions.activate("app_test", v)
    st.versions.set_routing("application", st.versions.history("application")[1][1], "rollback")  # old style → v2
    assert st.versions.rollback("application").champion == ("app_test", "1")
    st.close()
