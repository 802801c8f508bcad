"""API v1 basics: decide, replay, 409, GET by id, by customer, batch, events."""

from __future__ import annotations

import pytest

from fengkong.service.loadgen import mix


@pytest.mark.parametrize("inline", [False, True], ids=["engine-thread", "inline"])
def test_decide_replay_conflict_and_reads(make_svc, inline):
    svc = make_svc(engine_inline=inline)
    reqs = mix(6, customers=3, seed=1)
    r = svc.post("/v1/decisions", reqs[0])
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["request_id"] == reqs[0]["event_id"] and d["strategy"] and not d["replayed"]
    again = svc.post("/v1/decisions", reqs[0])
    assert again.status_code == 200 and again.json()["replayed"]
    assert {k: v for k, v in again.json().items() if k != "replayed"} == {k: v for k, v in d.items() if k != "replayed"}
    other = dict(reqs[0], amount_fen=reqs[0]["amount_fen"] + 100)
    assert svc.post("/v1/decisions", other).status_code == 409
    g = svc.get(f"/v1/decisions/{reqs[0]['event_id']}")
    assert g.status_code == 200 and g.json()["outcome"] == d["outcome"]
    assert svc.get("/v1/decisions/nope").status_code == 404
    b = svc.post("/v1/decisions/batch", {"events": reqs[1:]})
    assert b.status_code == 200, b.text
    assert [x["status"] for x in b.json()["results"]] == [200] * 5
    page = svc.get(f"/v1/customers/{reqs[0]['customer_id']}/decisions?limit=1")
    assert page.status_code == 200 and len(page.json()["decisions"]) == 1


def test_metrics_and_readiness(svc):
    for r in mix(8, customers=4, seed=12):
        assert svc.post("/v1/decisions", r).status_code == 200
    m = svc.client.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    text = m.text
    assert 'fengkong_decision_seconds_bucket{event_type="application",le="0.01",strategy="application_reference"' in text
    assert 'fengkong_http_request_seconds_count{method="POST",route="/v1/decisions",status="200"}' in text
    assert "fengkong_decisions_total{" in text and "fengkong_feature_state_lag_seconds" in text
    assert svc.client.get("/healthz").json() == {"ok": True}
    ready = svc.client.get("/readyz").json()
    assert ready["ok"] and ready["strategies"] == ["application", "purchase"]


@pytest.mark.parametrize("inline", [False, True], ids=["engine-thread", "inline"])
def test_every_review_decision_gets_its_case_after_the_answer(make_svc, inline):
    from sqlalchemy import text

    svc = make_svc(engine_inline=inline)
    service = svc.client.app.state.service
    outcomes = {}
    for r in mix(40, customers=10, seed=5):
        resp = svc.post("/v1/decisions", r)
        assert resp.status_code == 200, resp.text
        outcomes[r["event_id"]] = resp.json()["outcome"]
        assert "ENGINE_ERROR" not in resp.json()["reason_codes"], resp.json()["reasons"]
    review = {rid for rid, o in outcomes.items() if o == "review"}
    assert review, "the mix should produce review outcomes"
    service.flush_cases()
    with svc.store.engine.connect() as c:
        opened = {r[0] for r in c.execute(text("SELECT request_id FROM fk_cases WHERE request_id IS NOT NULL"))}
    assert review <= opened and not (opened - review) & set(outcomes)
