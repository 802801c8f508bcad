"""Application scorecard on a simulated world: outcomes of months 1–2 joined to point-in-time features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling import metrics
from fengkong.modeling.scorecard import Scorecard

TZ = "Asia/Shanghai"


def application_sample(world_dir: str | Path, features_frame: pl.DataFrame, months: tuple[int, ...] = (1, 2),
                       application_fields: list[str] | None = None) -> pl.DataFrame:
    """Observed, booked applications of the given world months (1 = first) with their features and ``bad``.

    ``features_frame`` is ``event_id`` + feature columns (e.g. ``fengkong.features.offline.backfill``);
    ``application_fields`` optionally adds raw fields of the application event itself.
    """
    world = Path(world_dir)
    for name in ("outcomes.parquet", "application.parquet"):
        if not (world / name).exists():
            raise FileNotFoundError(f"{world / name} not found: is {world} a simulated world directory?")
    if "event_id" not in features_frame.columns:
        raise ValueError("features_frame needs an event_id column")
    apps = pl.read_parquet(world / "application.parquet", columns=["event_id", "ts", *(application_fields or [])])
    local = pl.col("ts").dt.convert_time_zone(TZ)
    first = apps.select(local.min()).item()
    apps = apps.with_columns(
        month=(local.dt.year() * 12 + local.dt.month() - (first.year * 12 + first.month) + 1).cast(pl.Int32)
    ).filter(pl.col("month").is_in(list(months)))
    out = pl.read_parquet(world / "outcomes.parquet").filter(pl.col("observed") & pl.col("loan_id").is_not_null())
    sample = (
        out.select(pl.col("application_id").alias("event_id"), pl.col("bad").cast(pl.Int8))
        .join(apps.drop("ts"), on="event_id", how="inner")
        .join(features_frame, on="event_id", how="inner")
    )
    if sample.height == 0:
        raise ValueError(f"no observed applications in months {months} of {world} match the features frame")
    return sample


def train_application_scorecard(
    world_dir: str | Path, features_frame: pl.DataFrame, *, months: tuple[int, ...] = (1, 2),
    application_fields: list[str] | None = None, test_share: float = 0.3, seed: int = 0,
    scorecard: Scorecard | None = None,
) -> tuple[Scorecard, dict[str, Any]]:
    """Fit an application scorecard on the world's observed month 1–2 outcomes; return it and test metrics.

    Outcomes are only observable for loans whose first installment is at least 30 days past due by the
    end of the world, so in a 3-month world nearly all observed loans come from month 1: the test set is a
    stratified random ``test_share`` of the sample (not out-of-time).
    """
    from sklearn.model_selection import train_test_split

    sample = application_sample(world_dir, features_frame, months, application_fields)
    y = sample["bad"].to_numpy()
    if y.min() == y.max():
        raise ValueError("the observed sample has a single class; simulate more customers")
    idx = np.arange(sample.height)
    tr, te = train_test_split(idx, test_size=test_share, stratify=y, random_state=seed)
    X = sample.drop("event_id", "bad", "month")
    sc = (scorecard or Scorecard()).fit(X[np.sort(tr)], y[np.sort(tr)])
    res: dict[str, Any] = {"split": f"stratified random {test_share:.0%} test, months {list(months)}",
                           "features": sc.features_}
    for name, part in (("train", np.sort(tr)), ("test", np.sort(te))):
        s = sc.predict_score(X[part])
        res[name] = metrics.summary(y[part], s, sc.score_to_pd(s))
    return sc, res
