"""Issue 17: `fengkong evaluate --drop-fields` measures the detectors without some inputs."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from fengkong.cli import _register_all, app
from fengkong.evaluation import drop_fields
from fengkong.simulate import SimConfig, simulate_world

runner = CliRunner()


def test_drop_fields_nulls_the_columns_and_keeps_the_rest(tmp_path):
    simulate_world(tmp_path / "w", SimConfig(customers=300, months=3, seed=8))
    out = drop_fields(tmp_path / "w", ["bureau_score", "device_id"], tmp_path / "d")
    a0, a1 = pl.read_parquet(tmp_path / "w" / "application.parquet"), pl.read_parquet(out / "application.parquet")
    assert a1["bureau_score"].null_count() == a1.height and a1["device_id"].null_count() == a1.height
    assert a0.drop("bureau_score", "device_id").equals(a1.drop("bureau_score", "device_id"))
    assert pl.read_parquet(out / "purchase.parquet")["device_id"].null_count() > 0
    assert (out / "labels.parquet").exists() and (out / "manifest.json").exists()


def test_evaluate_cli_with_and_without_fields(tmp_path):
    if not any(getattr(c, "name", None) == "evaluate" for c in app.registered_commands):
        _register_all()
    simulate_world(tmp_path / "w", SimConfig(customers=1000, months=3, seed=8))
    full = runner.invoke(app, ["evaluate", "--world", str(tmp_path / "w"), "--pack", "fraud", "--json"])
    assert full.exit_code == 0, full.output
    dropped = runner.invoke(app, ["evaluate", "--world", str(tmp_path / "w"), "--pack", "fraud", "--json",
                                  "--drop-fields", "bureau_hard_inquiries_30d,bureau_nonbank_loans"])
    assert dropped.exit_code == 0, dropped.output
    a, b = json.loads(full.stdout), json.loads(dropped.stdout)
    assert b["dropped_fields"] == ["bureau_hard_inquiries_30d", "bureau_nonbank_loans"] and "dropped_fields" not in a
    assert b["multi_head"] != a["multi_head"]  # the bureau-based multi-head rules lost their inputs
    for bad, msg in (("ts", "required in every event"), ("nope", "is not an event field")):
        r = runner.invoke(app, ["evaluate", "--world", str(tmp_path / "w"), "--drop-fields", bad])
        assert r.exit_code == 2 and msg in r.output
