"""CLI: ``fengkong features backfill`` and ``fengkong features check``."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest
from fk_feature_streams import random_events, to_frame
from typer.testing import CliRunner

from fengkong.cli import _register_all, app
from fengkong.events import schema_of
from fengkong.features import load_features

_register_all()
runner = CliRunner()
N_STANDARD = len(load_features().names)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("world")
    df = to_frame(random_events(random.Random(11), 600, pool=5))
    for et in df["event_type"].unique().to_list():
        df.filter(pl.col("event_type") == et).select(list(schema_of(et))).write_parquet(d / f"{et}.parquet")
    return d


def test_backfill_writes_one_row_per_event(world, tmp_path):
    out = tmp_path / "train.parquet"
    res = runner.invoke(app, ["features", "backfill", "--events", str(world), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    table = pl.read_parquet(out)
    assert info["events"] == table.height == 600
    assert table.columns[0] == "event_id" and "app_cnt_id_1h" in table.columns
    assert table["event_id"].n_unique() == 600


def test_check_reports_zero_mismatches(world):
    res = runner.invoke(app, ["features", "check", "--events", str(world)])
    assert res.exit_code == 0, res.output
    assert res.output.strip().splitlines()[-1] == f"checked 600 events x {N_STANDARD} features: 0 mismatches"


def test_check_sqlite_json(world):
    res = runner.invoke(app, ["features", "check", "--events", str(world), "--store", "sqlite", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"events": 600, "features": N_STANDARD, "mismatches": 0, "examples": []}


def test_check_exits_non_zero_on_a_mismatch(world, monkeypatch):
    import fengkong.features.offline as offline

    real = offline.backfill

    def skewed(events, fs, **kw):
        out = real(events, fs, **kw)
        return out.with_columns(pl.col("app_cnt_id_1h") + 1)

    monkeypatch.setattr(offline, "backfill", skewed)
    res = runner.invoke(app, ["features", "check", "--events", str(world)])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("mismatch: event ") and "app_cnt_id_1h" in lines[0]
    assert lines[-1].startswith(f"checked 600 events x {N_STANDARD} features: ") and not lines[-1].endswith(" 0 mismatches")


def test_bad_feature_file_is_one_clear_error(world, tmp_path):
    f = tmp_path / "f.yaml"
    f.write_text("features:\n  - name: x\n    key: nope\n")
    res = runner.invoke(app, ["features", "check", "--events", str(world), "--features", str(f)])
    assert res.exit_code == 2
    assert "key field 'nope'" in res.output


def test_custom_feature_file(world, tmp_path):
    f = tmp_path / "f.yaml"
    f.write_text("features:\n  - name: n_dev_{window}\n    windows: [1h, lifetime]\n    key: device_id\n")
    res = runner.invoke(app, ["features", "check", "--events", str(world), "--features", str(f)])
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("checked 600 events x 2 features: 0 mismatches")


def test_docs_table_lists_every_standard_feature():
    """docs/features.md's standard-library table names every shipped feature, and only those."""
    from pathlib import Path

    from fengkong.features import load_features

    doc = (Path(__file__).parents[2] / "docs" / "features.md").read_text(encoding="utf-8")
    table = doc.split("## Standard library", 1)[1]
    listed = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert listed == set(load_features().names)


def test_check_is_fk_check_parity(world):
    import fengkong as fk
    from fengkong.features.parity import StoreKindError

    rep = fk.check_parity(world, store="sqlite")
    assert (rep.events, rep.features, rep.mismatches) == (600, N_STANDARD, [])
    with pytest.raises(StoreKindError, match="--store 'disk' is not memory, sqlite or redis"):
        fk.check_parity(world, store="disk")
    res = runner.invoke(app, ["features", "check", "--events", str(world), "--store", "disk"])
    assert res.exit_code == 2 and res.output.strip() == "error: --store 'disk' is not memory, sqlite or redis"
