"""Scorecard: scaling, points, reason codes, persistence, estimator conventions, target validation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fengkong.modeling import Scorecard
from fengkong.modeling._data import TargetError, binary_target
from fengkong.modeling.metrics import auc

GERMAN = "/work/shared/data/germancredit.csv"


@pytest.fixture(scope="module")
def german():
    df = pl.read_csv(GERMAN)
    y = binary_target(df["creditability"], "bad")
    X = df.drop("creditability")
    rng = np.random.default_rng(0)
    test = rng.random(len(y)) < 0.3
    return X.filter(~test), y[~test], X.filter(test), y[test]


@pytest.fixture(scope="module")
def fitted(german):
    X, y, _, _ = german
    return Scorecard().fit(X, y)


def test_fit_is_predictive_and_follows_conventions(german, fitted):
    X, _, Xt, yt = german
    before = X.clone()
    assert auc(yt, -fitted.predict_score(Xt)) > 0.75
    assert X.equals(before)
    assert fitted.get_params()["pdo"] == 20
    sc2 = Scorecard().set_params(**fitted.get_params())
    assert sc2.get_params() == fitted.get_params()
    with pytest.raises(ValueError, match="unknown parameter"):
        Scorecard().set_params(nope=1)
    assert all(v > 0 for v in fitted.coef_.values())  # WOE = ln(bad/good): every coefficient positive


def test_points_scaling(fitted, german):
    X = german[0]
    pts = fitted.points(X)
    total = fitted.offset_ + pts.to_numpy().sum(axis=1)
    assert np.allclose(total, fitted.predict_score(X))
    # score ↔ pd follows the scaling: pdo points double the good:bad odds, base score at base odds
    s = fitted.predict_score(X)
    pd_ = fitted.predict_proba(X)[:, 1]
    odds = (1 - pd_) / pd_
    assert np.allclose(np.log2(odds / fitted.base_odds) * fitted.pdo + fitted.base_score, s)
    # points equal −factor · coef · WOE, rounded to points_decimals
    c = fitted.features_[0]
    fb = fitted.binner_.bins_[c]
    expect = np.round(-fitted.factor * fitted.coef_[c] * np.asarray(fb.woe), 2)
    assert np.array_equal(fitted.points_[c][:-1], expect)


def test_reason_codes_are_the_largest_losses(fitted, german):
    X = german[0].head(50)
    rc = fitted.reason_codes(X, n=3)
    pts = fitted.points(X)
    best = {c: fitted.points_[c].max() for c in fitted.features_}
    for i in range(X.height):
        losses = sorted(((best[c] - pts[c][i], c.upper()) for c in fitted.features_), key=lambda t: -t[0])
        want = [(name, round(lost, 9)) for lost, name in losses[:3] if lost > 0]
        got = [(rc[f"reason_{r}"][i], round(rc[f"lost_{r}"][i], 9)) for r in (1, 2, 3) if rc[f"reason_{r}"][i]]
        assert [w[1] for w in want] == [g[1] for g in got]
        assert set(got) <= {(n, v) for v, n in [(round(v, 9), n) for v, n in losses]}


def test_save_load_identical(fitted, german, tmp_path):
    X = german[2]
    p = fitted.save(tmp_path / "m.json")
    sc = Scorecard.load(p)
    assert np.array_equal(sc.predict_score(X), fitted.predict_score(X))
    assert sc.points_table().equals(fitted.points_table())


def test_pandas_input_and_monotonic_setting(german):
    X, y, Xt, _ = german
    sc = Scorecard(monotonic_trend="ascending", max_bins=4).fit(X.to_pandas(), y)
    for c in sc.features_:
        fb = sc.binner_.bins_[c]
        assert fb.n_regular <= 4
        if fb.kind == "numeric" and fb.n_regular > 1:
            rates = np.asarray(fb.bad[: fb.n_regular]) / np.maximum(fb.count[: fb.n_regular], 1)
            assert (np.diff(rates) >= 0).all()
    assert len(sc.predict_score(Xt.to_pandas())) == Xt.height


@pytest.mark.parametrize(
    ("values", "bad", "msg"),
    [
        ([0, 1, 2, 1], None, "must be binary"),
        ([0, 1, None, 1], None, "missing values"),
        (["x", "y", "z", "x"], "x", "exactly two values"),
        ([0, 0, 0, 0], None, "only one class"),
        (["good", "bad", "good"], "awful", "does not occur"),
    ],
)
def test_bad_targets_are_clear_errors(values, bad, msg):
    with pytest.raises(TargetError, match=msg):
        binary_target(pl.Series("t", values), bad, name="t")


def test_string_good_bad_target_without_bad_value():
    assert binary_target(pl.Series(["good", "bad", "Bad"][:2])).tolist() == [0, 1]


def test_time_slice_stability_drops_drifting_features(tmp_path):
    rng = np.random.default_rng(11)
    n = 9000
    month = np.repeat(["2026-01", "2026-02", "2026-03"], n // 3)
    stable = rng.normal(size=n)
    drift = rng.normal(size=n) + np.where(month == "2026-03", 1.5, 0.0)  # shifts in the last month
    y = (rng.random(n) < 1 / (1 + np.exp(-(stable + drift - 1.5)))).astype(int)
    X = pl.DataFrame({"month": month, "stable": stable, "drift": drift})
    base = Scorecard().fit(X.drop("month"), y)
    assert set(base.features_) == {"stable", "drift"}
    sc = Scorecard(stability_column="month", max_psi=0.1).fit(X, y)
    assert sc.features_ == ["stable"] and "month" not in sc.iv_
    assert sc.stability_psi_["drift"] > 0.1 > sc.stability_psi_["stable"]
    summary = sc.summary_table()
    assert summary.filter(pl.col("feature") == "drift")["slice_psi"][0] == pytest.approx(sc.stability_psi_["drift"])
    again = Scorecard.load(sc.save(tmp_path / "m.json"))
    assert again.stability_psi_ == sc.stability_psi_ and again.get_params()["stability_column"] == "month"
    with pytest.raises(ValueError, match="stability_column 'week' not found"):
        Scorecard(stability_column="week").fit(X, y)
    with pytest.raises(ValueError, match="1 missing values"):
        holes = X.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.col("month"))
                               .alias("month"))
        Scorecard(stability_column="month").fit(holes, y)


def test_points_have_no_negative_zero(fitted):
    for c in fitted.features_:
        assert not np.signbit(fitted.points_[c][fitted.points_[c] == 0]).any()


def test_sample_weight_is_a_row_multiplicity(german):
    from fengkong.modeling.logistic import fit_logistic

    X, y, Xt, _ = german
    rng = np.random.default_rng(1)
    W = rng.normal(size=(300, 3))
    yy = (W @ [1.0, -0.5, 0.2] + rng.logistic(size=300) > 0).astype(np.int8)
    k = rng.integers(1, 4, 300)
    b0, coef = fit_logistic(W, yy, C=0.5, sample_weight=k)
    r0, rcoef = fit_logistic(np.repeat(W, k, axis=0), np.repeat(yy, k), C=0.5)
    assert np.isclose(b0, r0, atol=1e-5) and np.allclose(coef, rcoef, atol=1e-5)
    # unit weights are no weights
    a = Scorecard().fit(X, y, sample_weight=np.ones(len(y)))
    b = Scorecard().fit(X, y)
    assert a.features_ == b.features_ and np.array_equal(a.predict_score(Xt), b.predict_score(Xt))
    # weights change the model: upweighting the bads of one characteristic's worst bin moves its WOE
    plain = Scorecard().fit(X, y)
    c = plain.features_[0]
    fb = plain.binner_.bins_[c]
    worst = fb.bin_index(X[c]) == int(np.argmax(fb.woe))
    w = np.where(worst & (y == 1), 5.0, 1.0)
    heavy = Scorecard().fit(X, y, sample_weight=w)
    assert max(heavy.binner_.bins_[c].woe) > max(fb.woe) + 0.3
    with pytest.raises(ValueError, match="sample_weight"):
        Scorecard().fit(X, y, sample_weight=np.ones(3))
