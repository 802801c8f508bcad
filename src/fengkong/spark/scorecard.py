"""Batch scoring on Spark: a fitted scorecard's exported SQL (``modeling.export.scorecard_sql``) as Spark SQL."""

from __future__ import annotations

import uuid
from typing import Any


def score(spark: Any, df: Any, scorecard: Any, keep: list[str] | None = None) -> Any:
    """``df`` plus ``score`` and ``pd`` columns, computed by Spark SQL from the scorecard's CASE expression."""
    from fengkong.modeling.export import scorecard_sql

    missing = [c for c in scorecard.features_ if c not in df.columns]
    if missing:
        raise ValueError(f"columns the model needs are missing: {', '.join(missing)}")
    view = f"fk_score_{uuid.uuid4().hex[:12]}"
    df.createOrReplaceTempView(view)
    return spark.sql(scorecard_sql(scorecard, view, keep=keep, dialect="spark"))


def read_table(spark: Any, path: str) -> Any:
    """A Parquet file/dataset or a CSV file (header, inferred types) as a Spark DataFrame."""
    if path.endswith(".csv"):
        return spark.read.option("header", True).option("inferSchema", True).csv(path)
    return spark.read.parquet(path)
