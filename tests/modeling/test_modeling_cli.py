"""`fengkong scorecard fit / score / report` end to end on the UCI sample (CSV and Parquet)."""

from __future__ import annotations

import json
import re

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


# ---- German credit end to end; reports label and compare the right samples --------------------------------

GERMAN = "/work/shared/data/germancredit.csv"


@pytest.fixture(scope="module")
def german_dir(app, tmp_path_factory):
    out = tmp_path_factory.mktemp("german_model")
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", GERMAN, "--target", "creditability", "--bad-value",
                                 "bad", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["test"]["auc"] > 0.78 and res["train"]["n"] == 700 and res["test"]["n"] == 300
    return out


def _german_split():
    from sklearn.model_selection import train_test_split

    from fengkong.modeling._data import binary_target

    df = pl.read_csv(GERMAN)
    y = binary_target(df["creditability"], "bad")
    tr, te = train_test_split(np.arange(df.height), test_size=0.3, stratify=y, random_state=0)
    return df, y, np.sort(tr), np.sort(te)


def _sheet_rows(ws):
    return [[v for v in row if v is not None] for row in ws.iter_rows(values_only=True)]


def test_german_fit_score_report(app, german_dir, tmp_path):
    sc = Scorecard.load(german_dir / "model.json")
    out = tmp_path / "scores.xlsx"
    r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(german_dir), "--data", GERMAN, "--out", str(out)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out).active  # a real workbook, not CSV text under an .xlsx name
    header = [c.value for c in ws[1]]
    scores = [row[header.index("score")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert len(scores) == 1000
    assert np.allclose(scores, sc.predict_score(pl.read_csv(GERMAN)), atol=0.006)
    # out-of-sample report on the holdout rows
    df, _, _, te = _german_split()
    hold = tmp_path / "german_holdout.csv"
    df[te].write_csv(hold)
    r = CliRunner().invoke(app, ["scorecard", "report", "--model", str(german_dir), "--data", str(hold), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    metrics = json.loads((german_dir / "metrics.json").read_text())
    assert res["n"] == 300 and res["auc"] == pytest.approx(metrics["test"]["auc"])
    assert (german_dir / "report_german_holdout.html").exists() and (german_dir / "report_german_holdout.xlsx").exists()


@pytest.fixture(scope="module")
def german_report(app, german_dir):
    """`scorecard report` of the German model on the whole file (its development rows + holdout)."""
    r = CliRunner().invoke(app, ["scorecard", "report", "--model", str(german_dir), "--data", GERMAN])
    assert r.exit_code == 0, r.output
    return german_dir


def test_report_workbook_names_the_evaluated_sample(german_report):
    german_dir = german_report
    wb = openpyxl.load_workbook(german_dir / "report_germancredit.xlsx")
    summary = _sheet_rows(wb["Summary"])
    i = next(k for k, row in enumerate(summary) if row and row[0] == "sample")
    dev, ev = summary[i + 1], summary[i + 2]
    assert dev[0].startswith("Development: germancredit.csv (700 rows")
    assert ev[0] == "Evaluated: germancredit.csv (1,000 rows)"
    assert not any(v == "train" for row in summary for v in row)
    metrics = json.loads((german_dir / "metrics.json").read_text())
    assert dev[1] == pytest.approx(metrics["train"]["auc"]) and dev[5] == 700  # exactly the development rows
    assert "Evaluated: germancredit.csv" in wb["Gains"]["A1"].value
    # per-variable sheets: development bins next to the evaluated sample's counts, both labelled
    ws = wb["credit_history"]
    rows = _sheet_rows(ws)
    assert any("Evaluated: germancredit.csv" in str(v) for v in rows[2]) and any("Development" in str(v) for v in rows[2])
    head = rows[3]
    assert {"count", "bad_rate", "points", "eval_count", "eval_bad_rate", "csi"} <= set(head)
    body = rows[4:4 + sc_bins(german_dir, "credit_history")]
    assert sum(r[head.index("eval_count")] for r in body) == 1000
    assert sum(r[head.index("count")] for r in body) == 700


def sc_bins(model_dir, c):
    return Scorecard.load(model_dir / "model.json").binner_.bins_[c].missing_index + 1


def test_report_compares_the_development_rows_not_the_whole_fit_file(german_report):
    from fengkong.modeling import report

    german_dir = german_report
    html = (german_dir / "report_germancredit.html").read_text()
    assert '<span class="kpi">rows<b>700</b>' in html and '<span class="kpi">rows<b>1,000</b>' in html
    assert html.count('<span class="kpi">rows<b>') == 2
    sc = Scorecard.load(german_dir / "model.json")
    df, _, tr, _ = _german_split()
    want = report.stability(sc, df[tr], df)
    got = _sheet_rows(openpyxl.load_workbook(german_dir / "report_germancredit.xlsx")["Stability"])
    got = {row[0]: row[1] for row in got[4:] if row}
    assert set(got) == set(want["name"].to_list())
    for name, v in zip(want["name"], want["index"], strict=True):
        assert got[name] == pytest.approx(v, abs=1e-12), name


def test_report_without_stored_development_scores(app, german_dir, tmp_path):
    import shutil

    d = tmp_path / "old_model"
    shutil.copytree(german_dir, d)
    (d / "development_scores.parquet").unlink()
    r = CliRunner().invoke(app, ["scorecard", "report", "--model", str(d), "--data", GERMAN])
    assert r.exit_code == 0, r.output
    html = (d / "report_germancredit.html").read_text()
    assert "Only the bin counts" in html and html.count('<span class="kpi">rows<b>') == 1
    stab = _sheet_rows(openpyxl.load_workbook(d / "report_germancredit.xlsx")["Stability"])
    assert not any(row and row[0] == "score (PSI)" for row in stab)  # CSI from the model's counts only


def test_html_tables_are_readable(german_dir):
    html = (german_dir / "report.html").read_text()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells and not {"nan", "NaN", "-0.0000", "-0.00", "None"} & set(cells)
    # the empty Missing bin of a characteristic: a dash for its bad rate
    row = re.search(r"<td[^>]*>credit_history</td><td>5</td><td[^>]*>Missing</td><td>0</td><td>(.*?)</td>", html)
    assert row and row.group(1) == "–"
    assert re.search(r"<td>\d+\.\d\d%</td>", html)  # bad rates as percentages
    points = re.findall(r"<td[^>]*>Missing</td><td>0</td><td>–</td><td>[^<]*</td><td>([^<]*)</td>", html)
    assert points and all(re.fullmatch(r"-?\d+\.\d\d", p) for p in points)


# ---- output types and fit options --------------------------------------------------------------------------


def test_score_output_type_is_checked_before_work(app, fitted_dir, tmp_path):
    out = tmp_path / "s.json"
    r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(fitted_dir), "--data", UCI, "--out", str(out)])
    assert r.exit_code == 2 and "unsupported output type '.json'" in " ".join(r.output.split())
    assert not out.exists()
    # checked first: a missing data file is not even read
    r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(fitted_dir), "--data", str(tmp_path / "nope.csv"),
                                 "--out", str(tmp_path / "s.txt")])
    assert r.exit_code == 2 and "unsupported output type '.txt'" in " ".join(r.output.split())
    r = CliRunner().invoke(app, ["scorecard", "report", "--model", str(fitted_dir), "--data", UCI,
                                 "--out", str(tmp_path / "r.xlsx")])
    assert r.exit_code == 2 and "the report is HTML" in " ".join(r.output.split())


def test_fit_categorical_and_special_values(app, tmp_path):
    df = pl.read_csv(UCI).with_columns(
        pl.when(pl.int_range(pl.len()) % 50 == 0).then(-999.0).otherwise(pl.col("BILL_AMT1")).alias("BILL_AMT1"))
    f = tmp_path / "uci_codes.csv"
    df.write_csv(f)
    out = tmp_path / "m"
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", str(f), "--target", "default", "--out", str(out),
                                 "--categorical", "EDUCATION,MARRIAGE", "--special-values", "-999,-1", "--json"])
    assert r.exit_code == 0, r.output
    sc = Scorecard.load(out / "model.json")
    for c in ("EDUCATION", "MARRIAGE"):
        assert sc.binner_.bins_[c].kind == "categorical" and sc.binner_.bins_[c].value_kind == "numeric"
    fb = sc.binner_.bins_["BILL_AMT1"]
    assert (fb.special_values == [-999, -1] and fb.count[fb.n_regular] == df.height * 0.7 // 50) or fb.count[
        fb.n_regular] > 50
    node = yaml.safe_load((out / "scorecard_node.yaml").read_text())[0]
    edu = next(ch for ch in node["characteristics"] if ch["name"] == "EDUCATION")
    assert all(isinstance(v, int) for b in edu["bins"] if "in" in b for v in b["in"])
    meta = json.loads((out / "meta.json").read_text())
    assert meta["categorical"] == ["EDUCATION", "MARRIAGE"] and meta["special_values"] == [-999, -1]
    for args, msg in [(["--categorical", "NOPE"], "--categorical column 'NOPE' not found"),
                      (["--special-values", "-999,abc"], "'abc' is not a number"),
                      (["--stability-column", "month"], "--stability-column column 'month' not found")]:
        r = CliRunner().invoke(app, ["scorecard", "fit", "--data", UCI, "--target", "default",
                                     "--out", str(tmp_path / "x"), *args])
        assert r.exit_code == 2 and msg in " ".join(r.output.split()), r.output


def test_fit_stability_column(app, tmp_path):
    rng = np.random.default_rng(5)
    n = 6000
    month = np.repeat([202601, 202602, 202603], n // 3)
    stable = rng.normal(size=n)
    drift = rng.normal(size=n) + np.where(month == 202603, 1.5, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-(stable + drift - 1.5)))).astype(int)
    f = tmp_path / "slices.csv"
    pl.DataFrame({"month": month, "stable": stable, "drift": drift, "bad": y}).write_csv(f)
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", str(f), "--target", "bad", "--out", str(tmp_path / "m"),
                                 "--stability-column", "month", "--max-psi", "0.1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["features"] == ["stable"]
    r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(tmp_path / "m"), "--data", str(f),
                                 "--out", str(tmp_path / "s.parquet")])
    assert r.exit_code == 0, r.output


def test_fit_with_reject_inference(app, tmp_path):
    df = pl.read_csv(UCI)
    accepted = df["LIMIT_BAL"] >= 50_000  # a limit policy: the rest are the rejects, outcome hidden
    df.filter(accepted).write_csv(tmp_path / "acc.csv")
    df.filter(~accepted).drop("default").write_parquet(tmp_path / "rej.parquet")
    base = ["scorecard", "fit", "--data", str(tmp_path / "acc.csv"), "--target", "default"]
    plain = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "plain"), "--json"])
    res = {}
    for m in ("fuzzy", "parcel"):
        r = CliRunner().invoke(app, [*base, "--out", str(tmp_path / m), "--json", "--rejects",
                                     str(tmp_path / "rej.parquet"), "--reject-inference", m, "--parcel-factor", "2"])
        assert r.exit_code == 0, r.output
        res[m] = json.loads(r.output)["reject_inference"]
        assert res[m]["method"] == m and res[m]["reject_rows"] == int((~accepted).sum())
        meta = json.loads((tmp_path / m / "meta.json").read_text())
        assert meta["reject_inference"]["method"] == m
        assert json.loads((tmp_path / m / "metrics.json").read_text())["reject_inference"]["accepted_only"]["test"]
        # the accepted-only model in the report is the plain fit on the same rows
        assert res[m]["accepted_only"]["test"] == json.loads(plain.output)["test"]
    assert res["fuzzy"]["parcel_factor"] is None and res["parcel"]["parcel_factor"] == 2.0
    # parcelling at 2× the band bad rate makes the rejects riskier than the accepted-only model says
    assert res["parcel"]["inferred_reject_bad_rate"] > res["parcel"]["accepted_only_reject_pd"]
    assert res["parcel"]["reject_pd"] > res["parcel"]["accepted_only_reject_pd"]
    r = CliRunner().invoke(app, ["scorecard", "report", "--model", str(tmp_path / "parcel"), "--data",
                                 str(tmp_path / "acc.csv"), "--json"])
    assert r.exit_code == 0, r.output
    for extra, msg in ((["--rejects", str(tmp_path / "rej.parquet")], "go together"),
                       (["--reject-inference", "fuzzy"], "go together"),
                       (["--rejects", str(tmp_path / "rej.parquet"), "--reject-inference", "magic"], "use one of"),
                       (["--rejects", str(tmp_path / "acc.csv"), "--reject-inference", "parcel",
                         "--reject-weight", "0"], "reject-weight")):
        r = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "bad"), *extra])
        assert r.exit_code == 2 and msg in r.output, r.output
    df.filter(~accepted).drop("default", "BILL_AMT1").write_csv(tmp_path / "rej_short.csv")
    r = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "bad"), "--rejects", str(tmp_path / "rej_short.csv"),
                                 "--reject-inference", "fuzzy"])
    assert r.exit_code == 2 and "BILL_AMT1" in r.output, r.output


def test_the_commands_are_the_model_dir_functions(fitted_dir, tmp_path):
    """``fk.score_table`` / ``fk.report_model`` give what the commands print; bad input is a ModelDirError."""
    import fengkong as fk
    from fengkong.modeling.model_dir import ModelDirError

    out = tmp_path / "s.parquet"
    info = fk.score_table(fitted_dir, UCI, out, reasons=False)
    scored = pl.read_parquet(out)
    assert info["rows"] == scored.height and "reason_1" not in scored.columns
    assert info["mean_score"] == pytest.approx(float(scored["score"].mean()), abs=0.01)
    rep = fk.report_model(fitted_dir, UCI, out=tmp_path / "r.html")
    assert rep["report"] == str(tmp_path / "r.html") and 0.5 < rep["auc"] < 1
    with pytest.raises(ModelDirError, match=r"--holdout must be in \[0, 0.9\)"):
        fk.fit_model_dir(UCI, "default", tmp_path / "m", holdout=0.95)
    with pytest.raises(ModelDirError, match="target column 'nope' not found"):
        fk.fit_model_dir(UCI, "nope", tmp_path / "m")
    with pytest.raises(ModelDirError, match=r"unsupported output type '\.txt'"):
        fk.score_table(fitted_dir, UCI, tmp_path / "s.txt")
