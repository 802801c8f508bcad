"""Time splits with a gap, the prequential splitter, alert-budget metrics and PSI by period."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from fengkong.modeling import alerts, metrics
from fengkong.modeling.splits import PrequentialSplit, time_split


@pytest.fixture(scope="module")
def days():
    start = np.datetime64("2026-01-01T00:00:00")
    return start + (np.arange(60 * 24) * 3600).astype("timedelta64[s]")  # hourly for 60 days


def test_time_split_leaves_the_gap_out(days):
    tr, te = time_split(days, "2026-01-31", gap=7, test=timedelta(days=14))
    assert days[tr].max() < np.datetime64("2026-01-31")
    assert days[te].min() == np.datetime64("2026-02-07") and days[te].max() < np.datetime64("2026-02-21")
    assert len(te) == 14 * 24 and not set(tr) & set(te)
    with pytest.raises(ValueError, match="gap"):
        time_split(days, "2026-01-31", gap=-1)


def test_prequential_folds_roll_back_from_the_end(days):
    cv = PrequentialSplit(train=14, gap=7, test=7, n_splits=3)
    folds = list(cv.split(groups=days))
    assert len(folds) == 3 == cv.get_n_splits()
    for tr, te in folds:
        assert (days[te].min() - days[tr].max()) >= np.timedelta64(7, "D")
        assert days[tr].max() - days[tr].min() < np.timedelta64(14, "D")
    assert days[folds[-1][1]].max() == days.max()
    starts = [days[te].min() for _, te in folds]
    assert all(np.diff(starts) == np.timedelta64(7, "D"))
    grown = list(PrequentialSplit(train=14, gap=7, test=7, n_splits=3, expanding=True).split(groups=days))
    assert days[grown[-1][0]].min() == days.min()
    with pytest.raises(ValueError, match="times"):
        list(PrequentialSplit(1, 1, 1).split())


def test_prequential_in_cross_val_score(days):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(days), 2))
    y = (rng.random(len(days)) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(int)
    s = cross_val_score(LogisticRegression(), x, y, groups=days, cv=PrequentialSplit(14, 7, 7, 3), scoring="roc_auc")
    assert len(s) == 3 and (s > 0.7).all()


def test_average_precision_matches_scikit_learn():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.05).astype(int)
    risk = y * 0.8 + rng.random(3000)
    assert alerts.average_precision(y, risk) == pytest.approx(average_precision_score(y, risk), abs=1e-12)
    p, r = alerts.pr_curve(y, risk)
    assert r[-1] == 1 and p[-1] == pytest.approx(y.mean()) and (np.diff(r) >= 0).all()


def test_recall_at_alert_rate_and_precision_at_k():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    risk = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=float)
    r = alerts.recall_at_alert_rate(y, risk, 0.3)
    assert r["alerts"] == 3 and r["recall"] == pytest.approx(2 / 3) and r["precision"] == pytest.approx(2 / 3)
    day = ["d1"] * 5 + ["d2"] * 5
    card = ["a", "a", "b", "c", "d", "a", "b", "c", "d", "e"]
    t = alerts.precision_at_k_per_day(y, risk, day, k=2, entity=card)
    # d1: cards a (risk 9, fraud) and b (7, fraud) → 2/2; d2: a (4, no) and b (3, no) → 0/2
    assert t["precision"].to_list() == [1.0, 0.0]
    t = alerts.precision_at_k_per_day(y, risk, day, k=2)
    assert t["hits"].to_list() == [1, 0]
    with pytest.raises(ValueError, match="alert_rate"):
        alerts.recall_at_alert_rate(y, risk, 0)


def test_psi_by_period_flags_the_shifted_month():
    rng = np.random.default_rng(2)
    month = np.repeat(["2026-01", "2026-02", "2026-03"], 2000)
    x = np.r_[rng.normal(size=4000), rng.normal(1.0, 1, 2000)]
    t = metrics.psi_by_period(pl.DataFrame({"m": month, "x": x}), "m")
    v = dict(zip(t["period"], t["psi"], strict=True))
    assert v["2026-01"] == pytest.approx(0, abs=1e-9) and v["2026-02"] < 0.02 and v["2026-03"] > 0.25
    with pytest.raises(ValueError, match="period"):
        metrics.psi_by_period(pl.DataFrame({"x": x}), "month")
