"""CLI: validate, deploy/activate/rollback/list/diff/examples, decide, audit verify, backtest, lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fengkong.cli import _register_all, app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands():
    if not any(getattr(c, "name", None) == "decide" for c in app.registered_commands):
        _register_all()


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


EVENT = {"event_id": "X1", "event_type": "application", "ts": "2026-03-01T10:00:00+08:00", "customer_id": "C1",
         "product": "credit_line", "amount_fen": 2_000_000, "term_months": 12, "age": 35,
         "declared_income_fen": 1_500_000, "monthly_debt_payment_fen": 100_000, "bureau_score": 720,
         "channel": "app", "id_token": "tokA"}


def test_validate_reports_file_line_column(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nevent_type: application\nnodes:\n"
                   "  - {id: r, type: ruleset, rules: [{id: A, when: 'age > \"x\"', action: reject}]}\n")
    r = run("strategy", "validate", str(bad))
    assert r.exit_code == 2
    assert f"{bad}:5:" in r.output and "cannot compare int with str" in r.output
    r = run("strategy", "validate", str(bad), "--json")
    body = json.loads(r.stdout)
    assert body["ok"] is False and body["results"][0]["line"] == 5


def test_examples_deploy_activate_rollback_decide_audit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    assert run("strategy", "examples", "ex").exit_code == 0
    app_yaml = tmp_path / "ex" / "application.yaml"
    assert run("strategy", "validate", str(app_yaml), str(tmp_path / "ex" / "purchase.yaml")).exit_code == 0
    r = run("strategy", "deploy", str(app_yaml), "--activate", "--db", db)
    assert r.exit_code == 0 and "champion is now application_reference v1.0" in r.output
    v2 = tmp_path / "v2.yaml"
    v2.write_text(app_yaml.read_text().replace('version: "1.0"', 'version: "2.0"')
                  .replace("score < 520", "score < 700"))
    assert run("strategy", "deploy", str(v2), "--activate", "--db", db).exit_code == 0
    # changing a deployed version is refused
    v2b = tmp_path / "v2b.yaml"
    v2b.write_text(v2.read_text().replace("score < 700", "score < 710"))
    r = run("strategy", "deploy", str(v2b), "--db", db)
    assert r.exit_code == 2 and "already deployed with different content" in r.output
    listing = json.loads(run("strategy", "list", "--db", db, "--json").stdout)
    assert [(v["version"], v["active"]) for v in listing["versions"]] == [
        ("1.0", []), ("2.0", ["champion of application"])]
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps(EVENT))
    d2 = json.loads(run("decide", str(ev), "--json", "--db", db, "--state", "memory").stdout)
    assert d2["version"] == "2.0" and d2["outcome"] == "reject" and d2["reason_codes"][0] == "SCORE_LOW"
    r = run("strategy", "rollback", "application_reference", "--db", db)
    assert r.exit_code == 0 and "champion is now application_reference v1.0" in r.output
    stream = "\n".join(json.dumps({**EVENT, "event_id": f"S{i}", "customer_id": f"C{i}"}) for i in range(3))
    out = run("decide", "-", "--json", "--db", db, "--state", "memory", input=stream + "\n{bad json\n")
    assert out.exit_code == 1 and "line 4: not valid JSON" in out.output
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert [x["version"] for x in lines] == ["1.0"] * 3
    # the same event id returns the stored decision (made by v2.0)
    again = json.loads(run("decide", str(ev), "--json", "--db", db, "--state", "memory").stdout)
    assert again == d2
    diff = run("strategy", "diff", str(app_yaml), str(v2), "--db", db)
    assert "score < 520" in diff.output and "score < 700" in diff.output
    assert run("audit", "verify", "--db", db).exit_code == 0
    eng = sa.create_engine(db)
    with eng.begin() as c:
        c.execute(sa.text("UPDATE fk_decisions SET record = replace(record, 'reject', 'approve') "
                          "WHERE request_id = 'X1'"))
    r = run("audit", "verify", "--db", db)
    assert r.exit_code == 1 and "request X1" in r.output and "seq 1" in r.output
    eng.dispose()


def test_decide_with_strategy_file_and_lists(tmp_path):
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    assert run("lists", "add", "blacklist_id", "tokA", "--reason", "fraud", "--db", db).exit_code == 0
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps(EVENT))
    shipped = Path(__file__).parents[2] / "src" / "fengkong" / "strategies" / "application.yaml"
    d = json.loads(run("decide", str(ev), "--json", "--db", db, "--state", "memory", "--strategy",
                       str(shipped)).stdout)
    assert d["outcome"] == "reject" and "BLACKLIST_ID" in d["reason_codes"]
    assert "tokA" in run("lists", "show", "--db", db).stdout


def test_backtest_command_writes_reports(tmp_path):
    from fengkong.simulate import SimConfig, simulate_world

    world = tmp_path / "w"
    simulate_world(world, SimConfig(customers=500, months=3, seed=5))
    shipped = Path(__file__).parents[2] / "src" / "fengkong" / "strategies" / "application.yaml"
    v2 = tmp_path / "v2.yaml"
    v2.write_text(shipped.read_text().replace('version: "1.0"', 'version: "2.0"').replace("score < 520", "score < 560"))
    r = run("backtest", str(shipped), "--events", str(world), "--against", str(v2), "--out", str(tmp_path / "bt"),
            "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["events"] > 100 and 0 < summary["approval_rate"] < 1
    assert {row["outcome"] for row in summary["bad_by_outcome"]} >= {"approve", "reject"}
    flipped = [s for s in summary["swap"] if s["flipped"]]
    assert flipped and all(s["outcome"] == "approve" or s["outcome_b"] == "reject" for s in flipped)
    for f in ("decisions.csv", "outcome_mix.csv", "rule_hits.csv", "swap_set.csv", "report.html"):
        assert (tmp_path / "bt" / f).stat().st_size > 100
    assert "data:image/png;base64" in (tmp_path / "bt" / "report.html").read_text()
