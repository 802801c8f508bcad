"""The training baseline for drift: the development sample's score and feature values as rollup histograms."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fengkong.console.rollup import value_bucket
from fengkong.errors import ConfigurationError

#: The file ``fengkong scorecard fit`` writes into its model directory (fengkong.modeling.model_dir.DEV_SCORES).
DEV_SCORES = "development_scores.parquet"
#: Columns of a development sample that are outcomes, not distributions to compare.
NOT_VALUES = ("bad", "target", "y", "label")


class BaselineError(ConfigurationError, ValueError):
    """The configured baseline cannot be read; the message names the path and the problem."""


def baseline_file(path: str | Path) -> Path:
    """The Parquet file of a baseline setting: a model directory's development scores, or the file itself."""
    p = Path(path)
    if p.is_dir():
        name = DEV_SCORES
        meta = p / "meta.json"
        if meta.is_file():
            try:
                name = json.loads(meta.read_text()).get("development", {}).get("scores", DEV_SCORES)
            except (ValueError, AttributeError):
                name = DEV_SCORES
        f = p / name
        if not f.is_file():
            raise BaselineError(f"baseline: {p} is a directory without {name} (a model directory written by "
                                f"`fengkong scorecard fit`, or give a Parquet file)")
        return f
    if not p.is_file():
        raise BaselineError(f"baseline: {p} does not exist")
    return p


def load_baseline(path: str | Path) -> dict[str, dict[str, int]]:
    """Histograms (bucket → count, the rollup's :func:`value_bucket`) of each numeric column of the baseline,
    keyed by column name; outcome columns (``bad``, ``target``…) are left out."""
    import polars as pl

    f = baseline_file(path)
    try:
        df = pl.read_parquet(f)
    except Exception as e:  # the Parquet reader's errors
        raise BaselineError(f"baseline: cannot read {f} as Parquet: {e}") from e
    out: dict[str, dict[str, int]] = {}
    for name, dtype in df.schema.items():
        if not dtype.is_numeric() or name.lower() in NOT_VALUES:
            continue
        col = df.get_column(name).drop_nulls().cast(pl.Float64).drop_nans()
        if col.len() == 0:
            continue
        counts = pl.DataFrame({"b": [value_bucket(v) for v in col.to_list()]}).group_by("b").len()
        out[name] = dict(zip(counts["b"].to_list(), counts["len"].to_list(), strict=True))
    if not out:
        raise BaselineError(f"baseline: {f} has no numeric column with values (columns: {', '.join(df.columns)})")
    return out


def match(baseline: Mapping[str, Any], live: set[str], names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Rollup name (``score:<name>`` / ``feature:<name>``) → baseline column, for the columns found in both.

    A column matches ``names[column]`` when the setting maps it, else the rollup name itself (``score:x``), else
    ``score:<column>`` or ``feature:<column>``. A model directory's single ``score`` column, when the decisions
    record exactly one score under another name, is that score."""
    names = dict(names or {})
    out: dict[str, str] = {}
    for col in baseline:
        given = names.get(col)
        cands = [given if ":" in given else f"score:{given}", f"feature:{given}"] if given else \
            [col, f"score:{col}", f"feature:{col}"]
        hit = next((c for c in cands if c in live), None)
        if hit is not None:
            out[hit] = col
    scores = sorted(n for n in live if n.startswith("score:"))
    if "score" in baseline and "score" not in names and not any(k.startswith("score:") for k in out) \
            and len(scores) == 1:
        out[scores[0]] = "score"
    return out
