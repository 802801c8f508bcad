"""Binning: missing and special values, categoricals, hand edits, serialisation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.modeling import Binner
from fengkong.modeling.binning import RARE, FeatureBinning, fit_categorical, fit_numeric


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    n = 20_000
    x = rng.normal(50, 10, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 55) / 5))).astype(np.int8)
    x[rng.random(n) < 0.1] = np.nan
    miss = np.isnan(x)
    y[miss] = (rng.random(miss.sum()) < 0.7).astype(np.int8)  # missing values are risky
    x[:500] = -999.0
    y[:500] = 0  # the special code is safe
    return x, y


def test_numeric_missing_and_special_bins(data):
    x, y = data
    fb = fit_numeric("x", x, y.astype(float), special_values=[-999])
    t = fb.table()
    labels = t["label"].to_list()
    assert labels[-1] == "Missing" and labels[-2] == "special -999"
    miss = t.row(len(labels) - 1, named=True)
    assert miss["count"] == int(np.isnan(x).sum())
    B, G = y.sum(), len(y) - y.sum()
    b_m = int(y[np.isnan(x)].sum())
    expected = np.log(((b_m + 0.5) / (B + 0.5)) / ((miss["count"] - b_m + 0.5) / (G + 0.5)))
    assert miss["woe"] == pytest.approx(expected)
    assert miss["woe"] > 0.5  # risky missing values keep their own (high) WOE instead of 0
    assert t.row(len(labels) - 2, named=True)["woe"] < -2
    # regular bins are monotone ascending in bad rate (x raises risk)
    rates = t["bad_rate"].to_numpy()[: fb.n_regular]
    assert fb.trend == "ascending" and (np.diff(rates) >= 0).all()
    assert (t["count"].to_numpy()[: fb.n_regular] >= 0.02 * len(x)).all()
    w = fb.transform(np.array([np.nan, -999.0, 10.0, 90.0]))
    assert w[0] == pytest.approx(miss["woe"], rel=1e-6) and w[2] < w[3]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8, unique=True),
       st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan"))), min_size=1, max_size=40))
def test_bin_index_matches_the_interval_definition(splits, xs):
    fb = FeatureBinning(name="x", kind="numeric", splits=sorted(splits), special_values=[])
    idx = fb.bin_index(np.array(xs))
    edges = [-np.inf, *sorted(splits), np.inf]
    for v, i in zip(xs, idx, strict=True):
        if np.isnan(v):
            assert i == fb.missing_index
        else:
            assert edges[i] <= v < edges[i + 1]


def test_categorical_rare_and_unseen():
    rng = np.random.default_rng(2)
    n = 10_000
    cats = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    cats[:30] = "tiny"
    risk = {"a": 0.05, "b": 0.15, "c": 0.3, "d": 0.5, "tiny": 0.9}
    y = (rng.random(n) < np.array([risk[c] for c in cats])).astype(float)
    s = pl.Series("c", cats.tolist()).set(pl.Series(np.arange(n) % 50 == 7), None)
    fb = fit_categorical("c", s, y)
    assert any("tiny" in g and RARE in g for g in fb.groups)  # rare category pooled with unseen ones
    w = fb.transform(pl.Series(["a", "d", "never-seen", None]))
    assert w[0] < w[1]
    assert w[2] == pytest.approx(fb.woe[fb._default_bin()])
    assert w[3] == pytest.approx(fb.woe[fb.missing_index])


def test_user_edits_and_round_trip(data):
    x, y = data
    X = pl.DataFrame({"x": x, "k": np.where(np.arange(len(x)) % 3 == 0, "u", "v")})
    b = Binner(special_values={"x": [-999]}).fit(X, y)
    n0 = b.bins_["x"].n_regular
    user = b.merge_bins("x", 0)
    b2 = Binner(special_values={"x": [-999]}, user_splits=user).fit(X, y)
    assert b2.bins_["x"].n_regular == n0 - 1 and b2.bins_["x"].trend == "user"
    user = b2.split_bin("x", 47.5)
    b3 = Binner(special_values={"x": [-999]}, user_splits=user).fit(X, y)
    assert 47.5 in b3.bins_["x"].splits
    b4 = Binner.from_dict(b3.to_dict())
    assert b4.transform(X).equals(b3.transform(X))
    assert b3.iv()["x"] > b3.iv()["k"]


def test_transform_needs_the_fitted_columns(data):
    x, y = data
    b = Binner().fit(pl.DataFrame({"x": x}), y)
    with pytest.raises(ValueError, match="columns missing"):
        b.transform(pl.DataFrame({"z": x}))


def test_numeric_categories_are_normalised_at_fit_and_score_time():
    rng = np.random.default_rng(3)
    codes = rng.choice([1, 2, 3, 4], 5000, p=[0.4, 0.3, 0.2, 0.1])
    y = (rng.random(5000) < np.array([0.05, 0.1, 0.3, 0.5])[codes - 1]).astype(float)
    # fitted on floats (as a CSV with one blank would load), scored as ints, floats or text
    fb = fit_categorical("k", pl.Series("k", codes.astype(float)), y)
    assert fb.value_kind == "numeric" and sorted(v for g in fb.groups for v in g) == ["1", "2", "3", "4"]
    as_int = fb.bin_index(pl.Series(codes))
    assert np.array_equal(as_int, fb.bin_index(pl.Series(codes.astype(float))))
    assert np.array_equal(as_int, fb.bin_index(pl.Series(codes.astype(str))))
    assert np.array_equal(as_int, fb.bin_index(pl.Series([f"{c}.0" for c in codes])))
    assert (as_int >= 0).all() and (as_int < fb.n_regular).all()  # nothing fell into unseen / missing
    # NaN is missing, not a category
    assert fb.bin_index(pl.Series([np.nan, None], dtype=pl.Float64)).tolist() == [fb.missing_index] * 2
    # special codes of a numeric categorical column match however the column arrives
    fb2 = fit_categorical("k", pl.Series("k", np.where(np.arange(5000) < 300, -1, codes)), y, special_values=[-1.0])
    assert fb2.special_values == ["-1"]
    assert (fb2.bin_index(pl.Series([-1.0, -1])) == fb2.n_regular).all()


def test_unseen_categories_are_neutral_when_there_is_no_rare_group():
    rng = np.random.default_rng(4)
    n = 6000
    cats = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    risk = {"a": 0.05, "b": 0.1, "c": 0.3, "d": 0.6}
    y = (rng.random(n) < np.array([risk[c] for c in cats])).astype(float)
    fb = fit_categorical("c", pl.Series("c", cats), y)
    assert not any(RARE in g for g in fb.groups)  # every category is common: no (empty) rare group
    assert fb._default_bin() == -1
    w = fb.transform(pl.Series(["never-seen", "d", "a"]))
    assert w[0] == 0.0  # neutral, not the WOE of the riskiest group
    assert w[1] > 0.5 and w[2] < 0
    t = fb.table()
    assert "(rare/unseen)" not in " ".join(t["label"].to_list())
    assert (t["count"].to_numpy()[: fb.n_regular] > 0).all()
