"""Input handling shared by the modeling pack: frames to Polars, targets to validated 0/1 arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.errors import InputError


class TargetError(InputError, ValueError):
    """The target column is missing, has missing values, or is not binary."""


def to_polars(X: Any) -> pl.DataFrame:
    """Accept a Polars or pandas DataFrame (or a dict of columns) and return a Polars DataFrame."""
    if isinstance(X, pl.DataFrame):
        return X
    if hasattr(X, "to_dict") and hasattr(X, "columns") and hasattr(X, "dtypes"):
        return pl.from_pandas(X)
    if isinstance(X, dict):
        return pl.DataFrame(X)
    raise TypeError(f"expected a Polars or pandas DataFrame, got {type(X).__name__}")


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a CSV or Parquet file into Polars; a clear error for anything else."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"data file not found: {p}")
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pl.read_parquet(p)
    if suffix in (".csv", ".txt"):
        return pl.read_csv(p, infer_schema_length=10000, null_values=["", "NA", "NaN", "nan", "null"])
    raise ValueError(f"unsupported data file type {suffix!r} for {p} (use .csv or .parquet)")


def binary_target(y: Any, bad_value: Any = None, name: str = "target") -> np.ndarray:
    """Validate a target and return it as an int8 array with 1 = bad.

    ``bad_value`` names the value meaning bad; without it the target must already be 0/1
    (or a two-valued column containing ``bad``).
    """
    s = y if isinstance(y, pl.Series) else pl.Series(name, np.asarray(y) if not isinstance(y, list) else y)
    if len(s) == 0:
        raise TargetError(f"target column {name!r} is empty")
    n_null = s.null_count()
    if s.dtype.is_float():
        n_null += int(s.is_nan().sum())
    if n_null:
        raise TargetError(f"target column {name!r} has {n_null} missing values; drop or label those rows first")
    values = s.unique().to_list()
    if bad_value is not None:
        if s.dtype == pl.String:
            bad = str(bad_value)
        else:
            try:
                bad = float(bad_value)
            except (TypeError, ValueError):
                raise TargetError(f"--bad-value {bad_value!r} does not match the type of column {name!r}") from None
        if len(values) != 2:
            raise TargetError(f"target column {name!r} must have exactly two values, found {len(values)}: {values[:10]}")
        if bad not in values and not any(v == bad for v in values):
            raise TargetError(f"bad value {bad_value!r} does not occur in target column {name!r} (values: {values})")
        out = (s == bad).to_numpy().astype(np.int8)
    else:
        if set(values) <= {0, 1} or set(values) <= {0.0, 1.0} or set(values) <= {True, False}:
            out = s.cast(pl.Int8).to_numpy()
        elif s.dtype == pl.String and len(values) == 2 and "bad" in [str(v).lower() for v in values]:
            out = (s.str.to_lowercase() == "bad").to_numpy().astype(np.int8)
        else:
            raise TargetError(
                f"target column {name!r} must be binary 0/1 (1 = bad) or name its bad value; found values {values[:10]}"
            )
    if out.min() == out.max():
        raise TargetError(f"target column {name!r} has only one class; need both goods and bads")
    return out


def check_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """``sample_weight`` as float64 (``None`` stays ``None``): ``n`` finite non-negative numbers, not all 0."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64).ravel()
    if len(w) != n or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"sample_weight must be {n} finite non-negative numbers, not all zero")
    return w
