"""`fengkong events convert` / `fengkong ingest`: good events through in time order, bad input one clear error."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fengkong.cli import _register_all, app

runner = CliRunner()
if not any(getattr(c, "name", None) == "decide" for c in app.registered_commands):
    _register_all()

CSV = ("event_id,event_type,ts,customer_id,product,amount_fen,term_months\n"
       "A2,application,2026-03-01T10:05:00+08:00,C2,cash_loan,2000000,6\n"
       "A1,application,2026-03-01T10:00:00+08:00,C1,credit_line,500000,12\n"
       "A3,application,2026-03-01T10:07:00+08:00,C3,mortgage,90000000,240\n")


def test_convert_writes_good_rows_in_time_order_and_names_the_bad_ones(tmp_path):
    f = tmp_path / "application.csv"
    f.write_text(CSV)
    out = tmp_path / "e.jsonl"
    r = runner.invoke(app, ["events", "convert", str(f), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["event_id"] for x in out.read_text().splitlines()] == ["A1", "A2"]
    assert "1 bad rows quarantined" in r.output and "row 3: field 'product'" in r.output


def test_convert_bad_arguments_are_one_error_and_write_nothing(tmp_path):
    f = tmp_path / "application.csv"
    f.write_text(CSV)
    r = runner.invoke(app, ["events", "convert", str(f), "--types", "applications"])
    assert r.exit_code == 2 and "--types: unknown event type 'applications'" in r.output
    r = runner.invoke(app, ["events", "convert", str(f), "--out", str(tmp_path / "nope" / "e.jsonl")])
    assert r.exit_code == 2 and "does not exist" in r.output and not (tmp_path / "nope").exists()
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["events", "convert", str(tmp_path / "empty")])
    assert r.exit_code == 2 and "no event files" in r.output


def test_ingest_reports_a_bad_line_and_keeps_the_others(tmp_path):
    ok = {"event_id": "R1", "event_type": "repayment", "ts": "2026-03-01T08:00:00+08:00", "customer_id": "C1",
          "loan_id": "L1", "installment_no": 1, "due_date": "2026-02-01", "due_fen": 100, "paid_fen": 0, "dpd": 28}
    f = tmp_path / "s.jsonl"
    f.write_text(json.dumps(ok) + "\n{broken\n" + json.dumps({**ok, "event_id": "R2", "dpd": -1}) + "\n")
    r = runner.invoke(app, ["ingest", str(f), "--db", f"sqlite:///{tmp_path / 'fk.db'}", "--state", "memory"])
    assert r.exit_code == 1
    assert "line 2: not valid JSON" in r.output and "line 3: field 'dpd'" in r.output
    assert "1 decided" not in r.output and "0 decided, 1 ingested without a decision, 2 failed" in r.output


def test_events_in_time_order_is_what_convert_writes(tmp_path):
    import fengkong as fk
    from fengkong.events.files import EventTypeError, events_in_time_order

    world = fk.simulate(tmp_path / "w", customers=150, months=3, seed=4)
    frame = events_in_time_order(world, ("purchase", "application"), limit=25)
    assert frame.height == 25 and set(frame["event_type"]) <= {"purchase", "application"}
    assert frame.sort(["ts", "event_id"])["event_id"].to_list() == frame["event_id"].to_list()
    one = events_in_time_order(world / "purchase.parquet", ("application",))
    assert one.height == 0  # a file of another type keeps nothing
    with pytest.raises(EventTypeError, match="unknown event type 'loan'"):
        events_in_time_order(world, ("loan",))
