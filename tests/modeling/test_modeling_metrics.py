"""Evaluation metrics against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from fengkong.modeling import metrics


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(3)
    n = 5000
    risk = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(risk * 1.5 - 1)))).astype(int)
    score = np.round(600 - 40 * risk)  # ties on purpose
    return y, risk, score


def test_auc_gini_ks(sample):
    y, risk, score = sample
    assert metrics.auc(y, -score) == pytest.approx(roc_auc_score(y, -score))
    assert metrics.gini(y, risk) == pytest.approx(2 * roc_auc_score(y, risk) - 1)
    # KS by brute force over every cut-off
    cuts = np.unique(score)
    ks = max(abs(np.mean(score[y == 1] <= c) - np.mean(score[y == 0] <= c)) for c in cuts)
    assert metrics.ks(y, -score) == pytest.approx(ks)


def test_gains_and_bands(sample):
    y, _, score = sample
    g = metrics.gains_table(y, score)
    assert g["count"].sum() == len(y) and g["bad"].sum() == y.sum()
    assert g["cum_bad_share"][-1] == pytest.approx(1.0)
    assert g["bad_rate"][0] > g["bad_rate"][-1]  # lowest scores are riskiest
    assert g["ks"].max() <= metrics.ks(y, -score) + 1e-12
    b = metrics.score_bands(y, score, edges=[550, 600, 650])
    assert b["count"].sum() == len(y) and b.height == 4


def test_approval_at_target_bad_rate(sample):
    y, _, score = sample
    r = metrics.approval_at_bad_rate(y, score, 0.15)
    approved = score >= r["cutoff"]
    assert approved.mean() == pytest.approx(r["approval_rate"])
    assert y[approved].mean() == pytest.approx(r["bad_rate"]) and r["bad_rate"] <= 0.15
    # approving the next score group down would break the target
    lower = np.unique(score[score < r["cutoff"]])
    if len(lower):
        assert y[score >= lower[-1]].mean() > 0.15


def test_psi_brier_calibration(sample):
    y, risk, _ = sample
    assert metrics.psi(risk, risk) == pytest.approx(0.0, abs=1e-12)
    assert metrics.psi(risk, risk + 1.0) > 0.25
    p = 1 / (1 + np.exp(-(risk * 1.5 - 1)))
    assert metrics.brier(y, p) == pytest.approx(brier_score_loss(y, p))
    cal = metrics.calibration_table(y, p)
    assert cal.height == 10 and np.allclose(cal["mean_pd"], cal["bad_rate"], atol=0.06)
    assert metrics.psi_by_bin(np.array([0, 1, 1, 2]), np.array([0, 1, 1, 2])) == pytest.approx(0.0)
