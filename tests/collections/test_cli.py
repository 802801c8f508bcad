"""The complaints and collections CLIs: groups, not-me, report; bad input is one clear error."""

from __future__ import annotations

from typer.testing import CliRunner

from fengkong.cli import _register_all, app
from fengkong.simulate.config import SimConfig
from fengkong.simulate.world import simulate_world


def test_cli_groups_not_me_report(tmp_path):
    _register_all()
    w = tmp_path / "w"
    simulate_world(w, SimConfig(customers=2000, seed=777))
    db = f"sqlite:///{tmp_path / 'fk.db'}"
    r = CliRunner().invoke(app, ["complaints", "groups", str(w), "--db", db, "--open-cases"])
    assert r.exit_code == 0, r.output
    assert "organised group case(s) open" in r.output
    r = CliRunner().invoke(app, ["collections", "report", str(w)])
    assert r.exit_code == 0 and "contacts broke the policy" in r.output
    r = CliRunner().invoke(app, ["complaints", "not-me", str(w), "--loan", "NOPE", "--ref", "X", "--db", db])
    assert r.exit_code == 2 and "loan_ids" in r.output
    r = CliRunner().invoke(app, ["collections", "report", str(tmp_path)])
    assert r.exit_code == 2 and "collectors.parquet" in r.output
