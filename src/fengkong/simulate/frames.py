"""Columns to event frames for the synthetic world: exact event schemas, gathers from pools, sequence ids."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from fengkong.events import schema_of


def take(pool: pl.Series | np.ndarray, idx: np.ndarray) -> pl.Series:
    """Gather from a pool whose last element is null; negative indices → null."""
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(pool, np.ndarray):
        pool = pl.Series(np.append(pool.astype(object), None).tolist(), dtype=pl.Utf8)
    n = len(pool) - 1
    return pool.gather(np.where(idx < 0, n, idx))


def seq_ids(prefix: str, n: int) -> pl.Series:
    """``prefix`` + zero-padded sequence numbers 0..n-1."""
    return pl.select((pl.lit(prefix) + pl.int_range(n, dtype=pl.Int64).cast(pl.Utf8).str.zfill(10))
                     .alias("id")).to_series()


def _series(name: str, v: Any) -> pl.Series:
    if isinstance(v, pl.Series):
        return v.alias(name)
    if isinstance(v, np.ndarray) and v.dtype == object:
        return pl.Series(name, v.tolist(), dtype=pl.Utf8)
    return pl.Series(name, v)


def event_frame(et: str, cols: dict[str, Any], n: int) -> pl.DataFrame:
    """A frame with exactly ``schema_of(et)`` (missing columns null) plus internal ``_`` columns."""
    schema = schema_of(et)
    out = []
    for name, dtype in schema.items():
        v = cols.get(name)
        if v is None:
            out.append(pl.Series(name, [None] * n, dtype=dtype) if n else pl.Series(name, [], dtype=dtype))
        else:
            out.append(_series(name, v).cast(dtype))
    extra = [_series(k, v) for k, v in cols.items() if k.startswith("_")]
    return pl.DataFrame(out + extra)


def number_events(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Sort by (ts, tie-break) and number the events in that order."""
    frame = frame.sort(["ts", "_tb"])
    return frame.with_columns(seq_ids(prefix, frame.height).alias("event_id"))


def list_series(name: str, lens: np.ndarray, values: pl.Series) -> pl.Series:
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
    arr = pa.ListArray.from_arrays(pa.array(offsets), values.to_arrow())
    return pl.Series(name, pl.from_arrow(arr))

