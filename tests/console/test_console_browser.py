"""Browser tests: Playwright drives Debian's Chromium against the console served by uvicorn."""

from __future__ import annotations

import pytest
from tests.console.conftest import PASSWORD

pytestmark = pytest.mark.slow


def _login(page, base, user):
    page.goto(f"{base}/console/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_reviewer_takes_next_confirms_fraud_and_identity_is_blocked(browser, live_server, demo_store, shots):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(page, live_server, "reviewer")
    assert page.url.endswith("/console/cases")
    page.screenshot(path=str(shots / "console-inbox.png"), full_page=True)
    assert page.get_by_role("button", name="领取下一个案件").is_visible()  # Chinese text renders
    # keyboard navigation of the inbox: j moves to the first row's link, Enter opens it
    page.keyboard.press("j")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused and focused.startswith("/console/cases/")
    page.get_by_role("button", name="领取下一个案件").click()
    page.wait_for_url("**/console/cases/*")
    case_id = int(page.url.rsplit("/", 1)[1])
    case = demo_store.cases.get(case_id)
    assert case.assignee == "reviewer" and case.status == "assigned"
    # evidence: reason codes with rule texts, features with meanings, masked elements
    assert page.get_by_role("heading", name="证据").is_visible()
    for code in case.evidence["reason_codes"]:
        assert page.locator("code", has_text=code).first.is_visible()
    id_token = case.evidence["elements"]["id_token"]
    body = page.content()
    assert id_token not in body and id_token[:8] + "…" in body  # masked, never whole
    page.screenshot(path=str(shots / "console-case.png"), full_page=True)
    page.get_by_label("确认欺诈").check()
    page.get_by_label("备注（必填）").first.fill("身份被冒用，设备与团伙共享")
    page.get_by_role("button", name="决定", exact=True).click()
    page.wait_for_load_state()
    after = demo_store.cases.get(case_id)
    if after.status == "pending_approval":  # above the four-eyes amount: a supervisor approves
        sup = browser.new_page()
        _login(sup, live_server, "supervisor")
        sup.goto(f"{live_server}/console/cases/{case_id}")
        sup.get_by_label("备注（必填）").fill("同意")
        sup.get_by_role("button", name="复核通过").click()
        sup.wait_for_load_state()
        after = demo_store.cases.get(case_id)
    assert after.status == "closed" and after.decision == "confirm_fraud"
    blocked = demo_store.lists.snapshot()
    assert id_token in blocked["blacklist_id"]
    assert case.evidence["elements"]["phone_token"] in blocked["blacklist_phone"]
    assert any(lb.label == "fraud" and lb.subject == case.request_id for lb in demo_store.labels.latest("request"))
    actions = [e["action"] for e in demo_store.admin.entries(limit=50)]
    assert {"case.take", "case.decide", "case.feedback"} <= set(actions)


def test_reviewer_is_refused_the_deploy_page(browser, live_server, shots):
    page = browser.new_page()
    _login(page, live_server, "reviewer")
    resp = page.goto(f"{live_server}/console/strategy")
    assert resp.status == 403
    assert page.get_by_text("您无权访问此页面。").is_visible()
    page.screenshot(path=str(shots / "console-forbidden.png"))


def test_analyst_edits_backtests_deploys_challenger_and_second_user_approves_champion(browser, live_server,
                                                                                     demo_store, shots):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(page, live_server, "analyst")
    page.goto(f"{live_server}/console/strategy")
    page.screenshot(path=str(shots / "console-strategy.png"), full_page=True)
    page.goto(f"{live_server}/console/strategy/edit?name=application_reference&version=1.3")
    text = page.locator("#text").input_value()
    broken = text.replace('version: "1.3"', 'version: "1.4"', 1).replace("liveness_score < 0.6",
                                                                          "liveness_scor < 0.6", 1)
    page.locator("#text").fill(broken)
    page.get_by_role("button", name="校验").click()
    err = page.locator("#strategy-error")
    assert err.is_visible()
    line = next(i for i, ln in enumerate(broken.splitlines(), 1) if "liveness_scor <" in ln)
    assert f"{line}:" in err.inner_text() and "liveness_scor" in err.inner_text()
    page.screenshot(path=str(shots / "console-strategy-error.png"), full_page=False)
    page.locator("#text").fill(broken.replace("liveness_scor <", "liveness_score <", 1)
                               .replace("form_fill_seconds < 30", "form_fill_seconds < 25", 1))
    page.get_by_role("button", name="保存").click()
    assert page.locator("#strategy-ok").is_visible()
    assert demo_store.versions.get("application_reference", "1.4") is not None
    page.goto(f"{live_server}/console/strategy")
    row = page.locator("tr", has_text="application_reference@1.4")
    row.get_by_role("button", name="回测").click()
    page.wait_for_url("**/strategy/backtest")
    assert page.locator("#bt-mix").is_visible() and page.get_by_text("换入换出").first.is_visible()
    page.screenshot(path=str(shots / "console-backtest.png"), full_page=True)
    page.goto(f"{live_server}/console/strategy")
    row = page.locator("tr", has_text="application_reference@1.4")
    row.get_by_label("部署为").select_option("challenger")
    row.get_by_role("button", name="部署").click()
    page.wait_for_load_state()
    cfg = demo_store.versions.routing("application")
    assert ("application_reference", "1.4") in [(c["name"], c["version"]) for c in cfg.challengers]
    row = page.locator("tr", has_text="application_reference@1.4")
    row.get_by_label("部署为").select_option("champion")
    row.get_by_role("button", name="部署").click()
    page.wait_for_load_state()
    assert demo_store.versions.routing("application").champion == ("application_reference", "1.3")  # pending
    dep = browser.new_page(viewport={"width": 1400, "height": 900})
    _login(dep, live_server, "deployer")
    dep.goto(f"{live_server}/console/strategy")
    dep.screenshot(path=str(shots / "console-strategy-approval.png"), full_page=True)
    dep.locator("#pending").get_by_role("button", name="批准为冠军").click()
    dep.wait_for_load_state()
    assert demo_store.versions.routing("application").champion == ("application_reference", "1.4")
    acts = [(e["actor"], e["action"]) for e in demo_store.admin.entries(limit=50)]
    assert ("analyst", "deploy.request") in acts and ("deployer", "deploy.approve") in acts


def test_main_pages_render_for_their_roles(browser, live_server, shots):
    for user, url, name, check in [
        ("investigator", "/console/rings", "console-rings.png", "团伙"),
        ("investigator", "/console/rings/R0001", "console-ring.png", "团伙报告"),
        ("compliance", "/console/compliance", "console-compliance.png", "合规"),
        ("compliance", "/console/compliance/subsidy", "console-subsidy.png", "贴息申领"),
        ("analyst", "/console/monitor", "console-monitor.png", "监控"),
    ]:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _login(page, live_server, user)
        resp = page.goto(f"{live_server}{url}")
        assert resp.status == 200, url
        assert page.get_by_role("heading").first.inner_text().startswith(check), url
        page.screenshot(path=str(shots / name), full_page=True)
        page.close()
