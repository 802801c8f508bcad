"""Issue 20 item 12: `fengkong audit query` by request id, customer and event-time range; export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fengkong.cli import _register_all, app

SHIPPED = Path(__file__).parents[2] / "src" / "fengkong" / "strategies"
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    if not any(getattr(c, "name", None) == "decide" for c in app.registered_commands):
        _register_all()
    d = tmp_path_factory.mktemp("audit")
    url = f"sqlite:///{d / 'fk.db'}"
    evs = [{"event_id": f"Q{i}", "event_type": "application", "ts": f"2026-03-0{1 + i // 2}T10:0{i}:00+08:00",
            "customer_id": "=HYPERLINK(1)" if i == 5 else f"C{i % 2}", "product": "credit_line",
            "amount_fen": 2_000_000, "term_months": 12, "bureau_score": 720, "channel": "app"} for i in range(6)]
    f = d / "evs.jsonl"
    f.write_text("".join(json.dumps(e) + "\n" for e in evs))
    r = runner.invoke(app, ["decide", str(f), "--db", url, "--state", "memory", "--strategy",
                        str(SHIPPED / "application.yaml")])
    assert r.exit_code == 0, r.output
    return url


def _ids(url: str, *args: str) -> list[str]:
    r = runner.invoke(app, ["audit", "query", "--db", url, "--json", *args])
    assert r.exit_code == 0, r.output
    return [json.loads(x)["request_id"] for x in r.stdout.splitlines()]


def test_filters(db):
    assert _ids(db) == [f"Q{i}" for i in range(6)]
    assert _ids(db, "--request-id", "Q3") == ["Q3"]
    assert _ids(db, "--customer", "C1") == ["Q1", "Q3"]
    assert _ids(db, "--since", "2026-03-02", "--until", "2026-03-02") == ["Q2", "Q3"]  # a date is the whole day
    assert _ids(db, "--since", "2026-03-02T10:03:00+08:00") == ["Q3", "Q4", "Q5"]
    assert _ids(db, "--until", "2026-03-02T02:02:00Z") == ["Q0", "Q1"]  # exclusive, any offset
    assert _ids(db, "--customer", "C0", "--limit", "2") == ["Q0", "Q2"]


def test_export_csv_and_jsonl(db, tmp_path):
    out = tmp_path / "a.csv"
    r = runner.invoke(app, ["audit", "query", "--db", db, "--out", str(out)])
    assert r.exit_code == 0 and "6 decisions written" in r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [x["request_id"] for x in rows] == [f"Q{i}" for i in range(6)]
    assert rows[5]["customer_id"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert json.loads(rows[0]["reason_codes"]) == json.loads(rows[0]["reason_codes"]) and rows[0]["hash"]
    j = tmp_path / "a.jsonl"
    assert runner.invoke(app, ["audit", "query", "--db", db, "--customer", "C0", "--out", str(j)]).exit_code == 0
    assert [json.loads(x)["request_id"] for x in j.read_text().splitlines()] == ["Q0", "Q2", "Q4"]


@pytest.mark.parametrize("args,msg", [(["--since", "2026-13-01"], "--since: not an ISO date"),
                                      (["--until", "2026-03-01T10:00:00"], "needs its offset"),
                                      (["--out", "/nonexistent-dir/a.csv"], "folder /nonexistent-dir does not exist"),
                                      (["--out", "a.xml"], "write .jsonl or .csv")])
def test_bad_arguments_are_one_error(db, args, msg):
    r = runner.invoke(app, ["audit", "query", "--db", db, *args])
    assert r.exit_code == 2 and msg in r.output
    assert not Path("/nonexistent-dir").exists()
