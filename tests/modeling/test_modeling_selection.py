"""Feature selection helpers and the exploratory report."""

from __future__ import annotations

import numpy as np
import polars as pl

from fengkong.modeling import selection
from fengkong.modeling.explore import explore, explore_html


def _data(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = a + 0.05 * rng.normal(size=n)  # near copy of a
    c = rng.normal(size=n)
    noise = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * a + 0.8 * c - 1)))).astype(int)
    return np.column_stack([a, b, c, noise]).astype(np.float32), y, ["a", "b", "c", "noise"]


def test_correlation_vif_and_iv():
    W, _, names = _data()
    iv = {"a": 0.5, "b": 0.4, "c": 0.3, "noise": 0.001}
    assert selection.by_iv(iv, 0.02) == ["a", "b", "c"]
    assert selection.by_correlation(W, names, iv, corr_max=0.8) == ["a", "c", "noise"]
    v = selection.vif(W)
    assert v[0] > 50 and v[1] > 50 and v[2] < 2
    assert "b" not in selection.by_vif(W, names, vif_max=5) or "a" not in selection.by_vif(W, names, vif_max=5)


def test_stepwise_picks_the_signal():
    W, y, names = _data()
    chosen = selection.stepwise(W, y, names, criterion="bic")
    assert "c" in chosen and ("a" in chosen or "b" in chosen) and "noise" not in chosen


def test_stability_by_time_slice():
    rng = np.random.default_rng(1)
    stable = rng.normal(size=3000)
    drift = np.r_[rng.normal(size=1000), rng.normal(size=1000), rng.normal(2.0, 1, 1000)]
    W = np.column_stack([stable, drift])
    slices = np.repeat(np.array(["2026-01", "2026-02", "2026-03"]), 1000)
    assert selection.by_stability(W, ["stable", "drift"], slices, psi_max=0.25) == ["stable"]


def test_explore_table_and_page():
    rng = np.random.default_rng(2)
    n = 3000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(int)
    X = pl.DataFrame({"x": np.where(rng.random(n) < 0.1, np.nan, x), "k": rng.choice(["p", "q"], n),
                      "z": rng.normal(size=n)}).with_columns(pl.col("x").fill_nan(None))
    t = explore(X, y)
    assert t["column"][0] == "x"  # sorted by IV
    row = t.row(0, named=True)
    assert abs(row["missing_share"] - X["x"].null_count() / n) < 1e-12 and row["ks"] > 0.3
    assert set(t.columns) >= {"dtype", "distinct", "top_values", "iv", "ks", "n_bins"}
    page = explore_html(X, y)
    assert page.count("data:image/png;base64,") == 3 and "<table>" in page
    assert "iv" not in explore(X).columns


def test_slice_psi_over_discrete_values():
    rng = np.random.default_rng(3)
    slices = np.repeat([3, 1, 2], 2000)  # the earliest slice is the smallest id, wherever it sits
    same = rng.choice([-0.5, 0.1, 0.7], 6000)
    moved = np.where(slices == 2, rng.choice([-0.5, 0.1, 0.7], 6000, p=[0.1, 0.2, 0.7]),
                     rng.choice([-0.5, 0.1, 0.7], 6000))
    W = np.column_stack([same, moved]).astype(np.float32)
    psi = selection.slice_psi(W, slices, discrete=True)
    assert psi[0] < 0.01 and psi[1] > 0.25
    assert selection.by_stability(W, ["same", "moved"], slices, psi_max=0.25, discrete=True) == ["same"]
