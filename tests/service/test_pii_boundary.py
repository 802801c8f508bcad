"""Plaintext identity elements sent to a live service never reach the database files, the logs or a response."""

from __future__ import annotations

import httpx

from fengkong.service.loadgen import mix, people
from fengkong.store import open_store

from .conftest import deploy_shipped
from .live import Live


def _secrets(reqs: list[dict]) -> set[str]:
    out = set()
    for r in reqs:
        for k in ("id_no", "name", "phone", "bank_card"):
            if r.get(k):
                out.add(r[k])
    return out


def test_plaintext_never_stored_logged_or_returned(tmp_path):
    db = f"sqlite:///{tmp_path / 'fengkong.db'}"
    st = open_store(db)
    deploy_shipped(st)
    key = st.users.create_key("app", ["decision_client", "investigator"], "test")
    st.close()
    reqs = mix(60, customers=15, seed=11)
    secrets = _secrets(reqs)
    extra = people(2, seed=99)[0]
    secrets |= {extra["id_no"], extra["phone"]}
    bodies: list[str] = []
    with Live(tmp_path, ["--db", db, "--log-level", "debug"]) as live:
        c = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        for r in reqs:
            resp = c.post("/v1/decisions", json=r)
            assert resp.status_code == 200, resp.text
            bodies.append(resp.text)
        bodies.append(c.post("/v1/decisions/batch", json={"events": reqs[:5]}).text)
        bodies.append(c.get(f"/v1/decisions/{reqs[0]['event_id']}").text)
        bodies.append(c.get(f"/v1/customers/{reqs[0]['customer_id']}/decisions").text)
        # a complaint whose free text carries a phone number and an ID number: masked before storage
        comp = {"event_id": "CP1", "event_type": "complaint", "ts": "2026-03-05T10:00:00+08:00",
                "customer_id": reqs[0]["customer_id"], "channel": "hotline", "rep_phone": extra["phone"],
                "text": f"我没有借过这笔钱, 请联系 {extra['phone']}, 身份证 {extra['id_no']}"}
        resp = c.post("/v1/events", json=comp)
        assert resp.status_code == 202, resp.text
        bodies.append(resp.text)
        # plaintext in a token field, and a wrongly typed identity field: refused without echoing the value
        bad = dict(reqs[0], event_id="B1")
        bad.pop("id_no")
        bad["id_token"] = extra["id_no"]
        resp = c.post("/v1/decisions", json=bad)
        assert resp.status_code == 422 and "id_token" in resp.text
        bodies.append(resp.text)
        bad2 = dict(reqs[0], event_id="B2", phone=int(extra["phone"]))
        resp = c.post("/v1/decisions", json=bad2)
        assert resp.status_code == 422 and "phone" in resp.text
        bodies.append(resp.text)
        resp = c.post("/v1/lists/blacklist_phone/entries", json={"value": extra["phone"]})
        assert resp.status_code == 422
        bodies.append(resp.text)
        resp = c.post("/v1/identity/lock", json={"id_no": extra["id_no"], "reason": "customer asked"})
        assert resp.status_code == 200, resp.text
        bodies.append(resp.text)
        logs = live.log()
    assert "POST /v1/decisions" in logs  # the access log is on, so the scan below means something
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".py")]
    assert any(p.name.startswith("fengkong.db") for p in files)
    blobs = {str(p): p.read_bytes() for p in files}
    for s in secrets:
        b = s.encode()
        for name, blob in blobs.items():
            assert b not in blob, f"plaintext identity element found in {name}"
        assert s not in logs
        for body in bodies:
            assert s not in body
