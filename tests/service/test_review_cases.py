"""A review outcome decided over HTTP becomes a case in the inbox (and a replay opens no second one)."""

from __future__ import annotations

from fengkong.service.loadgen import mix
from fengkong.strategy import strategy_from_text

REVIEW_ALL = """name: review_all
version: "1"
event_type: purchase
nodes:
  - id: rs
    type: ruleset
    rules:
      - {id: R_LARGE, when: "amount_fen >= 0", action: review, reason: "every purchase goes to a reviewer"}
"""


def test_review_decision_opens_one_case(svc):
    s = strategy_from_text(REVIEW_ALL, "review_all.yaml")
    svc.store.versions.deploy(s)
    svc.store.versions.activate(s.name, s.version)
    svc.client.app.state.engine.refresh()
    ev = next(r for r in mix(20, customers=5, seed=3) if r["event_type"] == "purchase")
    r = svc.post("/v1/decisions", ev)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "review"
    svc.client.app.state.service.flush_cases()  # the case is opened right after the answer
    case = svc.store.cases.by_ref("engine", ev["event_id"])
    assert case is not None and case.status == "open" and "R_LARGE" in case.evidence["rules_hit"]
    assert case.amount_fen == ev["amount_fen"]
    assert svc.post("/v1/decisions", ev).json()["replayed"]
    assert sum(svc.store.cases.counts().values()) == 1


def test_gathered_cases_open_within_the_delay_without_a_flush(svc):
    import time

    from fengkong.service import decider

    s = strategy_from_text(REVIEW_ALL, "review_all.yaml")
    svc.store.versions.deploy(s)
    svc.store.versions.activate(s.name, s.version)
    svc.client.app.state.engine.refresh()
    evs = [r for r in mix(40, customers=5, seed=4) if r["event_type"] == "purchase"][:3]
    assert 0 < len(evs) < decider.CASE_BATCH
    for ev in evs:
        assert svc.post("/v1/decisions", ev).json()["outcome"] == "review"
    deadline = time.monotonic() + decider.CASE_DELAY_S + 5
    while time.monotonic() < deadline and sum(svc.store.cases.counts().values()) < len(evs):
        time.sleep(0.02)
    assert {svc.store.cases.by_ref("engine", ev["event_id"]) is not None for ev in evs} == {True}
