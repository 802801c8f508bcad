"""Export parity: the Python scorecard, its SQL (SQLite and DuckDB) and the engine node give the same points."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import polars as pl
import pytest
import yaml

from fengkong.modeling import Scorecard
from fengkong.modeling.export import scorecard_node, scorecard_sql


@pytest.fixture(scope="module")
def model_and_rows():
    rng = np.random.default_rng(5)
    n = 6000
    age = rng.integers(18, 70, n).astype(float)
    inc = np.round(rng.lognormal(8, 0.6, n), 2)
    city = rng.choice(["bj", "sh", "gz", "sz", "cd", "o'neil"], n, p=[0.3, 0.25, 0.2, 0.15, 0.08, 0.02])
    logit = -1 - 0.04 * (age - 40) - 0.5 * (np.log(inc) - 8) + np.where(city == "sz", 0.8, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    age[rng.random(n) < 0.08] = np.nan
    inc[rng.random(n) < 0.05] = -1.0
    inc[:200] = -999.0
    X = pl.DataFrame({"age": age, "income": inc, "city": city})
    sc = Scorecard(special_values={"income": [-999, -1]}).fit(X, y)
    assert set(sc.features_) == {"age", "income", "city"}
    # scoring rows: the training rows, every split edge exactly, specials, missing, an unseen category
    edges = [v for c in ("age", "income") for v in sc.binner_.bins_[c].splits]
    k = len(edges)
    extra = pl.DataFrame({
        "age": [*edges, *edges, None, 18.0, 99.0],
        "income": [*edges[::-1], -999.0, *[-1.0] * (k - 1), None, 1e9, 0.0],
        "city": ["bj"] * k + ["mars"] * k + [None, "o'neil", "sz"],
    }, schema={"age": pl.Float64, "income": pl.Float64, "city": pl.String})
    rows = pl.concat([X.with_columns(pl.col("age").fill_nan(None)), extra])
    return sc, rows


def _node_points(node, row):
    """An independent evaluation of the exported scorecard node (first matching bin wins)."""
    total = node["offset"]
    per = []
    for ch in node["characteristics"]:
        v = row[ch["input"]]
        for b in ch["bins"]:
            if b.get("missing"):
                hit = v is None or (isinstance(v, float) and math.isnan(v))
            elif "in" in b:
                hit = v is not None and v in b["in"]
            elif b.get("else"):
                hit = True
            else:
                hit = v is not None and not isinstance(v, str) and ("ge" not in b or v >= b["ge"]) and (
                    "lt" not in b or v < b["lt"])
            if hit:
                per.append(b["points"])
                total = total + b["points"]
                break
        else:
            raise AssertionError(f"no bin matched {ch['name']}={v!r}")
    s = node["scaling"]
    return total, per, 1 / (1 + s["base_odds"] * 2 ** ((total - s["base_score"]) / s["pdo"]))


def test_node_is_yaml_and_complete(model_and_rows):
    sc, _ = model_and_rows
    node = scorecard_node(sc)
    again = yaml.safe_load(yaml.safe_dump([node]))[0]
    assert again == node
    assert node["type"] == "scorecard" and node["scaling"] == {"base_score": 600, "base_odds": 50, "pdo": 20}
    for ch in node["characteristics"]:
        assert ch["bins"][0] == {"missing": True, "points": ch["bins"][0]["points"]}
        assert ch["bins"][-1].get("else") is True
        assert ch["reason_code"] == ch["name"].upper()


def test_python_sql_and_node_agree_on_every_row(model_and_rows):
    import duckdb

    sc, rows = model_and_rows
    py_score = sc.predict_score(rows)
    py_pd = sc.predict_proba(rows)[:, 1]
    py_pts = sc.points(rows)
    node = yaml.safe_load(yaml.safe_dump([scorecard_node(sc)]))[0]
    sql = scorecard_sql(sc, "apps")

    con = sqlite3.connect(":memory:")
    con.execute('CREATE TABLE apps (rid INTEGER, age REAL, income REAL, city TEXT)')
    recs = [(i, *r) for i, r in enumerate(rows.iter_rows())]
    con.executemany("INSERT INTO apps VALUES (?, ?, ?, ?)", recs)
    lite = con.execute(f"SELECT rid, score, pd FROM ({sql}) ORDER BY rid").fetchall()

    dd = duckdb.connect()
    dd.register("apps", rows.with_row_index("rid").to_arrow())
    duck = dd.execute(f"SELECT rid, score, pd FROM ({sql}) ORDER BY rid").fetchall()

    assert len(lite) == len(duck) == rows.height
    for i, r in enumerate(rows.iter_rows(named=True)):
        total, per, pd_ = _node_points(node, r)
        assert per == [py_pts[c][i] for c in sc.features_], (i, r)
        assert total == py_score[i]  # same summation order → identical floats
        assert lite[i][1] == py_score[i] and duck[i][1] == py_score[i], (i, r, lite[i], duck[i], py_score[i])
        assert lite[i][2] == pytest.approx(py_pd[i], rel=1e-12)
        assert duck[i][2] == pytest.approx(py_pd[i], rel=1e-12)
        assert pd_ == pytest.approx(py_pd[i], rel=1e-12)


UCI = "/work/shared/data/uci_credit_card_sample.csv"


@pytest.fixture(scope="module")
def uci_numeric_categories():
    """UCI with EDUCATION / MARRIAGE binned as categories (numeric codes), plus rows with unseen codes and nulls."""
    df = pl.read_csv(UCI)
    sc = Scorecard(categorical=["EDUCATION", "MARRIAGE"]).fit(df.drop("default"), df["default"])
    assert {"EDUCATION", "MARRIAGE"} <= set(sc.features_)
    extra = pl.DataFrame({"EDUCATION": [9, None, 2, 0], "MARRIAGE": [7, 1, None, 3],
                          "LIMIT_BAL": [50000.0, None, 1e6, 10000.0], "BILL_AMT1": [0.0, 5.0, None, -3.0]},
                         schema={"EDUCATION": pl.Int64, "MARRIAGE": pl.Int64, "LIMIT_BAL": pl.Float64,
                                 "BILL_AMT1": pl.Float64})
    rows = pl.concat([df.drop("default"), extra])
    return sc, rows


def test_numeric_categories_score_the_same_as_int_float_or_text(uci_numeric_categories):
    sc, rows = uci_numeric_categories
    as_int = sc.predict_score(rows)
    as_float = sc.predict_score(rows.with_columns(pl.col("EDUCATION", "MARRIAGE").cast(pl.Float64)))
    as_text = sc.predict_score(rows.with_columns(pl.col("EDUCATION", "MARRIAGE").cast(pl.Float64).cast(pl.String)))
    assert np.array_equal(as_int, as_float) and np.array_equal(as_int, as_text)
    # the fitted categories are the integer codes, not "2.0"
    for c in ("EDUCATION", "MARRIAGE"):
        fb = sc.binner_.bins_[c]
        assert fb.kind == "categorical" and fb.value_kind == "numeric"
        assert all("." not in v for g in fb.groups for v in g)


def test_numeric_categories_node_and_sql_parity(uci_numeric_categories):
    import duckdb

    sc, rows = uci_numeric_categories
    node = yaml.safe_load(yaml.safe_dump([scorecard_node(sc)]))[0]
    for ch in node["characteristics"]:
        if ch["name"] in ("EDUCATION", "MARRIAGE"):
            vals = [v for b in ch["bins"] if "in" in b for v in b["in"]]
            assert vals and all(isinstance(v, int) for v in vals), ch["bins"]  # numbers, not '5'
    sql = scorecard_sql(sc, "apps")
    py = sc.predict_score(rows)
    for dtype, sqltype in ((pl.Int64, "INTEGER"), (pl.Float64, "REAL")):
        data = rows.with_columns(pl.col("EDUCATION", "MARRIAGE").cast(dtype))
        assert np.array_equal(sc.predict_score(data), py)
        con = sqlite3.connect(":memory:")
        con.execute(f"CREATE TABLE apps (rid INTEGER, EDUCATION {sqltype}, MARRIAGE {sqltype}, LIMIT_BAL REAL, "
                    "BILL_AMT1 REAL)")
        con.executemany("INSERT INTO apps VALUES (?, ?, ?, ?, ?)",
                        [(i, *r) for i, r in enumerate(data.select("EDUCATION", "MARRIAGE", "LIMIT_BAL",
                                                                   "BILL_AMT1").iter_rows())])
        lite = np.array([r[1] for r in con.execute(f"SELECT rid, score FROM ({sql}) ORDER BY rid").fetchall()])
        dd = duckdb.connect()
        dd.register("apps", data.with_row_index("rid").to_arrow())
        duck = np.array([r[1] for r in dd.execute(f"SELECT rid, score FROM ({sql}) ORDER BY rid").fetchall()])
        assert np.array_equal(lite, py) and np.array_equal(duck, py)
        for i, r in enumerate(data.iter_rows(named=True)):
            total, _, _ = _node_points(node, r)
            assert total == py[i], (i, r)
