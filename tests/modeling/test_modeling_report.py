"""Report building blocks: samples, the model's development counts, bin comparison, stability."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fengkong.modeling import Scorecard, report


@pytest.fixture(scope="module")
def model_and_data():
    rng = np.random.default_rng(8)
    n = 5000
    x = rng.normal(size=n)
    k = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < 1 / (1 + np.exp(-(x + np.where(k == "c", 1.0, 0.0) - 1.5)))).astype(int)
    X = pl.DataFrame({"x": np.where(rng.random(n) < 0.05, np.nan, x), "k": k}).with_columns(pl.col("x").fill_nan(None))
    return Scorecard().fit(X, y), X, y


def test_development_counts_stored_in_the_model_equal_the_development_rows(model_and_data):
    sc, X, y = model_and_data
    from_data = report.sample(sc, "dev", X, y)
    from_model = report.development_sample(sc, "dev", from_data.score, y)
    for c in sc.features_:
        assert np.array_equal(from_data.counts[c], from_model.counts[c])
        assert np.array_equal(from_data.bads[c], from_model.bads[c])
    assert np.array_equal(from_data.score, sc.predict_score(X))
    # the same CSI whether the reference is the development rows or the model's stored counts
    new = X.with_columns(pl.col("x") + 0.5)
    a = report.stability(sc, X, new)
    b = report.stability(sc, None, new)
    assert a["name"].to_list()[1:] == b["name"].to_list()
    assert np.allclose(a["index"].to_numpy()[1:], b["index"].to_numpy())


def test_bin_comparison_shows_unseen_categories(model_and_data):
    sc, X, y = model_and_data
    new = X.head(100).with_columns(pl.when(pl.int_range(pl.len()) < 7).then(pl.lit("zz")).otherwise(pl.col("k"))
                                   .alias("k"))
    t = report.bin_comparison(sc, "k", report.sample(sc, "new", new, y[:100]))
    assert t["eval_count"].sum() == 100 and t["count"].sum() == X.height
    last = t.row(t.height - 1, named=True)
    assert last["label"].startswith("(unseen") and last["eval_count"] == 7 and last["count"] == 0
    assert last["points"] == 0.0
    html = report.html_report(sc, X, y, new, y[:100], names=("Dev", "New"))
    assert "(unseen, neutral WOE 0)" in html and "Characteristic analysis: Dev → New" in html
