"""Group commit in the decision service: decisions queued while the engine thread is busy share one audit
transaction, and none is answered before that transaction has committed."""

from __future__ import annotations

import threading

import orjson
import pytest

from fengkong.service.loadgen import mix


def _arun(make):
    """Run the coroutine ``make()`` to completion on a new event loop in its own thread (pytest's thread may
    already run a loop, e.g. left by a browser test in the same worker; ``asyncio.run`` refuses then)."""
    import asyncio

    box: dict = {}

    def target() -> None:
        try:
            box["out"] = asyncio.run(make())
        except BaseException as exc:  # re-raised in the test's thread
            box["exc"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "exc" in box:
        raise box["exc"]
    return box["out"]


def _blocked(service):
    """Hold the engine thread until the returned event is set."""
    gate, running = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        gate.wait(30)

    service.submit(hold)
    assert running.wait(30)
    return gate


def _settled(service) -> bool:
    """Whether nothing is pending for the engine thread any more (it finishes a group after answering it)."""
    import time

    deadline = time.monotonic() + 10
    while service._pending and time.monotonic() < deadline:
        time.sleep(0.01)
    return service._pending == 0


def test_queued_decisions_commit_together_and_are_answered_after_the_commit(svc, monkeypatch, caplog):
    service = svc.client.app.state.service
    log = svc.store.decisions
    commits: list[tuple[int, list[bool]]] = []
    real = log._append_rows
    futures: list = []

    def spy(rows):
        commits.append((len(rows), [f.done() for f in futures]))
        real(rows)

    monkeypatch.setattr(log, "_append_rows", spy)
    reqs = mix(12, customers=4, seed=21)
    gate = _blocked(service)
    futures.extend(service.decide_async(*service.prepare(r)) for r in reqs)
    futures.append(service.decide_async(*service.prepare(reqs[0])))  # the same request id again, same group
    assert not any(f.done() for f in futures)
    gate.set()
    outs = [f.result(30) for f in futures]
    assert commits == [(12, [False] * 13)]  # one transaction, nobody answered before it
    assert [o.record["request_id"] for o in outs[:12]] == [r["event_id"] for r in reqs]
    assert not any(o.replayed for o in outs[:12]) and outs[12].replayed
    assert outs[12].record["decided_at"] == outs[0].record["decided_at"]
    res = log.verify()
    assert res.ok and res.checked == 12
    service.flush_cases()  # the group's review cases, opened together after the answers
    review = {o.record["request_id"] for o in outs[:12] if o.record["outcome"] == "review"}
    assert review, "the mix should hold review outcomes"
    assert {c.request_id for c in svc.store.cases.list(limit=100)} == review
    assert "could not open" not in caplog.text
    for r in reqs:  # retries replay the stored decisions
        again = svc.post("/v1/decisions", r)
        assert again.status_code == 200 and again.json()["replayed"]


def test_a_failed_group_commit_answers_503_and_records_nothing(svc, monkeypatch):
    import sqlite3

    service = svc.client.app.state.service
    log = svc.store.decisions

    def fail(rows):
        raise sqlite3.OperationalError("disk I/O error")

    reqs = mix(4, customers=2, seed=22)
    conflict = dict(reqs[0], event_id="seen-before")
    assert svc.post("/v1/decisions", conflict).status_code == 200
    monkeypatch.setattr(log, "_append_rows", fail)
    gate = _blocked(service)
    futs = [service.decide_async(*service.prepare(r)) for r in reqs]
    clash = service.decide_async(*service.prepare(dict(conflict, amount_fen=conflict["amount_fen"] + 1)))
    gate.set()
    from fengkong.service.decider import Conflict, Unavailable

    for f in futs:
        with pytest.raises(Unavailable, match="send it again"):
            f.result(30)
    with pytest.raises(Conflict):  # its own error, not the commit's
        clash.result(30)
    monkeypatch.undo()
    assert all(log.get(r["event_id"]) is None for r in reqs)
    for r in reqs:  # the retry decides and records it
        resp = svc.post("/v1/decisions", r)
        assert resp.status_code == 200 and not resp.json()["replayed"]
    assert log.verify().ok and log.count() == 5


def test_another_writer_storing_an_id_of_the_group_falls_back_to_one_by_one(svc, monkeypatch):
    service = svc.client.app.state.service
    log = svc.store.decisions
    reqs = mix(5, customers=2, seed=23)
    outs = {}
    real = log._append_rows
    first = [True]

    def race(rows):
        if first[0]:  # another process decides reqs[2] just before this group commits
            first[0] = False
            from fengkong.store import open_store

            other = open_store(svc.settings.db)
            meta = dict(rows[2][0])
            other.decisions.append(meta, orjson.loads(rows[2][1]))
            other.close()
        real(rows)

    monkeypatch.setattr(log, "_append_rows", race)
    gate = _blocked(service)
    futs = [service.decide_async(*service.prepare(r)) for r in reqs]
    gate.set()
    for r, f in zip(reqs, futs, strict=True):
        outs[r["event_id"]] = f.result(30)
    assert outs[reqs[2]["event_id"]].replayed  # the other writer's decision stands
    assert not any(outs[r["event_id"]].replayed for i, r in enumerate(reqs) if i != 2)
    assert log.count() == 5 and log.verify().ok


def test_the_fast_path_answers_like_the_route(svc, monkeypatch):
    from fengkong.service import fastpath

    taken: list[bool] = []
    real = fastpath.FastDecide.__call__

    async def spy(self, *a):
        taken.append(await real(self, *a))
        return taken[-1]

    monkeypatch.setattr(fastpath.FastDecide, "__call__", spy)
    reqs = mix(3, customers=2, seed=24)
    first = svc.post("/v1/decisions", reqs[0])  # the key is not cached yet: the route answers
    second = svc.post("/v1/decisions", reqs[1])  # cached now: the fast path answers
    assert first.status_code == second.status_code == 200 and taken == [False, True]
    assert set(first.json()) == set(second.json()) and second.headers["content-type"] == "application/json"
    clash = svc.post("/v1/decisions", dict(reqs[1], amount_fen=reqs[1]["amount_fen"] + 1))
    assert clash.status_code == 409 and "already used" in clash.json()["detail"] and taken[-1] is True
    bad = svc.post("/v1/decisions", dict(reqs[2], amount_fen="lots"))  # schema error: the route's 422
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "amount_fen" and taken[-1] is False
    plain = svc.post("/v1/decisions", dict(reqs[2], id_no_token="110101199003074514"))
    assert plain.status_code == 422 and taken[-1] is False
    assert svc.post("/v1/decisions", reqs[2], role="analyst").status_code == 403 and taken[-1] is False
    text = svc.client.get("/metrics").text
    assert 'fengkong_http_request_seconds_count{method="POST",route="/v1/decisions",status="200"} 2.0' in text
    assert 'fengkong_http_request_seconds_count{method="POST",route="/v1/decisions",status="409"} 1.0' in text


def test_loop_futures_of_a_group_are_answered_together_after_the_commit(svc):
    import asyncio

    service = svc.client.app.state.service
    reqs = mix(6, customers=2, seed=25)

    async def run():
        gate = _blocked(service)
        futs = [service.decide_soon(*service.prepare(r)) for r in reqs]
        await asyncio.sleep(0.05)
        assert not any(f.done() for f in futs)
        gate.set()
        return await asyncio.gather(*futs)

    outs = _arun(run)
    assert [o.record["request_id"] for o in outs] == [r["event_id"] for r in reqs]
    assert all(svc.store.decisions.get(r["event_id"]) is not None for r in reqs)
    assert _settled(service)


def test_a_request_whose_time_bound_passed_before_its_group_started_is_not_decided(svc):

    from fengkong.service.decider import Unavailable
    from fengkong.service.respond import wait_decided

    service = svc.client.app.state.service
    late, on_time = mix(2, customers=1, seed=26)

    async def run():
        gate = _blocked(service)
        with pytest.raises(Unavailable, match="same request_id"):
            await wait_decided(service.decide_soon(*service.prepare(late)), 0.05)
        fut = service.decide_soon(*service.prepare(on_time))
        gate.set()
        return await wait_decided(fut, 30)

    assert _arun(run).record["request_id"] == on_time["event_id"]
    assert svc.store.decisions.get(late["event_id"]) is None
    assert _settled(service)


def test_a_group_whose_transaction_cannot_begin_is_answered_503(svc, monkeypatch):
    import contextlib

    from fengkong.service.decider import Unavailable
    from fengkong.store import StoreError

    service = svc.client.app.state.service
    reqs = mix(3, customers=2, seed=27)

    @contextlib.contextmanager
    def broken():
        raise StoreError("sqlite:///x", "beginning the group", OSError("store unreachable"))
        yield

    gate = _blocked(service)
    monkeypatch.setattr(service.engine, "batch", broken)
    futs = [service.decide_async(*service.prepare(r)) for r in reqs]
    gate.set()
    for f in futs:
        with pytest.raises(Unavailable, match="send it again"):
            f.result(5)
    monkeypatch.undo()
    assert all(svc.store.decisions.get(r["event_id"]) is None for r in reqs)


def test_requests_read_in_one_loop_pass_start_one_group_after_the_pass(svc, monkeypatch):
    import asyncio

    service = svc.client.app.state.service
    reqs = mix(3, customers=2, seed=28)
    starts: list[int] = []
    real = service._schedule_drain

    def spy() -> None:
        starts.append(len(service._queued))
        real()

    monkeypatch.setattr(service, "_schedule_drain", spy)

    async def run():
        futs = [service.decide_soon(*service.prepare(r)) for r in reqs]
        assert starts == []  # the engine thread is not woken in the middle of the pass
        await asyncio.sleep(0)
        assert starts == [3]  # once, with the three of them queued
        return await asyncio.gather(*futs)

    assert [o.record["request_id"] for o in _arun(run)] == [r["event_id"] for r in reqs]
