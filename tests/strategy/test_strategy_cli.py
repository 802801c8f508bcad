"""CLI: validate, deploy/activate/rollback/list/diff/examples, decide, audit verify, backtest, lists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from fengkong.cli import _register_all, app

DATA = Path(__file__).parent / "data"
SHIPPED = Path(__file__).parents[2] / "src" / "fengkong" / "strategies"
runner = CliRunner()


def _version(path: Path) -> str:
    return str(yaml.safe_load(path.read_text())["version"])


def _with_version(text: str, version: str) -> str:
    return re.sub(r'(?m)^version: .*$', f'version: "{version}"', text, count=1)


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
    v1 = _version(app_yaml)
    assert run("strategy", "validate", str(app_yaml), str(tmp_path / "ex" / "purchase.yaml")).exit_code == 0
    r = run("strategy", "deploy", str(app_yaml), "--activate", "--db", db)
    assert r.exit_code == 0 and f"champion is now application_reference v{v1}" in r.output
    v2 = tmp_path / "v2.yaml"
    assert "score < 520" in app_yaml.read_text()
    v2.write_text(_with_version(app_yaml.read_text(), "2.0").replace("score < 520", "score < 700"))
    assert run("strategy", "deploy", str(v2), "--activate", "--db", db).exit_code == 0
    # changing a deployed version is refused
    v2b = tmp_path / "v2b.yaml"
    v2b.write_text(v2.read_text().replace("score < 700", "score < 710"))
    r = run("strategy", "deploy", str(v2b), "--db", db)
    assert r.exit_code == 2 and "already deployed with different content" in r.output
    listing = json.loads(run("strategy", "list", "--db", db, "--json").stdout)
    assert [(v["version"], v["active"]) for v in listing["versions"]] == [
        (v1, []), ("2.0", ["champion of application"])]
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps(EVENT))
    d2 = json.loads(run("decide", str(ev), "--json", "--db", db, "--state", "memory").stdout)
    assert d2["version"] == "2.0" and d2["outcome"] == "reject" and d2["reason_codes"][0] == "SCORE_LOW"
    assert d2["replayed"] is False
    r = run("strategy", "rollback", "application_reference", "--db", db)
    assert r.exit_code == 0 and f"champion is now application_reference v{v1}" in r.output
    stream = "\n".join(json.dumps({**EVENT, "event_id": f"S{i}", "customer_id": f"C{i}"}) for i in range(3))
    out = run("decide", "-", "--json", "--db", db, "--state", "memory", input=stream + "\n{bad json\n")
    assert out.exit_code == 1 and "line 4: not valid JSON" in out.output
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert [x["version"] for x in lines] == [v1] * 3
    # the same event id returns the stored decision (made by v2.0), marked as replayed
    again = json.loads(run("decide", str(ev), "--json", "--db", db, "--state", "memory").stdout)
    assert again.pop("replayed") is True and d2.pop("replayed") is False
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
    shipped = SHIPPED / "application.yaml"
    v2 = tmp_path / "v2.yaml"
    v2.write_text(_with_version(shipped.read_text(), "2.0").replace("score < 520", "score < 560"))
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


# ---------------------------------------------------------------- bad input files, store failures, bad models


def test_pretty_printed_json_with_one_error_is_one_error_with_its_position(tmp_path):
    body = json.dumps(EVENT, indent=1).splitlines()
    k = next(i for i, line in enumerate(body) if '"age"' in line)
    body[k] = body[k] + ",,"  # "age": 35,,,  (the audit's stray commas)
    bad = tmp_path / "pretty_bad.json"
    bad.write_text("\n".join(body) + "\n")
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    r = run("decide", str(bad), "--json", "--db", db, "--state", "memory", "--strategy",
            str(SHIPPED / "application.yaml"))
    assert r.exit_code == 2
    errors = [line for line in r.output.splitlines() if "error" in line]
    assert len(errors) == 1, r.output
    col = body[k].index(",,") + 2  # the parser stops at the second comma
    assert f"{bad}:{k + 1}:{col}: not valid JSON" in errors[0], errors[0]
    assert r.stdout.strip() == ""


@pytest.mark.parametrize("bad_at", [0, 1])
def test_json_lines_file_with_a_bad_line_reports_that_line_and_decides_the_rest(tmp_path, bad_at):
    lines = [json.dumps({**EVENT, "event_id": f"L{i}"}) for i in range(3)]
    lines.insert(bad_at, '{"event_id": "broken",')
    f = tmp_path / "evs.jsonl"
    f.write_text("\n".join(lines) + "\n")
    r = run("decide", str(f), "--json", "--db", f"sqlite:///{tmp_path / 'fk.db'}", "--state", "memory",
            "--strategy", str(SHIPPED / "application.yaml"))
    assert r.exit_code == 1 and f"line {bad_at + 1}: not valid JSON" in r.output
    assert [json.loads(x)["request_id"] for x in r.stdout.splitlines()] == ["L0", "L1", "L2"]


def test_store_failing_mid_stream_is_one_clear_error_after_the_decisions_made(tmp_path, monkeypatch):
    import sqlite3

    from fengkong.store.decisions import DecisionLog

    real = DecisionLog.append
    calls = {"n": 0}

    def flaky(self, meta, record):
        calls["n"] += 1
        if calls["n"] == 3:
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, meta, record)

    monkeypatch.setattr(DecisionLog, "append", flaky)
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    stream = "\n".join(json.dumps({**EVENT, "event_id": f"S{i}", "customer_id": f"C{i}"}) for i in range(5))
    r = run("decide", "-", "--json", "--db", db, "--state", "memory", "--strategy",
            str(SHIPPED / "application.yaml"), input=stream + "\n")
    assert r.exit_code == 3
    assert [json.loads(x)["request_id"] for x in r.stdout.splitlines()] == ["S0", "S1"]
    errors = [x for x in r.output.splitlines() if x.startswith("error")]
    assert len(errors) == 1 and "Traceback" not in r.output
    assert f"line 3: store sqlite:///{tmp_path / 'fk.db'}" in errors[0]
    assert "recording the decision of 'S2'" in errors[0] and "disk I/O error" in errors[0]
    from fengkong.store import open_store

    st = open_store(db)  # what was printed is recorded; the failed event is not
    assert st.decisions.get("S1") is not None and st.decisions.get("S2") is None and st.decisions.count() == 2
    st.close()


def test_store_down_before_the_first_event_is_one_clear_error(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from fengkong.store.versions import Versions

    def down(self):
        raise OperationalError("SELECT", {}, Exception("could not connect to server"))

    monkeypatch.setattr(Versions, "routes", down)
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps(EVENT))
    r = run("decide", str(ev), "--json", "--db", f"sqlite:///{tmp_path / 'fk.db'}", "--state", "memory")
    assert r.exit_code == 3 and r.stdout == ""
    assert "line 1: store sqlite:///" in r.output and "reading the routing failed" in r.output
    assert "could not connect to server" in r.output


def _lgb_strategy(tmp_path, model_text: str) -> Path:
    (tmp_path / "model.txt").write_text(model_text)
    s = tmp_path / "s.yaml"
    s.write_text("name: fbtest\nversion: 1\nevent_type: application\nfallback: reject\nnodes:\n"
                 "  - {id: gbm, type: model, format: lightgbm, artifact: model.txt, inputs: {age: age}, output: pd}\n")
    return s


def test_validate_and_deploy_refuse_a_model_artifact_that_does_not_load(tmp_path):
    s = _lgb_strategy(tmp_path, "garbage\n")
    r = run("strategy", "validate", str(s))
    col = s.read_text().splitlines()[5].index("model.txt") + 1
    assert r.exit_code == 2
    assert f"{s}:6:{col}: model 'gbm': artifact 'model.txt' is not a loadable LightGBM" in r.output
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    r = run("strategy", "deploy", str(s), "--activate", "--db", db)
    assert r.exit_code == 2 and "not a loadable LightGBM model" in r.output
    listing = json.loads(run("strategy", "list", "--db", db, "--json").stdout)
    assert listing["versions"] == []


def test_validate_refuses_a_model_with_another_number_of_inputs(tmp_path):
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(200, 2))
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4},
                        lgb.Dataset(x, (x[:, 0] > 0.5).astype(int)), 3)
    s = _lgb_strategy(tmp_path, booster.model_to_string())
    r = run("strategy", "validate", str(s))
    assert r.exit_code == 2 and "expects 2 input(s), the node maps 1" in r.output


def _decisions(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        d = json.loads(line)
        for k in ("latency_ms", "decided_at"):
            d.pop(k, None)
        out.append(d)
    return out


def test_a_file_decided_in_groups_equals_one_event_at_a_time(tmp_path, monkeypatch):
    import fengkong.strategy_cli as cli

    monkeypatch.setattr(cli, "_GROUP", 4)  # several groups, the last one short
    evs = [{**EVENT, "event_id": f"G{i}", "customer_id": f"C{i % 3}", "id_token": f"tok{i % 2}",
            "ts": f"2026-03-01T10:{i:02d}:00+08:00"} for i in range(10)]
    evs.insert(5, {**EVENT, "event_id": "G2"})  # a repeat inside a group: the stored decision
    lines = [json.dumps(e) for e in evs]
    lines.insert(7, '{"event_id": "broken",')  # a bad line inside a group: reported, the rest decided
    text = "\n".join(lines) + "\n"
    f = tmp_path / "evs.jsonl"
    f.write_text(text)
    args = ["--json", "--state", str(tmp_path / "{}.state"), "--strategy", str(SHIPPED / "application.yaml")]
    grouped = run("decide", str(f), "--db", f"sqlite:///{tmp_path / 'a.db'}", *[a.format("a") for a in args])
    single = run("decide", "-", "--db", f"sqlite:///{tmp_path / 'b.db'}", *[a.format("b") for a in args],
                 input=text)
    assert grouped.exit_code == single.exit_code == 1
    assert "line 8: not valid JSON" in grouped.output
    assert _decisions(grouped.stdout) == _decisions(single.stdout)
    assert [d["request_id"] for d in _decisions(grouped.stdout)] == [e["event_id"] for e in evs]
    assert [d["replayed"] for d in _decisions(grouped.stdout)].count(True) == 1
    from fengkong.store import open_store

    st = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert st.decisions.count() == 10 and st.decisions.verify().ok
    st.close()


def test_a_store_failure_in_a_group_records_none_of_it(tmp_path, monkeypatch):
    import sqlite3

    import fengkong.strategy_cli as cli
    from fengkong.store.decisions import DecisionLog

    monkeypatch.setattr(cli, "_GROUP", 4)
    real = DecisionLog.get
    calls = {"n": 0}

    def flaky(self, rid):
        calls["n"] += 1
        if calls["n"] == 6:  # the second event of the second group
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, rid)

    monkeypatch.setattr(DecisionLog, "get", flaky)
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    f = tmp_path / "evs.jsonl"
    f.write_text("".join(json.dumps({**EVENT, "event_id": f"S{i}", "customer_id": f"C{i}"}) + "\n"
                         for i in range(10)))
    r = run("decide", str(f), "--json", "--db", db, "--state", str(tmp_path / "s.db"), "--strategy",
            str(SHIPPED / "application.yaml"))
    assert r.exit_code == 3
    assert [json.loads(x)["request_id"] for x in r.stdout.splitlines()] == ["S0", "S1", "S2", "S3"]
    assert "line 5: store" in r.output and "this event and the ones after it were not decided" in r.output
    from fengkong.features.store_sqlite import SQLiteStore
    from fengkong.store import open_store

    st = open_store(db)
    assert st.decisions.count() == 4 and st.decisions.get("S4") is None
    st.close()
    state = SQLiteStore(tmp_path / "s.db")
    assert state.log_length() == 4  # the failed group's events were not counted either
    state.close()
