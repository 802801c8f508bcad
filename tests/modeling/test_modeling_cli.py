"""`fengkong scorecard fit / score / report` end to end on the UCI sample (CSV and Parquet)."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import polars as pl
import pytest
import typer
import yaml
from typer.testing import CliRunner

from fengkong.modeling.cli import register
from fengkong.modeling.scorecard import Scorecard

UCI = "/work/shared/data/uci_credit_card_sample.csv"


@pytest.fixture(scope="module")
def app():
    a = typer.Typer()
    register(a)
    return a


@pytest.fixture(scope="module")
def fitted_dir(app, tmp_path_factory):
    out = tmp_path_factory.mktemp("uci_model")
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", UCI, "--target", "default", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["test"]["auc"] > 0.58 and res["features"]
    return out


def test_fit_writes_everything(fitted_dir):
    names = {p.name for p in fitted_dir.iterdir()}
    assert {"model.json", "binning_tables.csv", "points_table.csv", "report.html", "report.xlsx", "explore.html",
            "scorecard_node.yaml", "score.sql", "metrics.json", "meta.json"} <= names
    html = (fitted_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 8 and "Gains by decile" in html
    wb = openpyxl.load_workbook(fitted_dir / "report.xlsx")
    assert wb.sheetnames[:3] == ["Summary", "Points", "Gains"] and "LIMIT_BAL" in wb.sheetnames
    node = yaml.safe_load((fitted_dir / "scorecard_node.yaml").read_text())[0]
    assert node["type"] == "scorecard"
    assert "LIMIT_BAL" in pl.read_csv(fitted_dir / "binning_tables.csv")["variable"].to_list()


def test_score_csv_and_parquet(app, fitted_dir, tmp_path):
    src = pl.read_csv(UCI)
    pq = tmp_path / "in.parquet"
    src.drop("default").write_parquet(pq)
    for data, out in [(UCI, tmp_path / "s.csv"), (str(pq), tmp_path / "s.parquet")]:
        r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(fitted_dir), "--data", data, "--out", str(out)])
        assert r.exit_code == 0, r.output
        res = pl.read_csv(out) if out.suffix == ".csv" else pl.read_parquet(out)
        assert res.height == src.height and {"score", "pd", "reason_1", "lost_1"} <= set(res.columns)
        sc = Scorecard.load(fitted_dir / "model.json")
        assert np.allclose(res["score"].to_numpy(), sc.predict_score(src), atol=0.006)
        assert ((res["pd"] > 0) & (res["pd"] < 1)).all()
        # higher score = less risky
        assert res.filter(pl.col("score") > pl.col("score").median())["pd"].mean() < res["pd"].mean()


def test_report_out_of_sample(app, fitted_dir):
    r = CliRunner().invoke(app, ["scorecard", "report", "--model", str(fitted_dir), "--data", UCI, "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert 0.55 < res["auc"] < 0.8 and res["n"] == 6000
    assert (fitted_dir / "report_uci_credit_card_sample.html").exists()


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["--target", "nope"], "target column 'nope' not found"),
        (["--target", "LIMIT_BAL"], "must be binary"),
        (["--target", "default", "--bad-value", "7"], "does not occur"),
    ],
)
def test_fit_bad_target_is_a_clear_error(app, tmp_path, args, msg):
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", UCI, "--out", str(tmp_path / "m"), *args])
    assert r.exit_code == 2
    assert msg in " ".join(r.output.split())


def test_missing_target_values_and_missing_columns(app, tmp_path, fitted_dir):
    df = pl.read_csv(UCI).with_columns(pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.col("default"))
                                       .alias("default"))
    f = tmp_path / "holes.csv"
    df.write_csv(f)
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", str(f), "--target", "default", "--out", str(tmp_path / "m")])
    assert r.exit_code == 2 and "1 missing values" in r.output
    f2 = tmp_path / "narrow.csv"
    df.select("EDUCATION").write_csv(f2)
    r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(fitted_dir), "--data", str(f2),
                                 "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "missing from" in r.output
    r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(tmp_path), "--data", UCI,
                                 "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "no model found" in r.output
