"""Model evaluation: AUC, Gini, KS, lift/gains, bad rate by score band, approval at a target bad rate,
PSI/CSI (also by period), Brier score and calibration table. Inputs are arrays; tables come back as Polars frames."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import rankdata


def _arrays(y, s):
    y = np.asarray(y, dtype=np.float64).ravel()
    s = np.asarray(s, dtype=np.float64).ravel()
    if len(y) != len(s):
        raise ValueError(f"y has {len(y)} values but the scores have {len(s)}")
    return y, s


def auc(y, risk) -> float:
    """Area under the ROC curve; ``risk`` grows with the chance of being bad (use -score for scores)."""
    y, s = _arrays(y, risk)
    nb = y.sum()
    ng = len(y) - nb
    if nb == 0 or ng == 0:
        raise ValueError("AUC needs both goods and bads")
    r = rankdata(s)
    return float((r[y == 1].sum() - nb * (nb + 1) / 2) / (nb * ng))


def gini(y, risk) -> float:
    return 2 * auc(y, risk) - 1


def roc_curve(y, risk) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) at every distinct threshold, from high risk down."""
    y, s = _arrays(y, risk)
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    last = np.r_[np.diff(ss) != 0, True]
    tp = np.cumsum(ys)[last]
    fp = np.cumsum(1 - ys)[last]
    return np.r_[0, fp / max(fp[-1], 1)], np.r_[0, tp / max(tp[-1], 1)]


def ks(y, risk) -> float:
    """Kolmogorov–Smirnov statistic: largest gap between the cumulative bad and good distributions."""
    fpr, tpr = roc_curve(y, risk)
    return float(np.max(np.abs(tpr - fpr)))


def brier(y, pd) -> float:
    y, p = _arrays(y, pd)
    return float(np.mean((p - y) ** 2))


def _quantile_groups(values: np.ndarray, n: int) -> np.ndarray:
    """Group index 0..n-1 by rank (ties share a group), 0 = lowest values."""
    r = rankdata(values, method="min") - 1
    return np.minimum((r * n // len(values)).astype(np.int64), n - 1)


def gains_table(y, score, n_groups: int = 10) -> pl.DataFrame:
    """Lift / gains by score decile, riskiest (lowest score) first."""
    y, s = _arrays(y, score)
    g = _quantile_groups(s, n_groups)
    df = (
        pl.DataFrame({"g": g, "y": y, "s": s})
        .group_by("g")
        .agg(min_score=pl.col("s").min(), max_score=pl.col("s").max(), count=pl.len(),
             bad=pl.col("y").sum().cast(pl.Int64))
        .sort("g")
    )
    total_bad = y.sum()
    total = len(y)
    rate_all = total_bad / total
    return df.with_columns(
        bad_rate=pl.col("bad") / pl.col("count"),
        cum_bad_share=pl.col("bad").cum_sum() / total_bad,
        cum_good_share=(pl.col("count") - pl.col("bad")).cum_sum() / (total - total_bad),
        cum_count_share=pl.col("count").cum_sum() / total,
    ).with_columns(
        lift=pl.col("bad_rate") / rate_all,
        cum_lift=pl.col("cum_bad_share") / pl.col("cum_count_share"),
        ks=(pl.col("cum_bad_share") - pl.col("cum_good_share")).abs(),
    ).rename({"g": "decile"}).with_columns(pl.col("decile") + 1)


def score_bands(y, score, edges: list[float] | None = None, n_bands: int = 10) -> pl.DataFrame:
    """Bad rate by score band (equal-width bands over the score range unless ``edges`` are given)."""
    y, s = _arrays(y, score)
    if edges is None:
        lo, hi = np.floor(s.min()), np.ceil(s.max())
        edges = list(np.unique(np.round(np.linspace(lo, hi, n_bands + 1)[1:-1])))
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), s, side="right")
    bounds = [-np.inf, *edges, np.inf]
    labels = [f"[{bounds[i]:g}, {bounds[i + 1]:g})" for i in range(len(bounds) - 1)]
    df = (
        pl.DataFrame({"band": idx, "y": y})
        .group_by("band").agg(count=pl.len(), bad=pl.col("y").sum().cast(pl.Int64)).sort("band")
    )
    return df.with_columns(
        label=pl.col("band").map_elements(lambda i: labels[i], return_dtype=pl.String),
        share=pl.col("count") / len(y),
        bad_rate=pl.col("bad") / pl.col("count"),
    ).select("band", "label", "count", "share", "bad", "bad_rate")


def approval_at_bad_rate(y, score, target_bad_rate: float) -> dict[str, float]:
    """Largest approval rate (approve highest scores first) whose approved bad rate ≤ the target."""
    y, s = _arrays(y, score)
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    last = np.r_[ss[1:] != ss[:-1], True]  # cut only between distinct scores
    cum_bad = np.cumsum(ys)[last]
    cum_n = np.arange(1, len(ys) + 1)[last]
    ok = np.nonzero(cum_bad / cum_n <= target_bad_rate)[0]
    if len(ok) == 0:
        return {"approval_rate": 0.0, "bad_rate": float("nan"), "cutoff": float("inf")}
    k = ok[-1]
    return {
        "approval_rate": float(cum_n[k] / len(ys)),
        "bad_rate": float(cum_bad[k] / cum_n[k]),
        "cutoff": float(ss[last][k]),
    }


def psi(expected, actual, n_bins: int = 10, edges: np.ndarray | None = None) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins of ``expected``)."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if edges is None:
        edges = np.unique(np.quantile(e[~np.isnan(e)], np.linspace(0, 1, n_bins + 1)[1:-1]))
    k = len(edges) + 2  # + missing
    def dist(v):
        idx = np.where(np.isnan(v), k - 1, np.searchsorted(edges, v, side="right"))
        return (np.bincount(idx, minlength=k) + 0.5) / (len(v) + 0.5 * k)
    pe, pa = dist(e), dist(a)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def psi_by_bin(expected_bins: np.ndarray, actual_bins: np.ndarray, n_bins: int | None = None) -> float:
    """PSI / CSI over already-binned values (bin indices), e.g. a characteristic's scorecard bins."""
    k = int(max(expected_bins.max(initial=0), actual_bins.max(initial=0)) + 1) if n_bins is None else n_bins
    return psi_counts(np.bincount(expected_bins, minlength=k), np.bincount(actual_bins, minlength=k))


def psi_counts(expected_counts, actual_counts) -> float:
    """PSI / CSI from per-bin counts of two samples (+0.5 per bin, as :func:`psi_by_bin`)."""
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    if e.shape != a.shape:
        raise ValueError(f"expected {len(e)} bins, got {len(a)}")
    k = len(e)
    pe = (e + 0.5) / (e.sum() + 0.5 * k)
    pa = (a + 0.5) / (a.sum() + 0.5 * k)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def calibration_table(y, pd, n_groups: int = 10) -> pl.DataFrame:
    """Predicted vs observed bad rate by PD decile."""
    y, p = _arrays(y, pd)
    g = _quantile_groups(p, n_groups)
    return (
        pl.DataFrame({"g": g, "y": y, "p": p})
        .group_by("g").agg(count=pl.len(), mean_pd=pl.col("p").mean(), bad_rate=pl.col("y").mean())
        .sort("g").rename({"g": "group"})
    )


def summary(y, score, pd) -> dict[str, float]:
    """AUC, Gini, KS and Brier of a score (higher = less risky) and its PD."""
    a = auc(y, -np.asarray(score, dtype=np.float64))
    return {"auc": a, "gini": 2 * a - 1, "ks": ks(y, -np.asarray(score, dtype=np.float64)),
            "brier": brier(y, pd), "n": len(np.asarray(y)), "bad_rate": float(np.mean(y))}


def psi_by_period(frame: pl.DataFrame, period: str, columns: list[str] | None = None, n_bins: int = 10
                  ) -> pl.DataFrame:
    """PSI of a score (or CSI of each characteristic) per period against the first period.

    ``frame`` holds a ``period`` column (e.g. the application month) and numeric ``columns`` (default: all
    other numeric columns). Bins are deciles of the first period; missing values are a bin of their own.
    One row per period and column: ``period``, ``column``, ``n``, ``psi``.
    """
    if period not in frame.columns:
        raise ValueError(f"period column {period!r} not found in the data")
    cols = columns or [c for c in frame.columns if c != period and frame.schema[c].is_numeric()]
    periods = frame.get_column(period).unique().sort().to_list()
    first = frame.filter(pl.col(period) == periods[0])
    rows = []
    for c in cols:
        e = first.get_column(c).cast(pl.Float64).fill_null(np.nan).to_numpy()
        ok = e[~np.isnan(e)]
        edges = np.unique(np.quantile(ok, np.linspace(0, 1, n_bins + 1)[1:-1])) if len(ok) else np.array([])
        for p in periods:
            a = frame.filter(pl.col(period) == p).get_column(c).cast(pl.Float64).fill_null(np.nan).to_numpy()
            rows.append({"period": p, "column": c, "n": len(a), "psi": psi(e, a, edges=edges)})
    return pl.DataFrame(rows)
