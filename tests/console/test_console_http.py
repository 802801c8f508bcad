"""Console over HTTP (FastAPI TestClient): sessions, CSRF, roles, locales, the case workflow and its feedback,
the ring, compliance, monitoring and strategy pages."""

from __future__ import annotations

import io
import threading
import time

import pytest
from fastapi.testclient import TestClient
from tests.console.conftest import PASSWORD, csrf_of, login, make_app

from fengkong import casework
from fengkong.store import Store


def _case(store, ref, amount=100_000, queue_codes=("IDT_TWO_SIGNALS",), customer="C1"):
    d = {"request_id": ref, "outcome": "review", "event_type": "application", "reason_codes": list(queue_codes),
         "reasons": ["why"], "rules_hit": ["R"], "features": {"fr_dti": 0.5}, "scores": {"score": 600.0},
         "strategy": "s", "version": "1", "customer_id": customer}
    return casework.case_from_decision(store, d, {"amount_fen": amount, "id_token": f"ID-{ref}-token",
                                                  "phone_token": f"PH-{ref}", "device_id": f"DV-{ref}"})


@pytest.fixture
def store(tmp_path):
    st = Store(f"sqlite:///{tmp_path / 's.db'}")
    for name, roles in (("rev", "reviewer"), ("rev2", "reviewer"), ("sup", "supervisor,reviewer"),
                        ("comp", "compliance"), ("inv", "investigator")):
        st.users.add(name, PASSWORD, roles)
    yield st
    st.close()


def test_login_csrf_logout_and_idle_timeout(store):
    app = make_app(store, idle_minutes=0.02)
    c = TestClient(app)
    assert c.get("/console/cases", follow_redirects=False).headers["location"] == "/console/login"
    page = c.get("/console/login").text
    r = c.post("/console/login", data={"csrf": csrf_of(page), "username": "rev", "password": "wrong-password"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = c.post("/console/login", data={"csrf": "forged", "username": "rev", "password": PASSWORD},
               follow_redirects=False)
    assert r.status_code != 303  # no session without the form's token
    login(c, "rev")
    html = c.get("/console/cases").text
    assert c.post("/console/cases/next", data={"csrf": "nope"}).status_code == 403
    r = c.post("/console/logout", data={"csrf": csrf_of(html)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/console/cases", follow_redirects=False).status_code == 303
    login(c, "rev")
    time.sleep(1.5)  # idle 1.2 s
    r = c.get("/console/cases", follow_redirects=False)
    assert r.headers["location"] == "/console/login?reason=idle"
    acts = [e["action"] for e in store.admin.entries()]
    assert {"console.login", "console.logout", "console.login_failed"} <= set(acts)


def test_roles_and_locales(store):
    c = login(TestClient(make_app(store)), "rev")
    for url in ("/console/compliance", "/console/rings", "/console/strategy", "/console/monitor"):
        assert c.get(url).status_code == 403, url
    assert "待办" in c.get("/console/cases").text
    c.get("/console/lang/en?back=/console/cases")
    html = c.get("/console/cases").text
    assert "Inbox" in html and "Take next case" in html and "待办" not in html
    comp = login(TestClient(make_app(store)), "comp")
    assert comp.get("/console/cases").status_code == 403


def test_form_controls_have_labels(store):
    import re

    _case(store, "E1")
    c = login(TestClient(make_app(store)), "rev")
    for url in ("/console/cases", "/console/cases/1"):
        html = c.get(url).text
        ids = set(re.findall(r'<label for="([^"]+)"', html))
        for m in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
            attrs = m.group(2)
            if 'type="hidden"' in attrs or 'type="checkbox"' in attrs or 'type="radio"' in attrs:
                continue  # checkboxes and radios sit inside their <label>
            cid = re.search(r'id="([^"]+)"', attrs)
            assert cid and cid.group(1) in ids, f"{url}: unlabeled control {m.group(0)}"


def test_four_eyes_decision_then_feedback_on_approval(store):
    cid = _case(store, "BIG", amount=9_000_000)
    app = make_app(store, four_eyes_fen=5_000_000)
    rev = login(TestClient(app), "rev")
    html = rev.get(f"/console/cases/{cid}").text
    assert "四眼" in html
    r = rev.post(f"/console/cases/{cid}/action", data={"csrf": csrf_of(html), "action": "decide",
                                                        "decision": "confirm_fraud", "note": "",
                                                        "lists": ["id_token"]})
    assert "note" in r.text and store.cases.get(cid).status == "open"  # the note is mandatory
    rev.post(f"/console/cases/{cid}/action", data={"csrf": csrf_of(html), "action": "decide",
                                                    "decision": "confirm_fraud", "note": "stolen ID",
                                                    "lists": ["id_token", "device_id"], "expiry_days": "30"})
    assert store.cases.get(cid).status == "pending_approval"
    assert "blacklist_id" not in store.lists.snapshot()  # nothing applied before the second person
    r = rev.post(f"/console/cases/{cid}/action", data={"csrf": csrf_of(html), "action": "approve", "note": "me"})
    assert store.cases.get(cid).status == "pending_approval"  # the decider cannot approve
    sup = login(TestClient(app), "sup")
    html = sup.get(f"/console/cases/{cid}").text
    sup.post(f"/console/cases/{cid}/action", data={"csrf": csrf_of(html), "action": "approve", "note": "agreed"})
    c = store.cases.get(cid)
    assert c.status == "closed" and c.decision == "confirm_fraud"
    snap = store.lists.snapshot()
    assert snap["blacklist_id"] == {"ID-BIG-token"} and snap["blacklist_device"] == {"DV-BIG"}
    assert "blacklist_phone" not in snap  # not chosen
    exp = next(e.expires_at for e in store.lists.entries("blacklist_id"))
    assert "T" in exp  # expiry set (30 days)
    assert {(lb.subject_kind, lb.label) for lb in store.labels.latest()} >= {("request", "fraud"), ("identity", "fraud")}


def test_false_positive_whitelists_and_labels_export(store, tmp_path):
    import polars as pl
    from typer.testing import CliRunner

    from fengkong.cli import _register_all, app

    cid = _case(store, "FP1")
    casework.take_next(store, "rev")
    casework.decide(store, cid, "rev", "false_positive", "customer verified by phone", whitelist=True)
    assert store.lists.snapshot()["whitelist_id"] == {"ID-FP1-token"}
    assert "blacklist_id" not in store.lists.snapshot()
    _register_all()
    out = tmp_path / "labels.parquet"
    r = CliRunner().invoke(app, ["labels", "export", "--out", str(out), "--db", store.url])
    assert r.exit_code == 0, r.output
    df = pl.read_parquet(out)
    assert df.select("event_id", "label", "target").rows() == [("FP1", "good", 0)]
    bad = CliRunner().invoke(app, ["labels", "export", "--out", str(tmp_path / "x.txt"), "--db", store.url])
    assert bad.exit_code == 2 and ".parquet or .csv" in bad.output


def test_escalate_snooze_assign_and_sla_breach(store):
    cid = _case(store, "S1")
    app = make_app(store)
    c = login(TestClient(app), "rev")
    html = c.get(f"/console/cases/{cid}").text
    t = csrf_of(html)
    c.post(f"/console/cases/{cid}/action", data={"csrf": t, "action": "assign", "assignee": "rev2"})
    assert store.cases.get(cid).assignee == "rev2"
    c.post(f"/console/cases/{cid}/action", data={"csrf": t, "action": "escalate", "note": "needs a supervisor"})
    e = store.cases.get(cid)
    assert e.escalated and e.assignee is None
    c.post(f"/console/cases/{cid}/action", data={"csrf": t, "action": "snooze", "hours": "2"})
    assert casework.take_next(store, "rev") is None  # snoozed: not offered
    # a case past its SLA is highlighted in the inbox
    import datetime as dt

    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    store.cases.open("engine", "OLD", "identity", "review", "old one", evidence={}, at=old)
    html = c.get("/console/cases").text
    assert 'class="breach' in html and "已超时" in html


@pytest.mark.parametrize("n_cases", [30])
def test_two_reviewers_take_next_concurrently_get_different_cases(db_url, n_cases):
    st = Store(db_url)
    try:
        st.users.add("r1", PASSWORD, "reviewer")
        st.users.add("r2", PASSWORD, "reviewer")
        for i in range(n_cases):
            _case(st, f"T{i}", amount=1000 + i)
        app = make_app(st)
        clients = [login(TestClient(app), u) for u in ("r1", "r2")]
        tokens = [csrf_of(c.get("/console/cases").text) for c in clients]
        got: dict[str, list[int]] = {"r1": [], "r2": []}
        barrier = threading.Barrier(2)

        def work(i: int) -> None:
            for _ in range(n_cases // 2):
                barrier.wait()
                r = clients[i].post("/console/cases/next", data={"csrf": tokens[i]}, follow_redirects=False)
                got[("r1", "r2")[i]].append(int(r.headers["location"].split("?")[0].rsplit("/", 1)[1]))

        ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        all_ids = got["r1"] + got["r2"]
        assert len(all_ids) == n_cases and len(set(all_ids)) == n_cases
        for who, ids in got.items():
            assert all(st.cases.get(i).assignee == who for i in ids)
    finally:
        st.close()


def test_cases_from_decisions_is_idempotent(demo_store):
    from sqlalchemy import text

    with demo_store.engine.connect() as conn:
        n_review = conn.execute(text("SELECT count(*) FROM fk_decisions WHERE outcome = 'review'")).scalar()
    engine_cases = [c for c in demo_store.cases.list(status=None, limit=10_000) if c.source == "engine"]
    assert len(engine_cases) == n_review > 0
    assert casework.cases_from_decisions(demo_store) == 0
    queues = {q for q, _ in demo_store.cases.counts()}
    assert queues <= {"identity", "ring", "multi_head", "cash_out", "fund_flow", "complaints", "review"}


def test_monitor_counts_match_the_decision_log(demo_app, demo_store):
    from sqlalchemy import text

    from fengkong.console import rollup

    c = login(TestClient(demo_app), "analyst")
    html = c.get("/console/monitor?event_type=&days=90").text
    assert rollup.backlog(demo_store) == 0
    with demo_store.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM fk_decisions")).scalar()
        by = dict(conn.execute(text("SELECT outcome, count(*) FROM fk_decisions GROUP BY outcome")).all())
    tot = rollup.merged(rollup.hours(demo_store))
    assert tot["n"] == n and tot["outcomes"] == by
    assert f"{n:,}" in html and "<svg" in html


def test_compliance_pages_and_excel(demo_app):
    import openpyxl

    c = login(TestClient(demo_app), "compliance")
    html = c.get("/console/compliance").text
    assert "2026Q1" in html and "consumer_finance" in html
    r = c.get("/console/compliance/download/compliance.xlsx?quarter=2026Q1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames
    import polars as pl

    from fengkong.console.pages_compliance import report

    cx = demo_app.state.console
    loan_id = report(cx, None).loans["loan_id"][0]
    r = c.get(f"/console/compliance/loan?loan_id={loan_id}")
    assert r.status_code == 200 and "综合融资成本明示表" in r.text and "interest" in r.text
    assert c.get("/console/compliance/loan/NOPE").status_code == 404
    s = c.get("/console/compliance/subsidy")
    assert s.status_code == 200 and "贴息申领" in s.text
    x = c.get("/console/compliance/download/subsidy.xlsx")
    assert x.status_code == 200
    assert pl.DataFrame  # polars imported for report()


def test_ring_report_confirm_publish_and_graph(demo_app, demo_store):
    from fengkong.console.pages_rings import MAX_NODES

    c = login(TestClient(demo_app), "investigator")
    html = c.get("/console/rings").text
    assert "R0001" in html
    r = c.get("/console/rings/R0001")
    assert r.status_code == 200 and "<svg" in r.text
    t = csrf_of(r.text)
    c.post("/console/rings/R0001/confirm", data={"csrf": t, "note": "shared device and burst"})
    assert [lb.label for lb in demo_store.labels.latest("ring")] == ["fraud"]
    c.post("/console/rings/R0001/publish", data={"csrf": t})
    snap = demo_store.lists.snapshot()
    assert snap.get("fraud_ring_members")
    cx = demo_app.state.console
    _rings, members = cx.cache["rings"]
    member = members.filter(members["ring_id"] == "R0001")["customer_id"][0]
    one = c.get(f"/console/rings/graph?customer={member}&hops=1").text
    two = c.get(f"/console/rings/graph?customer={member}&hops=3").text
    import re

    n1 = len(re.findall(r"<g><a ", one))
    n2 = len(re.findall(r"<g><a ", two))
    assert 0 < n1 <= n2 <= MAX_NODES


def test_strategy_edit_reports_line_and_column(demo_app):
    c = login(TestClient(demo_app), "analyst")
    html = c.get("/console/strategy/edit?name=application_reference&version=1.3").text
    import html as h
    import re

    text = h.unescape(re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', html, re.S).group(1))
    bad = text.replace("liveness_score < 0.6", "liveness_score < 'x'", 1)
    r = c.post("/console/strategy/edit", data={"csrf": csrf_of(html), "text": bad, "action": "validate"})
    line = next(i for i, ln in enumerate(bad.splitlines(), 1) if "liveness_score < 'x'" in ln)
    assert r.status_code == 422 and f'data-line="{line}"' in r.text
    r = c.post("/console/strategy/edit", data={"csrf": csrf_of(html), "text": text, "action": "validate"})
    assert r.status_code == 200 and 'id="strategy-ok"' in r.text
    d = c.get("/console/strategy/diff?name=application_reference&a=1.3&b=1.3-demo").text
    assert "FORM_FAST" in d and "form_fill_seconds &lt; 20" in d


def test_stage_console_prints_the_url_and_a_demo_login(demo_template, demo_store, tmp_path):
    from rich.console import Console

    from fengkong.console.demo import DEMO_PASSWORD, stage_console

    world, _db = demo_template
    out = tmp_path / "demo"
    out.mkdir()
    (out / "world").symlink_to(world)
    con = Console(record=True, width=200)
    res = stage_console(out, demo_store, con)
    text = con.export_text()
    assert "http://127.0.0.1:8000/console" in text and DEMO_PASSWORD in text and "fengkong serve" in text
    assert res["cases"] == 0 and res["users"] == 0  # the template was seeded already: idempotent
    assert demo_store.users.authenticate("reviewer", DEMO_PASSWORD) is not None


def test_docs_mount_example_runs(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "console.md").read_text(encoding="utf-8")
    code = re.search(r"## Mounting\n\n```python\n(.*?)```", doc, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, "docs/console.md", "exec"), ns)
    c = TestClient(ns["app"])
    assert c.get("/console/login").status_code == 200
    ns["store"].close()


def test_inbox_sorts_by_amount_at_risk_and_filters_by_queue(store):
    import re

    small = _case(store, "A1", amount=1_000)
    big = _case(store, "A2", amount=9_000_000, queue_codes=("MH_HEAVY_DEBT",))
    c = login(TestClient(make_app(store)), "rev")
    first = lambda html: int(re.search(r'class="rowlink">(\d+)<', html).group(1))  # noqa: E731
    assert first(c.get("/console/cases").text) == small  # identity queue outranks multi-head
    assert first(c.get("/console/cases?order=amount").text) == big
    html = c.get("/console/cases?queue=multi_head").text
    assert f'>{big}</a>' in html and f'>{small}</a>' not in html


def test_session_cookie_is_valid_on_every_worker_of_one_deployment(store):
    from fastapi import FastAPI

    from fengkong.console import mount

    apps = []
    for _ in range(2):  # two workers: no secret_key given, both derive it from the PII key
        a = FastAPI()
        mount(a, store, {})
        apps.append(a)
    one = login(TestClient(apps[0]), "rev")
    two = TestClient(apps[1])
    two.cookies.update(one.cookies)
    assert two.get("/console/cases", follow_redirects=False).status_code == 200


def test_ring_case_opened_worked_and_labelled(demo_app, demo_store):
    ring_cases = [c for c in demo_store.cases.list(status=None, limit=10_000) if c.source == "fraud.rings"]
    assert ring_cases and all(c.queue == "ring" for c in ring_cases)  # the demo opened the top rings
    engine_top = max(c.priority for c in demo_store.cases.list(limit=10_000) if c.source == "engine")
    assert all(c.priority < engine_top for c in ring_cases)  # customers waiting on a review come first
    c = login(TestClient(demo_app), "investigator")
    t = csrf_of(c.get("/console/rings/R0001").text)
    c.post("/console/rings/R0001/case", data={"csrf": t})
    case = demo_store.cases.by_ref("fraud.rings", "R0001")
    assert case is not None and case.evidence["ring"]["ring_id"] == "R0001"
    rev = login(TestClient(demo_app), "reviewer")
    html = rev.get(f"/console/cases/{case.id}").text
    assert "团伙报告" in html and "R0001" in html
    done = casework.decide(demo_store, case.id, "reviewer", "confirm_fraud", "ring confirmed by review", lists=[])
    if done.status == "pending_approval":  # the ring's loans exceed the four-eyes amount
        assert not demo_store.labels.latest("ring")
        casework.approve(demo_store, case.id, "supervisor", "agreed")
    assert ("R0001", "fraud") in {(lb.subject, lb.label) for lb in demo_store.labels.latest("ring")}


def test_world_views_are_warmed_in_the_background(demo_store, demo_template):
    app = make_app(demo_store, world=str(demo_template[0]), warm=True)
    cx = app.state.console
    for _ in range(600):
        if {"rings", "links", "subsidy"} <= set(cx.cache):
            break
        time.sleep(0.1)
    assert {"events", "rings", "links", "subsidy"} <= set(cx.cache)
    assert any(k.startswith("compliance:") for k in cx.cache)
