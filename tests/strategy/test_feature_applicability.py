"""Issue 20 item 9: a rule must not read a feature that has no value for its strategy's event type."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fengkong.cli import _register_all, app

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands():
    if not any(getattr(c, "name", None) == "decide" for c in app.registered_commands):
        _register_all()


def _strategy(tmp_path, event_type: str, when: str):
    p = tmp_path / "s.yaml"
    p.write_text(f"name: t\nversion: 1\nevent_type: {event_type}\nnodes:\n"
                 f"  - {{id: r, type: ruleset, rules: [{{id: X, when: '{when}', action: review}}]}}\n")
    return p


def test_validate_and_deploy_refuse_a_feature_undefined_for_the_event_type(tmp_path):
    p = _strategy(tmp_path, "purchase", "app_cnt_id_1h >= 1")  # counts applications: null on every purchase
    r = runner.invoke(app, ["strategy", "validate", str(p)])
    assert r.exit_code == 2
    assert "reads feature 'app_cnt_id_1h', which has no value for purchase events (it applies to application)" in r.output
    r = runner.invoke(app, ["strategy", "deploy", str(p), "--db", f"sqlite:///{tmp_path / 'fk.db'}"])
    assert r.exit_code == 2 and "has no value for purchase events" in r.output


def test_a_feature_defined_for_the_event_type_passes(tmp_path):
    p = _strategy(tmp_path, "purchase", "coalesce(days_since_first_seen_device, 99.0) < 1")
    r = runner.invoke(app, ["strategy", "validate", str(p)])
    assert r.exit_code == 0, r.output


def test_validate_events_reports_missing_inputs_per_rule(tmp_path):
    """Issue 17 item 2: `strategy validate --events DIR` shows the null share of each rule's inputs."""
    import json

    import polars as pl

    from fengkong.simulate import SimConfig, simulate_world

    simulate_world(tmp_path / "w", SimConfig(customers=300, months=3, seed=4))
    a = pl.read_parquet(tmp_path / "w" / "application.parquet")
    a.with_columns(pl.lit(None, dtype=pl.Int32).alias("bureau_max_dpd_24m")).write_parquet(
        tmp_path / "w" / "application.parquet")
    shipped = str(__import__("fengkong.api", fromlist=["x"]).example_strategy("application"))
    r = runner.invoke(app, ["strategy", "validate", shipped, "--events", str(tmp_path / "w"), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["results"][0]
    rows = {(x["rule"], x["input"]): x["null_share"] for x in res["inputs"]}
    assert rows[("CR_DPD", "bureau_max_dpd_24m")] == 1.0 and rows[("ID_AGE", "age")] == 0.0
    assert any(w.startswith("rule CR_DPD can never fire") for w in res["warnings"])
    assert not any("ID_AGE" in w for w in res["warnings"])
