"""Reading events into Spark in the union schema and writing results partitioned by business date.

Sources: a world directory of ``<type>.parquet`` files (what ``fengkong simulate`` and ``eventio`` write),
a union-schema Parquet dataset (local, ``s3a://``, ``hdfs://``…; typically partitioned by ``date``), a Delta
table (``delta-spark``) or a metastore table. Results are written by the executors, partitioned, never
collected to the driver.
"""

from __future__ import annotations

import os
from typing import Any

from fengkong.events import EVENT_SCHEMA, EVENT_TYPES, TZ_NAME

FORMATS = ("auto", "world", "parquet", "delta", "table")


def spark_type(dtype: Any) -> str:
    """The Spark SQL type of a union-schema Polars dtype."""
    import polars as pl

    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    if isinstance(dtype, pl.List):
        return "array<string>"
    return {pl.Utf8: "string", pl.Int16: "short", pl.Int32: "int", pl.Int64: "long", pl.Boolean: "boolean",
            pl.Float64: "double", pl.Date: "date", pl.Int8: "byte", pl.Float32: "float"}[dtype]


def conform(df: Any) -> Any:
    """``df`` in the union schema: every event field, typed; fields it lacks become typed nulls."""
    from pyspark.sql import functions as F

    have = set(df.columns)
    extra = [c for c in ("date",) if c in have]
    return df.select([(F.col(n) if n in have else F.lit(None)).cast(spark_type(d)).alias(n)
                      for n, d in EVENT_SCHEMA.items()] + extra)


def _world_files(path: str) -> list[tuple[str, str]]:
    if not os.path.isdir(path):
        return []
    return [(et, os.path.join(path, f"{et}.parquet")) for et in EVENT_TYPES
            if os.path.isfile(os.path.join(path, f"{et}.parquet"))]


def read_events(spark: Any, path: str, fmt: str = "auto") -> Any:
    """Events at ``path`` as a Spark DataFrame in the union schema (see the module doc for ``fmt``)."""
    from pyspark.sql import functions as F

    if fmt not in FORMATS:
        raise ValueError(f"--input-format {fmt!r} is not one of {', '.join(FORMATS)}")
    files = _world_files(path) if fmt in ("auto", "world") else []
    if fmt == "world" and not files:
        raise ValueError(f"{path}: no event files (<type>.parquet) found")
    if files:
        parts = [conform(spark.read.parquet(p).withColumn("event_type", F.lit(et))) for et, p in files]
        out = parts[0]
        for p in parts[1:]:
            out = out.unionByName(p)
        return out
    if fmt == "delta":
        return conform(spark.read.format("delta").load(path))
    if fmt == "table":
        return conform(spark.table(path))
    return conform(spark.read.parquet(path))


def with_date(df: Any, ts: str = "ts") -> Any:
    """``df`` plus ``date``: the business-calendar (Asia/Shanghai) date of ``ts``."""
    from pyspark.sql import functions as F

    if "date" in df.columns:
        return df
    return df.withColumn("date", F.to_date(F.from_utc_timestamp(F.col(ts), TZ_NAME)))


def write_partitioned(df: Any, path: str, fmt: str = "parquet", partition_by: tuple[str, ...] = ("date",),
                      mode: str = "overwrite") -> None:
    """Write ``df`` from the executors, one directory per ``partition_by`` value.

    ``fmt``: ``parquet`` (a path), ``delta`` (a path; needs delta-spark on the session) or ``table``
    (``path`` is a metastore table name, saved as Parquet).
    """
    w = df.write.mode(mode)
    if partition_by:
        w = w.partitionBy(*partition_by)
    if fmt == "parquet":
        w.parquet(path)
    elif fmt == "delta":
        w.format("delta").save(path)
    elif fmt == "table":
        w.format("parquet").saveAsTable(path)
    else:
        raise ValueError(f"--output-format {fmt!r} is not parquet, delta or table")


def ingest(spark: Any, src: str, out: str, fmt: str = "parquet") -> int:
    """Copy a world directory (or any readable source) to a union-schema dataset partitioned by date."""
    df = with_date(read_events(spark, src))
    write_partitioned(df, out, fmt)
    return spark.read.parquet(out).count() if fmt == "parquet" else -1
