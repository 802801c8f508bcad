"""Issue 20 items 1 and 2: a future-dated or late event fails alone; `fengkong ingest` feeds every event type."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fengkong.cli import _register_all, app
from fengkong.events import TZ

SHIPPED = Path(__file__).parents[2] / "src" / "fengkong" / "strategies"
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands():
    if not any(getattr(c, "name", None) == "decide" for c in app.registered_commands):
        _register_all()


def _app(eid: str, ts: dt.datetime, cid: str | None = None) -> dict:
    return {"event_id": eid, "event_type": "application", "ts": ts.isoformat(), "customer_id": cid or f"C{eid}",
            "product": "credit_line", "amount_fen": 2_000_000, "term_months": 12, "age": 35,
            "declared_income_fen": 1_500_000, "monthly_debt_payment_fen": 100_000, "bureau_score": 720,
            "channel": "app", "id_token": f"tok{eid}"}


def _decide(tmp_path: Path, events: list[dict], *extra: str):
    f = tmp_path / "evs.jsonl"
    f.write_text("".join(json.dumps(e) + "\n" for e in events))
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    r = runner.invoke(app, ["decide", str(f), "--json", "--db", db, "--state", str(tmp_path / "state.db"),
                            "--strategy", str(SHIPPED / "application.yaml"), *extra], catch_exceptions=False)
    return r, db


def test_one_future_event_fails_alone_and_does_not_move_the_watermark(tmp_path):
    t = dt.datetime(2026, 3, 1, 10, tzinfo=TZ)
    future = dt.datetime.now(TZ) + dt.timedelta(days=2)
    evs = [_app("F1", future), _app("A2", t), _app("A3", t + dt.timedelta(minutes=5))]
    r, db = _decide(tmp_path, evs)
    assert r.exit_code == 1
    decided = [json.loads(x) for x in r.stdout.splitlines()]
    assert [d["request_id"] for d in decided] == ["A2", "A3"]
    assert all("ENGINE_ERROR" not in d["reason_codes"] for d in decided)
    assert "line 1: field 'ts': event is" in r.output and "ahead of this machine's clock" in r.output
    assert "1 of 3 events failed" in r.output
    with sa.create_engine(db).connect() as c:
        ids = {x for (x,) in c.execute(sa.text("SELECT request_id FROM fk_decisions"))}
    assert ids == {"A2", "A3"}  # the refused event is not recorded


def test_a_late_event_is_reported_late_and_the_rest_are_decided(tmp_path):
    t = dt.datetime(2026, 3, 1, 10, tzinfo=TZ)
    evs = [_app("B1", t), _app("B2", t - dt.timedelta(days=3)), _app("B3", t + dt.timedelta(minutes=1))]
    r, _ = _decide(tmp_path, evs)
    assert r.exit_code == 1
    assert [json.loads(x)["request_id"] for x in r.stdout.splitlines()] == ["B1", "B3"]
    assert "line 2: field 'ts': late: event is 259200s older" in r.output
    assert "1 of 3 events failed" in r.output


def test_ingest_folds_events_without_a_strategy_and_decides_the_others(tmp_path):
    """A repayment has no active strategy: `decide` refuses it, `ingest` folds it in (overdue count moves)."""
    t = dt.datetime(2026, 3, 1, 10, tzinfo=TZ)
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    state = str(tmp_path / "state.db")
    rep = {"event_id": "RP1", "event_type": "repayment", "ts": (t - dt.timedelta(days=1)).isoformat(),
           "customer_id": "CA1", "loan_id": "L1", "installment_no": 1, "due_date": "2026-02-01",
           "due_fen": 100_000, "paid_fen": 0, "dpd": 40}
    f = tmp_path / "mixed.jsonl"
    f.write_text(json.dumps(rep) + "\n" + json.dumps(_app("A1", t, "CA1")) + "\n")
    strat = tmp_path / "overdue.yaml"
    strat.write_text("name: overdue_check\nversion: 1\nevent_type: application\nnodes:\n"
                     "  - {id: r, type: ruleset, rules: [{id: OVERDUE, when: 'overdue_cnt_customer_180d >= 1', "
                     "action: review, reason_code: OVERDUE}]}\n")
    dep = runner.invoke(app, ["strategy", "deploy", str(strat), "--activate", "--db", db])
    assert dep.exit_code == 0, dep.output
    other = f"sqlite:///{tmp_path / 'fk0.db'}"
    assert runner.invoke(app, ["strategy", "deploy", str(strat), "--activate", "--db", other]).exit_code == 0
    r = runner.invoke(app, ["decide", str(f), "--json", "--db", other, "--state", state])
    assert r.exit_code == 1 and "no active strategy for event type 'repayment'" in r.output
    assert json.loads(r.stdout)["features"]["overdue_cnt_customer_180d"] == 0  # decide did not fold it in
    r = runner.invoke(app, ["ingest", str(f), "--json", "--db", f"sqlite:///{tmp_path / 'fk2.db'}",
                            "--state", str(tmp_path / "state2.db")])
    assert r.exit_code == 0  # fk2.db has no strategy at all: both are folded in and recorded as ingested
    assert [json.loads(x)["ingested"] for x in r.stdout.splitlines()] == [True, True]
    r = runner.invoke(app, ["ingest", str(f), "--json", "--db", db, "--state", str(tmp_path / "state3.db")],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert out[0] == {"request_id": "RP1", "event_type": "repayment", "decided": False, "ingested": True}
    assert out[1]["request_id"] == "A1" and out[1]["features"]["overdue_cnt_customer_180d"] == 1
    assert out[1]["outcome"] == "review" and out[1]["reason_codes"] == ["OVERDUE"]
    with sa.create_engine(db).connect() as c:
        rows = c.execute(sa.text("SELECT request_id, event_type FROM fk_service_events")).all()
    assert rows == [("RP1", "repayment")]
    again = runner.invoke(app, ["ingest", str(f), "--json", "--db", db, "--state", str(tmp_path / "state3.db")])
    assert again.exit_code == 0 and json.loads(again.stdout.splitlines()[1])["replayed"]


def test_a_second_deciding_process_on_one_sqlite_state_is_refused(tmp_path):
    """Issue 20 item 11: two `fengkong decide` processes on one SQLite state diverged silently."""
    import os
    import subprocess
    import sys
    import time

    state = str(tmp_path / "state.db")
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    first = subprocess.Popen([sys.executable, "-m", "fengkong.cli", "decide", "-", "--db", db, "--state", state,
                              "--strategy", str(SHIPPED / "application.yaml")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        lock = Path(state + ".lock")
        for _ in range(300):  # the first process holds the state once it has started
            if lock.exists() and lock.read_text().strip() == str(first.pid):
                break
            time.sleep(0.1)
        t = dt.datetime(2026, 3, 1, 10, tzinfo=TZ)
        r, _ = _decide(tmp_path, [_app("S1", t)], "--state", state)
        assert r.exit_code == 2
        assert f"feature state {state} is in use by another deciding process (pid {first.pid})" in r.output
    finally:
        _out, err = first.communicate(json.dumps(_app("S0", dt.datetime(2026, 3, 1, 9, tzinfo=TZ))) + "\n", timeout=120)
    assert first.returncode == 0, err
    r, _ = _decide(tmp_path, [_app("S1", dt.datetime(2026, 3, 1, 10, tzinfo=TZ))], "--state", state)
    assert r.exit_code == 0, r.output  # released when the first one exited
