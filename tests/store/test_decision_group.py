"""Group commit of the decision audit log (``DecisionLog.group``) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from fengkong.store import DuplicateRequest, open_store


def _meta(rid: str) -> dict:
    return {"request_id": rid, "event_type": "application", "event_ts": "2025-01-01T00:00:00+08:00",
            "customer_id": "c", "strategy_name": "s", "strategy_version": "1", "outcome": "approve",
            "created_at": "2025-01-01T00:00:00+00:00"}


def test_a_group_is_one_chained_commit_visible_only_after_it(db_url):
    st, other = open_store(db_url), open_store(db_url)
    st.decisions.append(_meta("before"), {"i": -1})
    with st.decisions.group():
        for i in range(5):
            assert st.decisions.append(_meta(f"g{i}"), {"i": i}) == 0
        assert st.decisions.get("g3") == {"i": 3}  # the group's own pending record
        assert other.decisions.get("g3") is None  # nothing durable or visible elsewhere yet
        seen: list = []
        t = threading.Thread(target=lambda: seen.append(st.decisions.get("g3")))  # another thread, same log
        t.start()
        t.join()
        assert seen == [None]
    assert other.decisions.get("g3") == {"i": 3}
    st.decisions.append(_meta("after"), {"i": 99})
    res = other.decisions.verify()
    assert res.ok and res.checked == 7
    rows = list(other.decisions.rows())
    assert [r["request_id"] for r in rows] == ["before", "g0", "g1", "g2", "g3", "g4", "after"]
    assert [r["seq"] for r in rows] == list(range(1, 8))
    st.close()
    other.close()


def test_an_exception_inside_discards_the_whole_group(db_url):
    st = open_store(db_url)
    with pytest.raises(ZeroDivisionError), st.decisions.group():
        st.decisions.append(_meta("x1"), {"i": 1})
        1 / 0  # noqa: B018
    assert st.decisions.get("x1") is None and st.decisions.count() == 0
    with st.decisions.group():  # the log is usable again
        st.decisions.append(_meta("x1"), {"i": 1})
    assert st.decisions.count() == 1 and st.decisions.verify().ok
    st.close()


def test_duplicates_inside_and_across_a_group(db_url):
    st, other = open_store(db_url), open_store(db_url)
    with st.decisions.group():
        st.decisions.append(_meta("d1"), {"i": 1})
        with pytest.raises(DuplicateRequest):
            st.decisions.append(_meta("d1"), {"i": 2})
    assert st.decisions.get("d1") == {"i": 1}
    # another writer stores an id of the group before it commits: nothing of the group is recorded
    with pytest.raises(DuplicateRequest), st.decisions.group():
        st.decisions.append(_meta("d2"), {"i": 2})
        st.decisions.append(_meta("d3"), {"i": 3})
        other.decisions.append(_meta("d3"), {"i": 30})
    assert st.decisions.get("d2") is None and st.decisions.get("d3") == {"i": 30}
    res = st.decisions.verify()
    assert res.ok and res.checked == 2
    with pytest.raises(RuntimeError, match="at a time"), st.decisions.group(), st.decisions.group():
        pass
    st.close()
    other.close()


def test_checkpoints_inside_a_group(db_url, monkeypatch):
    monkeypatch.setenv("FENGKONG_AUDIT_CHECKPOINT_EVERY", "4")
    st = open_store(db_url)
    with st.decisions.group():
        for i in range(10):
            st.decisions.append(_meta(f"c{i}"), {"i": i})
    assert [c["seq"] for c in st.decisions.checkpoints()] == [4, 8]
    rows = {r["seq"]: r["hash"] for r in st.decisions.rows()}
    assert [c["head_hash"] for c in st.decisions.checkpoints()] == [rows[4], rows[8]]
    assert st.decisions._since_checkpoint == 2
    assert st.decisions.verify().ok
    st.close()
