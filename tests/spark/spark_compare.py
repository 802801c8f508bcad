"""Comparing a Spark result with its Polars twin value for value (shared by the Spark tests)."""

from __future__ import annotations

import polars as pl


def mismatches(ref: pl.DataFrame, got: pl.DataFrame, cols: list[str], key: str = "event_id") -> list[str]:
    """One line per column whose values differ (null = null; floats compared exactly)."""
    assert got.height == ref.height, f"{got.height} rows from Spark, {ref.height} from Polars"
    got = ref.select(key).join(got, on=key, how="left", maintain_order="left")
    out = []
    for c in cols:
        a, b = ref[c], got[c]
        if a.dtype != b.dtype:
            out.append(f"{c}: dtype {a.dtype} (Polars) vs {b.dtype} (Spark)")
            continue
        same = ((a == b) | (a.is_null() & b.is_null())).fill_null(False)
        if not same.all():
            i = int((~same).arg_true()[0])
            out.append(f"{c}: {int((~same).sum())} differ, e.g. {ref[key][i]}: {a[i]!r} vs {b[i]!r}")
    return out
