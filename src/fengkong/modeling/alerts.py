"""Alert-budget metrics for fraud models: average precision, PR curve, precision@k per day, recall at an
alert rate. ``risk`` grows with the chance of fraud; ties are broken by the stable input order."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling.metrics import _arrays


def pr_curve(y: Any, risk: Any) -> tuple[np.ndarray, np.ndarray]:
    """(precision, recall) at every distinct threshold, from the highest risk down (recall rises)."""
    y, s = _arrays(y, risk)
    if y.sum() == 0:
        raise ValueError("a PR curve needs at least one positive (fraud) label")
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    last = np.r_[np.diff(ss) != 0, True]
    tp = np.cumsum(ys)[last]
    n = (np.arange(len(ys)) + 1.0)[last]
    return tp / n, tp / y.sum()


def average_precision(y: Any, risk: Any) -> float:
    """Average precision: Σ (recall step) × precision over the thresholds (as scikit-learn's, no interpolation)."""
    p, r = pr_curve(y, risk)
    return float(np.sum(np.diff(np.r_[0.0, r]) * p))


def recall_at_alert_rate(y: Any, risk: Any, alert_rate: float) -> dict[str, float]:
    """Share of frauds among the ``alert_rate`` riskiest rows (e.g. 0.01 = 1 % of events alerted)."""
    if not 0 < alert_rate <= 1:
        raise ValueError(f"alert_rate must be in (0, 1], got {alert_rate}")
    y, s = _arrays(y, risk)
    k = max(1, round(alert_rate * len(y)))
    top = np.argsort(-s, kind="stable")[:k]
    hits = float(y[top].sum())
    return {"alerts": k, "recall": hits / max(y.sum(), 1.0), "precision": hits / k,
            "threshold": float(s[top[-1]])}


def precision_at_k_per_day(y: Any, risk: Any, day: Any, k: int = 100, entity: Any = None) -> pl.DataFrame:
    """Per day, the precision of the ``k`` alerts an investigation team can work.

    With ``entity`` (e.g. the card), alerts are entities: each entity's risk that day is its riskiest event and
    an entity is a hit when any of its events that day is fraud (card-precision@k). Returns one row per day
    (``day``, ``alerts``, ``hits``, ``precision``); the mean of ``precision`` is the usual summary.
    """
    y, s = _arrays(y, risk)
    df = pl.DataFrame({"day": pl.Series(day), "y": y, "s": s})
    if len(df) != len(y):
        raise ValueError(f"day has {len(df)} values but y has {len(y)}")
    if entity is not None:
        df = (df.with_columns(e=pl.Series(entity)).group_by("day", "e")
              .agg(pl.col("y").max(), pl.col("s").max()))
    return (
        df.sort(["day", "s"], descending=[False, True])
        .group_by("day", maintain_order=True)
        .agg(alerts=pl.len().clip(upper_bound=k), hits=pl.col("y").head(k).sum())
        .with_columns(precision=pl.col("hits") / pl.col("alerts"))
        .sort("day")
    )
