"""The behaviour score (B card, DOMAIN §6): a scorecard of the modeling pack over repayment and transaction
behaviour of booked cash loans, for early warning.

Observation point: ``obs_days`` after the disbursement, population: loans current then; characteristics use only what happened before it
(repayment lateness so far, where the loan money went in the first 30 days, account inflows); target: 30+ DPD
reached within the ``performance_days`` after the observation point. Loans whose performance window is not
complete by the end of the history are left out. Training on the earlier disbursements, testing on the later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from fengkong.errors import InputError
from fengkong.postloan.portfolio import as_of_date, installments, loans_table

FEATURES = ("max_dpd_so_far", "late_installments", "paid_installments", "share_to_persons_cash_30d",
            "share_prohibited_30d", "share_consumption_30d", "outflows_30d", "inflow_30d_to_principal",
            "principal_yuan", "term_months")


class BehaviourDataError(InputError, ValueError):
    """Too few loans with a complete performance window to fit a B card; the message says how many."""


def behaviour_frame(events: pl.DataFrame, trace: pl.DataFrame, obs_days: int = 45, performance_days: int = 60,
                    as_of: dt.date | None = None) -> pl.DataFrame:
    """One row per loan observable at its observation point: the :data:`FEATURES` and the target ``bad``."""
    as_of = as_of or as_of_date(events)
    loans = loans_table(events).with_columns((pl.col("disb_date") + pl.duration(days=obs_days)).alias("obs"))
    loans = loans.filter(pl.col("obs") + pl.duration(days=performance_days) <= pl.lit(as_of))
    inst = installments(events).join(loans.select("loan_id", "obs"), on="loan_id")
    late = pl.when(pl.col("paid_date").is_not_null() & (pl.col("paid_date") <= pl.col("obs"))).then(
        pl.col("paid_date") - pl.col("due_date")).otherwise(pl.col("obs") - pl.col("due_date")).dt.total_days()
    before = inst.filter(pl.col("due_date") < pl.col("obs")).with_columns(late.clip(0).alias("late"))
    rep = before.group_by("loan_id").agg(pl.col("late").max().alias("max_dpd_so_far"),
                                        (pl.col("late") > 0).sum().alias("late_installments"),
                                        (pl.col("paid_date").is_not_null() & (pl.col("paid_date") <= pl.col("obs")))
                                        .sum().alias("paid_installments"))
    # target: an installment 30+ days past due at some day in (obs, obs + performance]
    end = pl.col("obs") + pl.duration(days=performance_days)
    reach30 = pl.col("due_date") + pl.duration(days=30)
    bad = inst.filter((reach30 > pl.col("obs")) & (reach30 <= end)
                      & (pl.col("paid_date").is_null() | (pl.col("paid_date") > reach30)))
    bad = bad.group_by("loan_id").agg(pl.lit(True).alias("bad"))
    # early warning scores loans that are current at the observation point (a loan already past due is
    # the collection score's population)
    already = before.filter(pl.col("paid_date").is_null() | (pl.col("paid_date") > pl.col("obs"))).select(
        "loan_id").unique()
    t = trace.filter(pl.col("pl_traced") & (pl.col("pl_days_since_disb") <= 30) & (pl.col("direction") == "out"))
    money = t.group_by(pl.col("pl_loan_id").alias("loan_id")).agg(
        pl.col("pl_attributed_fen").filter(pl.col("pl_class").is_in(["PERSON", "CASH"])).sum().alias("_pc"),
        pl.col("pl_attributed_fen").filter(pl.col("pl_prohibited")).sum().alias("_pro"),
        pl.col("pl_attributed_fen").filter(pl.col("pl_class") == "CONSUMPTION").sum().alias("_cons"),
        pl.len().alias("outflows_30d"))
    tin = trace.filter(pl.col("direction") == "in").select("customer_id", pl.col("ts").dt.date().alias("d"),
                                                           "amount_fen")
    inflow = loans.select("loan_id", "customer_id", "disb_date").join(tin, on="customer_id").filter(
        (pl.col("d") >= pl.col("disb_date")) & (pl.col("d") < pl.col("disb_date") + pl.duration(days=30))
    ).group_by("loan_id").agg(pl.col("amount_fen").sum().alias("_in"))
    f = (loans.join(rep, on="loan_id", how="left").join(money, on="loan_id", how="left")
         .join(inflow, on="loan_id", how="left").join(bad, on="loan_id", how="left")
         .join(already, on="loan_id", how="anti"))
    p = pl.col("principal_fen")
    return f.select(
        "loan_id", "cohort", "disb_date",
        pl.col("max_dpd_so_far").fill_null(0).cast(pl.Float64), pl.col("late_installments").fill_null(0).cast(pl.Float64),
        pl.col("paid_installments").fill_null(0).cast(pl.Float64),
        (pl.col("_pc").fill_null(0) / p).alias("share_to_persons_cash_30d"),
        (pl.col("_pro").fill_null(0) / p).alias("share_prohibited_30d"),
        (pl.col("_cons").fill_null(0) / p).alias("share_consumption_30d"),
        pl.col("outflows_30d").fill_null(0).cast(pl.Float64), (pl.col("_in").fill_null(0) / p).alias("inflow_30d_to_principal"),
        (p / 100).alias("principal_yuan"), pl.col("term_months").cast(pl.Float64),
        pl.col("bad").fill_null(False))


@dataclass
class BCard:
    """A fitted B card: the scorecard, its test metrics, and the split date."""

    scorecard: Any
    metrics: dict[str, Any]
    split_date: str
    train_n: int
    test_n: int
    points: pl.DataFrame


def fit_bcard(frame: pl.DataFrame, test_share: float = 0.3, min_bad: int = 20) -> BCard:
    """Fit on the earlier ``1 - test_share`` of disbursements, measure on the later (out of time)."""
    from fengkong.modeling import Scorecard, metrics

    if frame.height == 0 or int(frame["bad"].sum()) < min_bad:
        raise BehaviourDataError(f"{frame.height} loans with a complete performance window, "
                                 f"{int(frame['bad'].sum()) if frame.height else 0} bad: need at least {min_bad} bad "
                                 "(use a longer history)")
    f = frame.sort("disb_date")
    cut = f["disb_date"][int(f.height * (1 - test_share))]
    tr, te = f.filter(pl.col("disb_date") < cut), f.filter(pl.col("disb_date") >= cut)
    if int(tr["bad"].sum()) < min_bad // 2 or te.height == 0:
        tr, te = f, f
    sc = Scorecard(base_score=600, base_odds=50, pdo=20, min_bin_share=0.05).fit(
        tr.select(FEATURES), tr["bad"].cast(pl.Int8).to_numpy())
    score = sc.predict_score(te.select(FEATURES))
    pd_ = sc.predict_proba(te.select(FEATURES))[:, 1]
    y = te["bad"].cast(pl.Int8).to_numpy()
    m = metrics.summary(y, score, pd_) if 0 < y.sum() < len(y) else {"n": len(y), "bad_rate": float(np.mean(y))}
    return BCard(sc, m, str(cut), tr.height, te.height, sc.points_table())
