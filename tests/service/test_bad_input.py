"""Bad input and failing dependencies: 422 with the field path, 413, 415, bounded time, nothing half-written."""

from __future__ import annotations

import sqlite3
import time

from fengkong.service.loadgen import mix


def test_schema_errors_name_the_field_path(svc):
    r = mix(1, customers=1, seed=2)[0]
    bad = dict(r, amount_fen="lots")
    resp = svc.post("/v1/decisions", bad)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "application", "amount_fen"]
    resp = svc.post("/v1/decisions", dict(r, colour="red"))
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "colour"
    batch = mix(4, customers=2, seed=3)
    batch[2] = dict(batch[2], ts="yesterday")
    resp = svc.post("/v1/decisions/batch", {"events": batch})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"][:3] == ["body", "events", 2]
    assert svc.store.decisions.count() == 0  # nothing of the batch was decided
    resp = svc.client.post("/v1/decisions", content=b"{not json", headers={**svc.h("decision_client"),
                                                                          "content-type": "application/json"})
    assert resp.status_code == 422


def test_413_415_and_batch_limit(make_svc):
    svc = make_svc(max_body_bytes=4096, max_batch=3)
    r = mix(1, customers=1, seed=4)[0]
    big = dict(r, device_id="x" * 5000)
    assert svc.post("/v1/decisions", big).status_code == 413
    resp = svc.client.post("/v1/decisions", content=b"x" * 100, headers={**svc.h("decision_client"),
                                                                       "content-type": "text/plain"})
    assert resp.status_code == 415
    # a chunked body without Content-Length is counted as it arrives
    def chunks():
        for _ in range(10):
            yield b" " * 1000

    resp = svc.client.post("/v1/decisions", content=chunks(), headers={**svc.h("decision_client"),
                                                                     "content-type": "application/json"})
    assert resp.status_code == 413
    resp = svc.post("/v1/decisions/batch", {"events": mix(4, customers=2, seed=5)})
    assert resp.status_code == 422 and "at most 3" in resp.text
    assert svc.store.decisions.count() == 0


def test_timeout_is_503_and_the_retry_gets_the_one_decision(make_svc):
    svc = make_svc(request_timeout_s=0.2)
    eng = svc.client.app.state.engine
    real = eng.decide

    def slow(*a, **kw):
        time.sleep(0.6)
        return real(*a, **kw)

    eng.decide = slow
    r = mix(1, customers=1, seed=6)[0]
    resp = svc.post("/v1/decisions", r)
    assert resp.status_code == 503 and "same request_id" in resp.text
    eng.decide = real
    time.sleep(0.6)
    again = svc.post("/v1/decisions", r)
    assert again.status_code == 200 and again.json()["replayed"]
    assert svc.store.decisions.count() == 1


def test_store_failure_is_503_with_nothing_written_and_features_not_counted_twice(svc):
    reqs = mix(3, customers=1, seed=7, purchase_share=0.0)
    assert svc.post("/v1/decisions", reqs[0]).status_code == 200
    log = svc.store.decisions
    real = log.append

    def broken(*a, **kw):
        raise sqlite3.OperationalError("disk I/O error")

    log.append = broken
    resp = svc.post("/v1/decisions", reqs[1])
    assert resp.status_code == 503
    assert log.count() == 1 and log.get(reqs[1]["event_id"]) is None
    log.append = real
    ok = svc.post("/v1/decisions", reqs[1])
    assert ok.status_code == 200 and not ok.json()["replayed"]
    assert ok.json()["features"]["app_cnt_id_7d"] == 1  # the failed attempt did not count the application
    third = svc.post("/v1/decisions", reqs[2]).json()
    assert third["features"]["app_cnt_id_7d"] == 2
    assert log.verify().ok
    m = svc.client.get("/metrics").text
    assert 'fengkong_store_errors_total{action="decide"} 1.0' in m


def test_feature_state_failure_decides_by_the_fallback_and_records_it(svc):
    feats = svc.client.app.state.engine.features

    def down(event):
        raise ConnectionError("redis: connection refused")

    feats.read_update = down
    r = mix(1, customers=1, seed=8)[0]
    resp = svc.post("/v1/decisions", r)
    assert resp.status_code == 200
    d = resp.json()
    assert d["reason_codes"] == ["ENGINE_ERROR"] and d["error"].startswith("features:")
    assert svc.store.decisions.get(r["event_id"])["outcome"] == d["outcome"]
    assert "fengkong_fallback_decisions_total" in svc.client.get("/metrics").text


def test_a_future_dated_event_is_a_422_and_the_next_events_are_decided(make_svc):
    """Issue 20 item 1: one clock-skewed event is refused alone; it neither poisons nor is recorded."""
    import datetime as dt

    from fengkong.events import TZ
    from fengkong.service.loadgen import mix

    svc = make_svc()
    reqs = mix(4, customers=2, seed=3, purchase_share=0.0)
    future = dict(reqs[0], event_id="FUTURE-1", ts=(dt.datetime.now(TZ) + dt.timedelta(days=365)).isoformat())
    r = svc.post("/v1/decisions", future)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == "ts" and "ahead of this machine's clock" in r.json()["detail"][0]["msg"]
    assert svc.get("/v1/decisions/FUTURE-1").status_code == 404
    for q in reqs:
        d = svc.post("/v1/decisions", q)
        assert d.status_code == 200 and "ENGINE_ERROR" not in d.json()["reason_codes"], d.text
    late = dict(reqs[0], event_id="LATE-1", ts=(dt.datetime.fromisoformat(reqs[-1]["ts"]) - dt.timedelta(days=2))
                .isoformat())
    r = svc.post("/v1/events", late)
    assert r.status_code == 422 and "late" in r.json()["detail"][0]["msg"]
