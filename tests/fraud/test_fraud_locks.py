"""Identity lock / unlock / "not me" through the API and the CLI, with the audit trail."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from fengkong.events import EVENT_SCHEMA, TZ, validate_event
from fengkong.events.files import write_events
from fengkong.fraud import cli as fraud_cli
from fengkong.fraud.graph import AssociationGraph
from fengkong.fraud.locks import REASON_LOCKED, IdentityLocks, LockError

T = dt.datetime(2026, 2, 1, 9, tzinfo=TZ)


def _events() -> pl.DataFrame:
    evs = [
        dict(event_type="customer", event_id="c1", ts=T, customer_id="v", id_token="IDV", phone_token="PV",
             device_id="DV"),
        dict(event_type="application", event_id="a1", ts=T + dt.timedelta(days=3), customer_id="v2",
             id_token="IDV", phone_token="PX", device_id="DX", product="cash_loan", amount_fen=500_000,
             term_months=12),
        dict(event_type="disbursement", event_id="d1", ts=T + dt.timedelta(days=4), customer_id="v2",
             loan_id="L1", application_id="a1", amount_fen=500_000, term_months=12, payment_mode="self"),
        dict(event_type="application", event_id="a2", ts=T + dt.timedelta(days=5), customer_id="v",
             id_token="IDV", phone_token="PV", device_id="DV", product="cash_loan", amount_fen=100_000,
             term_months=12),
    ]
    rows = [validate_event(e) for e in evs]
    return pl.DataFrame([{n: r.get(n) for n in EVENT_SCHEMA} for r in rows], schema=EVENT_SCHEMA)


def test_lock_unlock_and_check(tmp_path):
    locks = IdentityLocks(tmp_path / "f.sqlite")
    app_ev = {"event_type": "application", "id_token": "IDV"}
    assert locks.check(app_ev) is None
    assert locks.lock("IDV", "person", "lost my ID card") is True
    assert locks.lock("IDV", "person", "again") is False
    assert locks.check(app_ev) == REASON_LOCKED
    assert locks.unlock("IDV", "lender", "customer verified in branch") is True
    assert locks.check(app_ev) is None
    trail = locks.audit("IDV")
    assert [r["action"] for r in trail] == ["lock", "lock", "unlock"]
    assert trail[1]["detail"] == {"already_locked": True}
    with pytest.raises(Exception, match="append-only"):
        locks._db.execute("DELETE FROM fraud_audit")
    with pytest.raises(LockError, match="actor"):
        locks.lock("IDV", "someone", "x")
    with pytest.raises(LockError, match="raw ID number"):
        locks.lock("11010119900101123X", "person", "x")


def test_not_me_marks_freezes_locks_and_feeds_graph(tmp_path):
    ev = _events()
    locks = IdentityLocks(tmp_path / "f.sqlite")
    out = locks.report_not_me("IDV", ["a1"], ev, actor="person", reason="not me")
    assert out == {"applications": ["a1"], "frozen_loans": ["L1"], "risky_elements": ["dv:DX", "ph:PX"],
                   "locked": True}
    assert locks.frozen_loans() == {"L1"} and locks.not_me_applications() == {"a1"}
    g = AssociationGraph()
    for n in locks.risky_elements():
        g.flag(n, "risky")
    nxt = validate_event(dict(event_type="application", event_id="z", ts=T, customer_id="other", device_id="DX",
                              product="cash_loan", amount_fen=1, term_months=1))
    assert g.read(nxt)["graph_element_risky"] is True
    with pytest.raises(LockError, match="not filed with this identity"):
        locks.report_not_me("OTHER", ["a1"], ev)
    with pytest.raises(LockError, match="'nope' is not an application"):
        locks.report_not_me("IDV", ["nope"], ev)


def test_cli_lock_not_me_audit(tmp_path):
    app = typer.Typer()
    fraud_cli.register(app)
    world = tmp_path / "w"
    world.mkdir()
    ev = _events()
    for et in ("customer", "application", "disbursement"):
        write_events(ev.filter(pl.col("event_type") == et), world / f"{et}.parquet")
    db = f"sqlite:///{tmp_path / 'store.db'}"  # the decision store URL, as for `fengkong decide --db`
    r = CliRunner()
    res = r.invoke(app, ["fraud", "lock", "--id-number", "110101199001011237", "--reason", "lost", "--db", db])
    assert res.exit_code == 0, res.output
    assert "locked" in res.output and "110101199001011237" not in res.output
    res = r.invoke(app, ["fraud", "not-me", "-a", "a1", "--world", str(world), "--id-token", "IDV", "--db", db,
                         "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["frozen_loans"] == ["L1"]
    res = r.invoke(app, ["fraud", "not-me", "-a", "a2x", "--world", str(world), "--id-token", "IDV", "--db", db])
    assert res.exit_code == 2 and "a2x" in res.output
    res = r.invoke(app, ["fraud", "unlock", "--id-token", "IDV", "--reason", "resolved", "--db", db])
    assert res.exit_code == 0 and "unlocked" in res.output
    res = r.invoke(app, ["fraud", "audit", "--db", db, "--json"])
    actions = [a["action"] for a in json.loads(res.output)["audit"]]
    assert actions == ["lock", "not_me", "lock", "unlock"]
    res = r.invoke(app, ["fraud", "lock", "--reason", "x", "--db", db])
    assert res.exit_code == 2
