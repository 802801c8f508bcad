"""Strategy lifecycle helpers for the console: versions per route with who/when, diffs, validation, backtests."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from typing import Any

import yaml

from fengkong.safeyaml import safe_load
from fengkong.store import route_of


def versions_by_route(store: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for sv in store.versions.list():
        out.setdefault(route_of(sv.event_type, sv.product), []).append(sv)
    return out


def who_saved(store: Any) -> dict[str, dict[str, Any]]:
    """``name@version`` → the admin-log entry of the person who saved or deployed it (newest first wins)."""
    out: dict[str, dict[str, Any]] = {}
    for e in store.admin.entries(limit=2000):
        t = e.get("target") or ""
        if "@" in t and e["action"].startswith(("strategy.", "deploy")) and t not in out:
            out[t] = e
    return out


def _rules(source: str) -> dict[str, dict[str, Any]]:
    """Rule id → its YAML mapping (plus the node it sits in), from a strategy's text."""
    try:
        doc = safe_load(source, "<strategy>") or {}
    except yaml.YAMLError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for node in doc.get("nodes") or []:
        if isinstance(node, Mapping):
            for r in node.get("rules") or []:
                if isinstance(r, Mapping) and "id" in r:
                    out[str(r["id"])] = {**dict(r), "node": node.get("id")}
    return out


def diff(a_source: str, b_source: str, a_name: str, b_name: str) -> dict[str, Any]:
    """Rules added / removed / changed (by rule id) from ``a`` to ``b``, then the unified text diff."""
    ra, rb = _rules(a_source), _rules(b_source)
    changed = []
    for rid in sorted(set(ra) & set(rb)):
        fields = sorted(k for k in set(ra[rid]) | set(rb[rid]) if ra[rid].get(k) != rb[rid].get(k))
        if fields:
            changed.append({"id": rid, "fields": [{"field": f, "a": ra[rid].get(f), "b": rb[rid].get(f)} for f in fields]})
    text = list(difflib.unified_diff(a_source.splitlines(), b_source.splitlines(), a_name, b_name, lineterm="", n=2))
    return {"added": [rb[k] | {"id": k} for k in sorted(set(rb) - set(ra))],
            "removed": [ra[k] | {"id": k} for k in sorted(set(ra) - set(rb))], "changed": changed, "text": text}


def validate(text: str) -> tuple[Any, dict[str, Any] | None]:
    """Compile strategy text: ``(strategy, None)`` or ``(None, {message, line, col})``."""
    from fengkong.strategy import StrategyError, strategy_from_text

    try:
        s = strategy_from_text(text, "editor")
        s.check_models()
        return s, None
    except StrategyError as exc:
        return None, {"message": exc.message, "line": exc.line, "col": exc.col, "text": str(exc)}


def compiled(store: Any, name: str, version: str) -> Any:
    from fengkong.strategy import strategy_from_text

    sv = store.versions.get(name, version)
    if sv is None:
        return None
    return strategy_from_text(sv.source, f"{name}@{version}", artifacts=sv.artifacts)


def backtest(cx: Any, strategy: Any, start: dt.date | None, end: dt.date | None, against: Any = None) -> Any:
    """Backtest on the world's events with start <= event date < end; labels from the world's outcomes."""
    import polars as pl

    from fengkong.strategy import backtest as bt

    events = cx.events()
    if events is None:
        raise ValueError("no world is configured for backtests")

    def feats() -> Any:
        from fengkong.features import load_features
        from fengkong.features.providers import ProviderContext, backfill_all

        return backfill_all(events, load_features(), ProviderContext())

    features = cx.cached("backfill", feats)
    frame = bt.prepare_frame(events, strategy, features=features)
    if against is not None and against.event_type == strategy.event_type:
        # the champion may use features the candidate does not
        extra = bt.prepare_frame(events, against, features=features)
        cols = [c for c in extra.columns if c.startswith("__f.") and c not in frame.columns]
        if cols:
            frame = frame.join(extra.select("event_id", *cols), on="event_id", how="left", maintain_order="left")
    from fengkong.events import TZ

    if start:
        frame = frame.filter(pl.col("ts") >= dt.datetime.combine(start, dt.time(), TZ))
    if end:
        frame = frame.filter(pl.col("ts") < dt.datetime.combine(end, dt.time(), TZ))
    w = cx.world()
    labels = bt.load_labels(w / "outcomes.parquet") if w and (w / "outcomes.parquet").exists() else None
    return bt.run(strategy, frame, labels, against=against, lists=cx.store.lists.snapshot())
