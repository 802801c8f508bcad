"""Lists, identity locks / "not me", strategy deploy with four-eyes over HTTP, rollback, diff, backtest jobs."""

from __future__ import annotations

import time
from pathlib import Path

from fengkong.service.loadgen import mix

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "fengkong" / "strategies"


def test_lists_and_identity_lock_change_decisions(svc):
    reqs = mix(4, customers=2, seed=21, purchase_share=0.0)
    first = svc.post("/v1/decisions", reqs[0]).json()
    assert first["outcome"] == "approve", first
    lock = svc.post("/v1/identity/lock", {"id_no": reqs[1]["id_no"], "reason": "customer request", "actor": "person"})
    assert lock.status_code == 200 and lock.json()["changed"]
    d = svc.post("/v1/decisions", reqs[1]).json()
    assert d["outcome"] == "reject" and "IDENTITY_LOCKED" in d["reason_codes"], d
    assert svc.post("/v1/identity/unlock", {"id_token": lock.json()["id_token"], "reason": "verified"}).status_code == 200
    tok = svc.client.app.state.tokenizer.token("id", reqs[2]["id_no"])
    add = svc.post("/v1/lists/blacklist_id/entries", {"value": tok, "reason": "confirmed fraud"}, role="investigator")
    assert add.status_code == 201, add.text
    assert svc.post("/v1/decisions", reqs[2]).json()["outcome"] == "reject"
    listed = svc.get("/v1/lists?name=blacklist_id", role="analyst").json()["entries"]
    assert [e["value"] for e in listed] == [tok]
    exp = svc.post("/v1/lists/blacklist_id/expire", {"value": tok, "expires_at": "2020-01-01T00:00:00+00:00"},
                   role="supervisor")
    assert exp.json()["expired"] == 1
    assert svc.get("/v1/lists?name=blacklist_id").json()["entries"] == []
    assert svc.client.delete(f"/v1/lists/blacklist_id/entries/{tok}", headers=svc.h("investigator")).json() == {
        "removed": 1}
    actions = [e["action"] for e in svc.store.admin.entries()]
    assert {"identity.lock", "identity.unlock", "lists.add", "lists.expire", "lists.remove"} <= set(actions)


def test_not_me_report_locks_and_marks_the_attackers_device(svc):
    reqs = mix(3, customers=1, seed=22, purchase_share=0.0)
    for r in reqs:
        assert svc.post("/v1/decisions", r).status_code == 200
    resp = svc.post("/v1/identity/not-me", {"id_no": reqs[0]["id_no"], "application_ids": [reqs[2]["event_id"]],
                                            "reason": "victim called", "actor": "person"})
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["locked"] and out["applications"] == [reqs[2]["event_id"]]
    assert f"dv:{reqs[2]['device_id']}" in out["risky_elements"]
    bad = svc.post("/v1/identity/not-me", {"id_no": reqs[0]["id_no"], "application_ids": ["nope"], "reason": "x"})
    assert bad.status_code == 422 and "application" in bad.text


def test_deploy_four_eyes_rollback_and_diff_over_http(make_svc):
    svc = make_svc(four_eyes=True)
    src = (SHIPPED / "application.yaml").read_text()
    v2 = src.replace("version: \"1.3\"", "version: \"1.4\"").replace("version: '1.3'", "version: '1.4'")
    assert v2 != src
    r = svc.post("/v1/strategies", {"source": v2, "activate": "champion"}, role="deployer")
    assert r.status_code == 201, r.text
    assert r.json()["activation"]["status"] == "pending"
    rid = r.json()["activation"]["request"]["id"]
    assert svc.post(f"/v1/deploy-requests/{rid}/approve", {}, role="deployer").status_code == 409  # same key
    other = svc.store.users.create_key("second", ["deployer"], "test")
    ok = svc.client.post(f"/v1/deploy-requests/{rid}/approve", headers={"Authorization": f"Bearer {other}"})
    assert ok.status_code == 200 and ok.json()["routing"]["champion"][1] == "1.4"
    name = ok.json()["routing"]["champion"][0]
    d = svc.post("/v1/decisions", mix(1, customers=1, seed=23)[0]).json()
    assert d["version"] == "1.4"
    diff = svc.get(f"/v1/strategies/diff?a={name}@1.3&b={name}@1.4", role="analyst").json()
    assert any(line.startswith("+") for line in diff["text"])
    back = svc.post("/v1/strategies/rollback", {"target": "application"}, role="deployer")
    assert back.status_code == 200 and back.json()["routing"]["champion"][1] == "1.3"
    assert svc.post("/v1/decisions", mix(2, customers=2, seed=24, purchase_share=0.0)[1]).json()["version"] == "1.3"
    ch = svc.post(f"/v1/strategies/{name}/1.3/activate", {"role": "shadow"}, role="deployer")
    assert ch.status_code == 200, ch.text
    assert ch.json()["routing"]["shadows"] == [[name, "1.3"]]
    listing = svc.get("/v1/strategies", role="deployer").json()
    assert any("shadow of application" in a for v in listing["versions"] for a in v["active"])
    acts = [e["action"] for e in svc.store.admin.entries()]
    assert acts[:1] == ["strategy.activate"] and "deploy.approve" in acts and "strategy.rollback" in acts


def test_backtest_job_over_http(make_svc, tmp_path):
    from fengkong.events import pii
    from fengkong.simulate import SimConfig, simulate_world

    data = tmp_path / "data"
    simulate_world(data / "w", SimConfig(customers=200, months=3, seed=5), tokenizer=pii.tokenizer())
    svc = make_svc(data_dir=str(data))
    listing = svc.get("/v1/strategies", role="analyst").json()
    app = next(v for v in listing["versions"] if v["event_type"] == "application")
    ref = f"{app['name']}@{app['version']}"
    assert svc.post("/v1/backtests", {"strategy": ref, "events": "../.."}, role="analyst").status_code == 422
    sub = svc.post("/v1/backtests", {"strategy": ref, "events": "w"}, role="analyst")
    assert sub.status_code == 202, sub.text
    jid = sub.json()["id"]
    for _ in range(300):
        st = svc.get(f"/v1/backtests/{jid}", role="analyst").json()
        if st["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert st["status"] == "done", st
    res = svc.get(f"/v1/backtests/{jid}/result", role="analyst").json()["result"]
    assert res and isinstance(res, dict)
