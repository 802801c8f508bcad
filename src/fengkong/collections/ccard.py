"""The collection score (C-card): probability that a loan in collections is cured within 30 days.

Built with the modeling pack (``fengkong.modeling.logistic.fit_logistic``, exported with
``fengkong.modeling.export.logistic_node``) from repayment behaviour as the collections provider sees it at
each contact (days past due, earlier late-but-paid installments, paid installments, promises to pay,
connected contacts in 7 days). One sample per loan and week of contacts; the label is a payment on the loan
within 30 days after the contact (only contacts whose 30 days are observed). The reference contact strategy
carries the exported node and uses ``cure_pd`` to choose the channel and the priority.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

#: The C-card's inputs (collections provider features).
INPUTS = ("cc_dpd", "cc_late_payments", "cc_paid_installments", "cc_promises_30d", "cc_connected_7d",
          "cc_days_in_collections")
CURE_DAYS = 30


def training_frame(events: pl.DataFrame, features: pl.DataFrame | None = None) -> pl.DataFrame:
    """Contacts (one per loan and week) with the C-card inputs and ``cured`` (payment within 30 days)."""
    from fengkong.collections.provider import CollectionFeatures, replay

    cc = events.filter(pl.col("event_type") == "collection_contact").select("event_id", "ts", "loan_id")
    if features is None:
        features = replay(events, CollectionFeatures(None, mode="audit"))
    end = events["ts"].max()
    pay = events.filter((pl.col("event_type") == "repayment") & (pl.col("paid_fen") > 0)).select(
        "loan_id", pl.col("ts").alias("pay_ts"))
    f = cc.join(features.select("event_id", *INPUTS), on="event_id").filter(
        pl.col("ts") + dt.timedelta(days=CURE_DAYS) < end).with_columns(
        pl.col("ts").dt.truncate("1w").alias("_wk")).sort("ts").unique(["loan_id", "_wk"], keep="first",
                                                                         maintain_order=True)
    cured = f.join(pay, on="loan_id", how="inner").filter(
        (pl.col("pay_ts") > pl.col("ts")) & (pl.col("pay_ts") <= pl.col("ts") + dt.timedelta(days=CURE_DAYS))
    ).select("event_id").unique()
    return f.with_columns(pl.col("event_id").is_in(cured["event_id"].to_list()).alias("cured")).drop("_wk")


def fit(frame: pl.DataFrame, C: float = 1.0) -> dict[str, Any]:
    """Fit the C-card; returns the strategy node (``type: model, format: logistic``, output ``cure_pd``)."""
    from fengkong.modeling.export import logistic_node
    from fengkong.modeling.logistic import fit_logistic

    if frame.height < 50 or frame["cured"].n_unique() < 2:
        raise ValueError(f"training frame: {frame.height} rows with {frame['cured'].sum()} cured — too few to fit")
    X = frame.select([pl.col(c).fill_null(0).cast(pl.Float64) for c in INPUTS]).to_numpy()
    b0, w = fit_logistic(X, frame["cured"].to_numpy(), C=C)
    return logistic_node(b0, dict(zip(INPUTS, w.tolist(), strict=True)), node_id="c_card", output="cure_pd",
                         inputs={c: f"coalesce({c}, 0)" for c in INPUTS})


def shipped_node() -> dict[str, Any]:
    """The C-card node of the reference contact strategy (``strategies/collection_contact.yaml``)."""
    import yaml

    from fengkong.collections.provider import STRATEGY

    doc = yaml.safe_load(STRATEGY.read_text(encoding="utf-8"))
    return next(n for n in doc["nodes"] if n["id"] == "c_card")


def score(frame: pl.DataFrame, node: dict[str, Any]) -> np.ndarray:
    """``cure_pd`` of every row (the node's logistic formula)."""
    z = np.full(frame.height, node["intercept"])
    for c, w in node["coef"].items():
        z = z + w * frame[c].fill_null(0).cast(pl.Float64).to_numpy()
    return 1 / (1 + np.exp(-z))


def evaluate(frame: pl.DataFrame, node: dict[str, Any]) -> dict[str, Any]:
    """AUC and KS of the cure score on ``frame`` (modeling pack metrics), cure rate and rows."""
    from fengkong.modeling.metrics import auc, ks

    y = frame["cured"].to_numpy().astype(int)
    p = score(frame, node)
    return {"rows": frame.height, "cure_rate": float(y.mean()) if len(y) else None,
            "auc": float(auc(y, p)) if 0 < y.sum() < len(y) else None,
            "ks": float(ks(y, p)) if 0 < y.sum() < len(y) else None}
