"""Parity through the decision engine: fengkong.strategy evaluates the exported scorecard node (one event at a
time and vectorised) and gives the same score, PD and reason codes as the Python scorecard and its SQL."""

from __future__ import annotations

import sqlite3

import numpy as np
import polars as pl
import pytest
import yaml

from fengkong.modeling import Scorecard
from fengkong.modeling.export import scorecard_node, scorecard_sql

strategy = pytest.importorskip("fengkong.strategy")


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(4)
    n = 4000
    age = rng.integers(18, 66, n)
    bureau = rng.integers(300, 900, n).astype(float)
    prov = rng.choice(["广东", "北京", "上海", "四川", "西藏"], n, p=[0.35, 0.25, 0.2, 0.17, 0.03])
    logit = -1 - 0.03 * (age - 40) - 0.004 * (bureau - 600) + np.where(prov == "四川", 0.5, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    bureau[rng.random(n) < 0.07] = np.nan
    bureau[rng.random(n) < 0.03] = -1.0
    X = pl.DataFrame({"age": age, "bureau_score": bureau, "province": prov}).with_columns(
        pl.col("bureau_score").fill_nan(None))
    sc = Scorecard(special_values={"bureau_score": [-1]}).fit(X, y)
    assert set(sc.features_) == {"age", "bureau_score", "province"}
    edges = [v for c in ("age", "bureau_score") for v in sc.binner_.bins_[c].splits]
    extra = pl.DataFrame({
        "age": [int(e) for e in sc.binner_.bins_["age"].splits] + [18, 65, 40],
        "bureau_score": [*edges[-len(sc.binner_.bins_["age"].splits):], None, -1.0, 1e6],
        "province": ["新疆"] * len(sc.binner_.bins_["age"].splits) + ["四川", "北京", "西藏"],
    }, schema=X.schema)
    rows = pl.concat([X.head(1500), extra])
    doc = {"name": "modeling_parity", "version": "1", "event_type": "application",
           "nodes": [scorecard_node(sc)], "flow": {"steps": ["app_score"], "outcome": [{"outcome": "approve"}]}}
    st = strategy.strategy_from_text(yaml.safe_dump(doc, allow_unicode=True), file="parity.yaml")
    return sc, rows, st


def test_engine_equals_python_and_sql(setup):
    sc, rows, st = setup
    py = sc.predict_score(rows)
    pd_ = sc.predict_proba(rows)[:, 1]
    rc = sc.reason_codes(rows, n=sc.reasons)
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE apps (rid INTEGER, age INTEGER, bureau_score REAL, province TEXT)")
    con.executemany("INSERT INTO apps VALUES (?, ?, ?, ?)", [(i, *r) for i, r in enumerate(rows.iter_rows())])
    sql = con.execute(f"SELECT rid, score FROM ({scorecard_sql(sc, 'apps')}) ORDER BY rid").fetchall()
    frame = st.evaluate_frame(rows.with_columns(pl.lit("application").alias("event_type")))
    assert np.array_equal(frame["score"].to_numpy(), py)
    assert np.allclose(frame["pd"].to_numpy(), pd_, rtol=1e-12)
    for i, r in enumerate(rows.iter_rows(named=True)):
        ev = st.evaluate(r)
        assert ev.scores["score"] == py[i] == sql[i][1], (i, r)
        assert ev.scores["pd"] == pytest.approx(pd_[i], rel=1e-12)
        lost = [rc[f"lost_{k}"][i] for k in range(1, 4)]
        if len(set(lost)) == len(lost):  # tie order between equal losses is not specified
            want = [rc[f"reason_{k}"][i] for k in range(1, 4) if rc[f"reason_{k}"][i]]
            assert ev.score_reasons.get("app_score", []) == want, (i, r)


def test_engine_compiles_numeric_category_node_and_agrees():
    """A characteristic binned as categories from a numeric column compiles against numeric engine inputs
    (int and float) and scores like Python for int and float inputs."""
    df = pl.read_csv("/work/shared/data/uci_credit_card_sample.csv")
    sc = Scorecard(categorical=["EDUCATION", "MARRIAGE"]).fit(df.drop("default"), df["default"])
    rows = pl.concat([df.drop("default").head(1500), pl.DataFrame(
        {"EDUCATION": [9, None, 4], "MARRIAGE": [None, 8, 0], "LIMIT_BAL": [1e5, 2e4, None],
         "BILL_AMT1": [None, 0.0, 1e5]}, schema=df.drop("default").schema)])
    py = sc.predict_score(rows)
    doc = {"name": "uci_parity", "version": "1", "event_type": "application", "nodes": [scorecard_node(sc)],
           "flow": {"steps": ["app_score"], "outcome": [{"outcome": "approve"}]}}
    for kind in ("int", "float"):
        kinds = {"EDUCATION": kind, "MARRIAGE": kind, "LIMIT_BAL": "float", "BILL_AMT1": "float"}
        st = strategy.strategy_from_text(yaml.safe_dump(doc), file="uci.yaml", features=kinds)
        cast = pl.Int64 if kind == "int" else pl.Float64
        data = rows.with_columns(pl.col("EDUCATION", "MARRIAGE").cast(cast))
        frame = st.evaluate_frame(data.select(pl.all().name.prefix("__f.")).with_columns(
            pl.lit("application").alias("event_type")))
        assert np.array_equal(frame["score"].to_numpy(), py)
        for i, r in enumerate(data.iter_rows(named=True)):
            assert st.evaluate({"event_type": "application"}, features=r).scores["score"] == py[i], (kind, i, r)
