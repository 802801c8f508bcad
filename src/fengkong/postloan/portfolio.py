"""Portfolio performance of cash loans (DOMAIN §6): DPD at month ends, vintage curves (MOB × DPD30+ by
disbursement month), roll rates between M-buckets, flow rates and FPD / SPD — all from repayment events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

#: M-buckets by days past due (DOMAIN §6): M0 current, M1 1–30, …, M6 151–180, M7 (M6+) over 180.
BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7")
BUCKET_EDGES = (0, 30, 60, 90, 120, 150, 180)


def bucket_of(dpd: pl.Expr) -> pl.Expr:
    """The M-bucket of a days-past-due expression."""
    e = pl.when(dpd <= 0).then(pl.lit("M0"))
    for i, hi in enumerate(BUCKET_EDGES[1:], start=1):
        e = e.when(dpd <= hi).then(pl.lit(BUCKETS[i]))
    return e.otherwise(pl.lit(BUCKETS[-1]))


def _month_end(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def installments(events: pl.DataFrame) -> pl.DataFrame:
    """One row per (loan, installment) of the cash loans: due date, paid date (null while unpaid), amount due."""
    r = events.filter((pl.col("event_type") == "repayment") & pl.col("loan_id").is_not_null())
    loans = events.filter(pl.col("event_type") == "disbursement").select("loan_id").unique()
    r = r.join(loans, on="loan_id", how="semi")
    return (r.sort("ts").group_by("loan_id", "installment_no")
            .agg(pl.col("due_date").first(), pl.col("paid_date").drop_nulls().last(), pl.col("due_fen").first())
            .sort("loan_id", "installment_no"))


def loans_table(events: pl.DataFrame) -> pl.DataFrame:
    d = events.filter(pl.col("event_type") == "disbursement").sort("ts").unique("loan_id", keep="first")
    return d.select("loan_id", "customer_id", pl.col("ts").dt.date().alias("disb_date"),
                    pl.col("amount_fen").alias("principal_fen"), "term_months",
                    pl.col("ts").dt.strftime("%Y-%m").alias("cohort"))


def as_of_date(events: pl.DataFrame) -> dt.date:
    """The last day the history covers (the latest event's date)."""
    return events["ts"].max().date()


def snapshots(events: pl.DataFrame, as_of: dt.date | None = None) -> pl.DataFrame:
    """DPD of every loan at each month end from its disbursement month to ``as_of`` (and at ``as_of`` itself
    if it is not a month end): loan_id, cohort, principal_fen, mob, date, dpd, bucket."""
    as_of = as_of or as_of_date(events)
    loans = loans_table(events)
    inst = installments(events)
    first = min(loans["disb_date"]) if loans.height else as_of
    dates = []
    d = _month_end(first)
    while d <= as_of:
        dates.append(d)
        d = _month_end(d + dt.timedelta(days=1))
    if not dates or dates[-1] != as_of:
        dates.append(as_of)
    grid = loans.join(pl.DataFrame({"date": dates}), how="cross").filter(pl.col("date") >= pl.col("disb_date"))
    j = grid.select("loan_id", "date").join(inst, on="loan_id", how="inner").filter(
        (pl.col("due_date") < pl.col("date")) & (pl.col("paid_date").is_null() | (pl.col("paid_date") > pl.col("date"))))
    dpd = j.group_by("loan_id", "date").agg((pl.col("date") - pl.col("due_date")).dt.total_days().max().alias("dpd"))
    mob = ((pl.col("date").dt.year() - pl.col("disb_date").dt.year()) * 12 + pl.col("date").dt.month()
           - pl.col("disb_date").dt.month())
    out = grid.join(dpd, on=["loan_id", "date"], how="left").with_columns(
        pl.col("dpd").fill_null(0).cast(pl.Int64), mob.alias("mob"))
    return out.with_columns(bucket_of(pl.col("dpd")).alias("bucket")).select(
        "loan_id", "cohort", "principal_fen", "mob", "date", "dpd", "bucket").sort("loan_id", "date")


def vintage(snap: pl.DataFrame, threshold: int = 30, ever: bool = False) -> pl.DataFrame:
    """Cohort × MOB: principal of loans at ``threshold``+ DPD (``ever``: worst so far) ÷ cohort principal.
    Only month-end snapshots count (MOB k = k months after the disbursement month)."""
    s = snap.sort("loan_id", "date")
    s = s.filter(pl.col("date") == pl.col("date").dt.month_end())
    flag = pl.col("dpd") >= threshold
    if ever:
        flag = flag.cast(pl.Int8).cum_max().over("loan_id").cast(pl.Boolean)
    s = s.with_columns(flag.alias("_bad"))
    cohort = snap.unique("loan_id").group_by("cohort").agg(pl.col("principal_fen").sum().alias("cohort_fen"),
                                                          pl.len().alias("loans"))
    v = s.group_by("cohort", "mob").agg(pl.col("principal_fen").filter(pl.col("_bad")).sum().alias("bad_fen"))
    return (v.join(cohort, on="cohort").with_columns((pl.col("bad_fen") / pl.col("cohort_fen")).alias("rate"))
            .sort("cohort", "mob"))


def roll_rates(snap: pl.DataFrame) -> pl.DataFrame:
    """Share of loans in bucket ``from`` at one month end that are in bucket ``to`` at the next (accounts)."""
    s = snap.filter(pl.col("date") == pl.col("date").dt.month_end()).sort("loan_id", "date").with_columns(
        pl.col("bucket").shift(-1).over("loan_id").alias("next"),
        pl.col("date").shift(-1).over("loan_id").alias("next_date"))
    s = s.filter(pl.col("next").is_not_null())
    m = s.group_by(pl.col("bucket").alias("from"), pl.col("next").alias("to")).len()
    tot = m.group_by("from").agg(pl.col("len").sum().alias("n"))
    return m.join(tot, on="from").with_columns((pl.col("len") / pl.col("n")).alias("share")).sort("from", "to")


def flow_rates(snap: pl.DataFrame) -> pl.DataFrame:
    """Per month: loans in Mi at the month end that are in Mi+1 at the next, ÷ loans in Mi (迁徙率), with
    the chained product M0→Mk (the loss forecast of DOMAIN §6)."""
    s = snap.filter(pl.col("date") == pl.col("date").dt.month_end()).sort("loan_id", "date").with_columns(
        pl.col("bucket").shift(-1).over("loan_id").alias("next"))
    s = s.filter(pl.col("next").is_not_null())
    idx = {b: i for i, b in enumerate(BUCKETS)}
    s = s.with_columns(pl.col("bucket").replace_strict(idx).alias("i"), pl.col("next").replace_strict(idx).alias("j"))
    f = s.group_by("date", "bucket", "i").agg(pl.len().alias("n"), (pl.col("j") == pl.col("i") + 1).sum().alias("rolled"))
    f = f.with_columns((pl.col("rolled") / pl.col("n")).alias("flow_rate")).sort("date", "i")
    return f.with_columns(pl.col("flow_rate").cum_prod().over("date").alias("chained")).drop("i")


def payment_defaults(events: pl.DataFrame, as_of: dt.date | None = None, days: tuple[int, ...] = (7, 30)) -> pl.DataFrame:
    """FPDx and SPDx: first installment overdue more than x days; first paid and second overdue more than x.
    Denominator: loans whose first (second) installment matured at least x days before ``as_of``."""
    as_of = as_of or as_of_date(events)
    inst = installments(events)
    late = pl.when(pl.col("paid_date").is_not_null()).then(pl.col("paid_date") - pl.col("due_date")).otherwise(
        pl.lit(as_of) - pl.col("due_date")).dt.total_days()
    i = inst.with_columns(late.alias("late_days"))
    one = i.filter(pl.col("installment_no") == 1).select("loan_id", pl.col("due_date").alias("d1"),
                                                        pl.col("late_days").alias("l1"), pl.col("paid_date").alias("p1"))
    two = i.filter(pl.col("installment_no") == 2).select("loan_id", pl.col("due_date").alias("d2"),
                                                        pl.col("late_days").alias("l2"))
    rows = []
    both = one.join(two, on="loan_id", how="left")
    for x in days:
        fd = one.filter(pl.col("d1") + pl.duration(days=x) <= pl.lit(as_of))
        sd = both.filter(pl.col("d2").is_not_null() & (pl.col("d2") + pl.duration(days=x) <= pl.lit(as_of))
                         & pl.col("p1").is_not_null())
        rows.append({"metric": f"FPD{x}", "loans": fd.height, "defaults": int((fd["l1"] > x).sum()),
                     "rate": float((fd["l1"] > x).mean()) if fd.height else None})
        rows.append({"metric": f"SPD{x}", "loans": sd.height, "defaults": int((sd["l2"] > x).sum()),
                     "rate": float((sd["l2"] > x).mean()) if sd.height else None})
    return pl.DataFrame(rows, schema={"metric": pl.Utf8, "loans": pl.Int64, "defaults": pl.Int64, "rate": pl.Float64})


def portfolio(events: pl.DataFrame, as_of: dt.date | None = None) -> dict[str, Any]:
    """Every portfolio table of a history."""
    snap = snapshots(events, as_of)
    return {"as_of": str(as_of or as_of_date(events)), "snapshots": snap, "vintage30": vintage(snap, 30),
            "vintage30_ever": vintage(snap, 30, ever=True), "roll_rates": roll_rates(snap),
            "flow_rates": flow_rates(snap), "payment_defaults": payment_defaults(events, as_of)}


def _matrix(rr: pl.DataFrame) -> np.ndarray:
    idx = {b: i for i, b in enumerate(BUCKETS)}
    m = np.zeros((len(BUCKETS), len(BUCKETS)))
    for f, t, share in rr.select("from", "to", "share").iter_rows():
        m[idx[f], idx[t]] = share
    return m
