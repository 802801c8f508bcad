"""The ground-truth credit outcome of every application of the synthetic world (bad, FPD30, observed)."""

from __future__ import annotations

import numpy as np
import polars as pl

from fengkong.simulate.state import World

OUTCOME_SCHEMA = {"application_id": pl.Utf8, "customer_id": pl.Utf8, "loan_id": pl.Utf8, "bad": pl.Boolean,
                  "fpd30": pl.Boolean, "observed": pl.Boolean}

def outcomes(world: World, rep: pl.DataFrame) -> pl.DataFrame:
    """Per application: its loan or used credit line, bad (ever 30+ DPD), FPD30 and whether 30 days past the
    first due date are observed."""
    a = world.a
    k = len(a["ts"])
    base = np.full(k, None, dtype=object)
    base[world.loan_app] = np.asarray(world.loan_ids.to_list(), dtype=object)
    lines = np.asarray(world.line_ids.to_list(), dtype=object)
    base[world.line_app[world.line_used]] = lines[world.line_used]
    apps = pl.DataFrame({"application_id": world.app_ids, "customer_id": world.app_frame["customer_id"],
                         "loan_id": pl.Series(base.tolist(), dtype=pl.Utf8)})
    r = rep.select(pl.col("loan_id").str.split("-B").list.first().alias("base"), "due_date", "dpd")
    first_due = r.group_by("base").agg(pl.col("due_date").min().alias("first_due"))
    r = r.join(first_due, on="base")
    end = np.datetime64(world.end_day, "D").astype(object)
    agg = r.group_by("base").agg(
        (pl.col("dpd").max() >= 30).alias("bad"),
        ((pl.col("dpd") >= 30) & (pl.col("due_date") == pl.col("first_due"))).any().alias("fpd30"),
        ((pl.col("first_due").min() + pl.duration(days=30)) < pl.lit(end)).alias("observed"))
    out = apps.join(agg, left_on="loan_id", right_on="base", how="left").with_columns(
        pl.col("bad").fill_null(False), pl.col("fpd30").fill_null(False), pl.col("observed").fill_null(False))
    return out.select(list(OUTCOME_SCHEMA)).cast(OUTCOME_SCHEMA)  # type: ignore[arg-type]
