"""The case store, labels, users/API keys and the admin log, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text

from fengkong.store import CaseError, Store, UserError


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def _open(store, ref, priority=0, amount=0, queue="identity", at=None):
    return store.cases.open("test", ref, queue, "review", f"case {ref}", evidence={"reason_codes": ["X"]},
                            customer_id="tok_c", priority=priority, amount_fen=amount, at=at)[0]


def test_open_is_idempotent_and_take_next_orders_by_priority_amount_age(store):
    t0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    a = _open(store, "a", priority=1, at=t0)
    b = _open(store, "b", priority=5, amount=100, at=t0 + dt.timedelta(minutes=1))
    c = _open(store, "c", priority=5, amount=100, at=t0 + dt.timedelta(minutes=2))
    d = _open(store, "d", priority=5, amount=900, at=t0 + dt.timedelta(minutes=3))
    assert store.cases.open("test", "a", "identity", "review", "again", evidence={})[1] is False
    got = [store.cases.take_next("r1").id for _ in range(4)]
    assert got == [d, b, c, a]
    assert store.cases.take_next("r1") is None
    assert store.cases.get(d).history[-1]["action"] == "taken"


def test_two_reviewers_taking_at_once_never_share_a_case(store):
    ids = {_open(store, f"k{i}", priority=i % 3) for i in range(30)}
    got: dict[str, list[int]] = {"r1": [], "r2": [], "r3": []}
    barrier = threading.Barrier(3)

    def work(name):
        barrier.wait()
        while (c := store.cases.take_next(name)) is not None:
            got[name].append(c.id)

    ts = [threading.Thread(target=work, args=(n,)) for n in got]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    taken = [i for v in got.values() for i in v]
    assert sorted(taken) == sorted(ids)  # every case once, none twice


def test_decide_needs_note_assignee_and_four_eyes(store):
    cid = _open(store, "x", amount=5_000_000)
    store.cases.take_next("alice")
    with pytest.raises(CaseError, match="needs a note"):
        store.cases.decide(cid, "alice", "confirm_fraud", " ")
    with pytest.raises(CaseError, match="assigned to alice"):
        store.cases.decide(cid, "bob", "confirm_fraud", "looks bad")
    c = store.cases.decide(cid, "alice", "confirm_fraud", "device and phone new", needs_approval=True)
    assert c.status == "pending_approval"
    with pytest.raises(CaseError, match="second person"):
        store.cases.approve(cid, "alice", "ok")
    c = store.cases.approve(cid, "bob", "agreed")
    assert c.status == "closed" and c.decision == "confirm_fraud"
    assert [h["action"] for h in c.history] == ["opened", "taken", "decided", "approved"]


def test_snooze_hides_and_escalate_raises_priority(store):
    a, b = _open(store, "a", priority=1), _open(store, "b", priority=0)
    store.cases.snooze(a, "r", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert store.cases.take_next("r").id == b
    store.cases.release(b, "r")
    store.cases.escalate(b, "r", "needs a supervisor")
    assert store.cases.get(b).priority == 100 and store.cases.get(b).escalated
    with pytest.raises(CaseError, match="needs a note"):
        store.cases.escalate(b, "r", "")


def test_sla_breach(store):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    cid = _open(store, "old", at=old)
    assert store.cases.get(cid).breached()
    assert not store.cases.get(_open(store, "new")).breached()


def test_labels_latest_wins(store):
    store.labels.add("identity", "tok_1", "fraud", source="case", created_by="alice", case_id=1)
    store.labels.add("identity", "tok_1", "not_fraud", source="case", created_by="bob")
    assert [lb.label for lb in store.labels.latest("identity")] == ["not_fraud"]
    with pytest.raises(ValueError, match="subject_kind"):
        store.labels.add("planet", "x", "fraud", source="t", created_by="a")


def test_users_passwords_and_api_keys_are_hashed(store):
    store.users.add("alice", "correct horse", ["reviewer", "supervisor"])
    with pytest.raises(UserError, match="exists"):
        store.users.add("alice", "another pass", "reviewer")
    with pytest.raises(UserError, match="unknown role"):
        store.users.add("bob", "long enough", "wizard")
    assert store.users.authenticate("alice", "correct horse").roles == {"reviewer", "supervisor"}
    assert store.users.authenticate("alice", "wrong horse") is None
    assert store.users.authenticate("nobody", "correct horse") is None
    key = store.users.create_key("app", "decision_client", "admin")
    assert store.users.check_key(key).roles == {"decision_client"}
    assert store.users.check_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    with store.engine.connect() as c:
        dump = " ".join(str(r) for r in c.execute(text("SELECT * FROM fk_users")).all())
        dump += " ".join(str(r) for r in c.execute(text("SELECT * FROM fk_api_keys")).all())
    assert "correct horse" not in dump and key.split("_", 2)[2] not in dump
    store.users.revoke_key(key.split("_")[1])
    assert store.users.check_key(key) is None


def test_admin_log_chain_detects_an_edit(store):
    for i in range(5):
        store.admin.append("alice", "deploy", f"s@{i}", {"i": i})
    assert store.admin.verify().ok and store.admin.verify().checked == 5
    assert store.admin.entries(limit=1)[0]["detail"] == {"i": 4}
    with store.engine.begin() as c:
        c.execute(text("UPDATE fk_admin_log SET actor = 'mallory' WHERE seq = 3"))
    v = store.admin.verify()
    assert not v.ok and v.first_bad_seq == 3


def test_open_many_is_open_for_several_cases_in_one_transaction(store):
    at = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    existing, _ = store.cases.open("engine", "r1", "identity", "review", "first", evidence={"a": 1})
    items = [dict(source="engine", ref=ref, queue="fraud", kind="review", title=f"t {ref}", evidence={"ref": ref},
                  customer_id="c9", request_id=ref, product="cash", priority=3, amount_fen=12_300, score=0.7, at=at)
             for ref in ("r1", "r2", "r3", "r2")]
    got = store.cases.open_many(items)
    assert got[0] == (existing, False) and got[1][1] and got[2][1] and got[3] == (got[1][0], False)
    c = store.cases.get(got[2][0])
    assert (c.queue, c.title, c.customer_id, c.product, c.priority, c.amount_fen, c.score, c.status) == \
        ("fraud", "t r3", "c9", "cash", 3, 12_300, 0.7, "open")
    assert c.evidence == {"ref": "r3"} and [h["action"] for h in c.history] == ["opened"]
    assert c.created_at.startswith("2026-01-05T08:00:00") and c.due_at > c.created_at
    single, _ = store.cases.open("engine", "r4", "fraud", "review", "t r4", evidence={"ref": "r4"}, customer_id="c9",
                                 request_id="r4", product="cash", priority=3, amount_fen=12_300, score=0.7, at=at)
    one = store.cases.get(single)
    assert (one.created_at, one.due_at, one.evidence) == (c.created_at, c.due_at, {"ref": "r4"})
    assert store.cases.open_many(items[1:3]) == [(got[1][0], False), (got[2][0], False)]
    assert store.cases.open_many([]) == []
    with pytest.raises(CaseError):
        store.cases.open_many([dict(items[0], amount_fen=1.5)])
