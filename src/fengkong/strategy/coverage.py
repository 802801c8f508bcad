"""Input coverage of a strategy's rules on a data set: which event fields and features each rule reads, and
how often they are missing there (a rule whose input is always missing can never fire as written)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from fengkong.strategy.expr import Node


def _syms(node: Node) -> Iterator[Any]:
    if node.sym is not None:
        yield node.sym
    for a in node.args:
        if isinstance(a, Node):
            yield from _syms(a)


def rule_inputs(strategy: Any) -> dict[str, list[tuple[str, str]]]:
    """Rule id → the (source, column) inputs its condition reads, ``source`` being ``event`` or ``feature``;
    inputs computed by other nodes are followed no further."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in strategy.spec.rules:
        seen: dict[tuple[str, str], None] = {}
        for s in _syms(r.when):
            if s.source in ("event", "feature"):
                seen[(s.source, s.column if s.source == "event" else s.name.removeprefix("feature."))] = None
        out[r.id] = list(seen)
    return out


def input_null_rates(strategy: Any, events: pl.DataFrame, features: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (rule, input): the share of the strategy's events in ``events`` where the input is null.

    ``features``: event_id + feature columns (a backfill) for the feature inputs; without it they are not
    measured (null share None)."""
    mine = events.filter(pl.col("event_type") == strategy.event_type)
    if strategy.product:
        mine = mine.filter(pl.col("product") == strategy.product)
    n = mine.height
    feats = None
    if features is not None and n:
        feats = mine.select("event_id").join(features, on="event_id", how="left")
    rows = []
    for rule, inputs in rule_inputs(strategy).items():
        for source, col in inputs:
            frame = mine if source == "event" else feats
            share = None
            if n and frame is not None and col in frame.columns:
                share = float(frame[col].null_count()) / n
            elif n and source == "event":
                share = 1.0  # the column is not in the data at all
            rows.append({"rule": rule, "source": source, "input": col, "events": n, "null_share": share})
    schema = {"rule": pl.Utf8, "source": pl.Utf8, "input": pl.Utf8, "events": pl.Int64, "null_share": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def never_firing(rates: pl.DataFrame) -> list[str]:
    """Rules with an input that is missing on every event of the data set."""
    return sorted(set(rates.filter(pl.col("null_share") >= 1.0)["rule"].to_list()))
