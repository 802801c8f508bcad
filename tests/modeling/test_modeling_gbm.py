"""LightGBM model: monotone constraints, calibrated booster file, SHAP reason codes, node export."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fengkong.modeling.gbm import GBMModel
from fengkong.modeling.metrics import auc


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(7)
    n = 8000
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    c = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.2 * a - 0.8 * b + 0.3 * np.sin(3 * c) - 1)))).astype(int)
    X = pl.DataFrame({"a": a, "b": b, "c": c})
    return GBMModel(n_estimators=120, monotone="auto").fit(X[:6000], y[:6000]), X, y


def test_auto_monotone_constraints_hold(fitted):
    m, X, y = fitted
    assert m.monotone_constraints_["a"] == 1 and m.monotone_constraints_["b"] == -1
    grid = np.linspace(-3, 3, 61)
    base = X[:20]
    for _, row in enumerate(base.iter_rows(named=True)):
        probe = pl.DataFrame({"a": grid, "b": np.full(61, row["b"]), "c": np.full(61, row["c"])})
        assert (np.diff(m.predict_proba(probe)[:, 1]) >= -1e-12).all()
        probe = pl.DataFrame({"a": np.full(61, row["a"]), "b": grid, "c": np.full(61, row["c"])})
        assert (np.diff(m.predict_proba(probe)[:, 1]) <= 1e-12).all()
    assert auc(y[6000:], m.predict_proba(X[6000:])[:, 1]) > 0.7


def test_calibrated_booster_file_and_node(fitted, tmp_path):
    import lightgbm as lgb

    m, X, y = fitted
    p = m.predict_proba(X[6000:])[:, 1]
    assert abs(p.mean() - y[6000:].mean()) < 0.03  # calibrated on average
    f = m.save(tmp_path / "gbm.txt")
    again = lgb.Booster(model_file=str(f)).predict(X[6000:].to_numpy())
    assert np.allclose(again, p)
    node = m.to_node("gbm.txt")
    assert node == {"id": "gbm", "type": "model", "format": "lightgbm", "artifact": "gbm.txt",
                    "inputs": {"a": "a", "b": "b", "c": "c"}, "output": "pd"}


def test_reason_codes_from_contributions(fitted):
    m, X, _ = fitted
    contrib = m.contributions(X[:30])
    logit = contrib.to_numpy().sum(axis=1)
    assert np.allclose(1 / (1 + np.exp(-logit)), m.predict_proba(X[:30])[:, 1])
    rc = m.reason_codes(X[:30], n=2)
    for i in range(30):
        row = {f.upper(): contrib[f][i] for f in m.features_}
        top = sorted((v, k) for k, v in row.items() if v > 0)[::-1][:2]
        assert [rc[f"reason_{r}"][i] for r in range(1, len(top) + 1)] == [k for _, k in top]


def test_categorical_features_refuse_node_export():
    rng = np.random.default_rng(0)
    X = pl.DataFrame({"x": rng.normal(size=600), "k": rng.choice(["u", "v"], 600)})
    y = (rng.random(600) < 0.3).astype(int)
    m = GBMModel(n_estimators=10).fit(X, y)
    assert m.predict_proba(X.with_columns(pl.lit("unseen").alias("k"))).shape == (600, 2)
    with pytest.raises(ValueError, match="categorical features"):
        m.to_node("x.txt")


def test_is_a_scikit_learn_estimator():
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import GridSearchCV

    m = GBMModel().set_params(n_estimators=10, monotone=None)
    assert m.get_params()["n_estimators"] == 10 and m.get_params()["monotone"] is None
    c = clone(m)
    assert c is not m and c.get_params() == m.get_params() and not hasattr(c, "booster_")
    assert is_classifier(m)
    with pytest.raises(ValueError):
        GBMModel().set_params(nope=1)
    rng = np.random.default_rng(3)
    n = 1500
    X = pl.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X["a"].to_numpy() - 1)))).astype(int)
    for data in (X, X.to_pandas()):
        gs = GridSearchCV(GBMModel(n_estimators=20), {"num_leaves": [3, 7]}, scoring="roc_auc", cv=3).fit(data, y)
        assert gs.best_params_["num_leaves"] in (3, 7) and gs.best_score_ > 0.7
        assert gs.best_estimator_.predict_proba(data).shape == (n, 2)


def test_defaults_unconstrained_early_stopping_weights_and_out_of_time():
    rng = np.random.default_rng(3)
    n = 6000
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * a * b - 2)))).astype(int)  # pure interaction
    X = pl.DataFrame({"a": a, "b": b})
    m = GBMModel(n_estimators=2000, learning_rate=0.2).fit(X[:4000], y[:4000])
    assert set(m.monotone_constraints_.values()) == {0}
    assert m.best_iteration_ < 2000  # stopped early
    assert auc(y[4000:], m.predict_proba(X[4000:])[:, 1]) > 0.75
    times = np.datetime64("2026-01-01") + np.arange(4000).astype("timedelta64[m]")
    w = np.where(y[:4000] == 1, 5.0, 1.0)
    mw = GBMModel(n_estimators=100).fit(X[:4000], y[:4000], sample_weight=w, times=times)
    # weighting bads ×5 raises the calibrated PD level
    assert mw.predict_proba(X[4000:])[:, 1].mean() > m.predict_proba(X[4000:])[:, 1].mean() * 1.5
    with pytest.raises(ValueError, match="sample_weight"):
        GBMModel(n_estimators=5).fit(X[:100], y[:100], sample_weight=np.ones(5))
