"""Backtests: a strategy (and optionally a second one) over history with point-in-time features.

``prepare_frame`` joins the offline backfill (features as of each event) to the events; ``run``
evaluates vectorised and summarises outcome mix, approval rate, per-rule hit rates, bad rate by
outcome and, for two strategies, the swap-set matrix. Reports: terminal tables, CSV, HTML with plots.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.strategy.compiled import Strategy

APPROVING = ("approve", "allow")


def prepare_frame(events: pl.DataFrame, strategy: Strategy, fs: Any = None,
                  features: pl.DataFrame | None = None) -> pl.DataFrame:
    """Events of the strategy's type with ``__f.<name>`` point-in-time feature columns.

    ``events`` is the whole history in the union schema (features need other event types too);
    ``features`` an already computed backfill (event_id + feature columns), else computed from ``fs`` plus
    the registered feature providers (:func:`fengkong.features.providers.backfill_all`).
    """
    if features is None and strategy.used_features:
        from fengkong.features.providers import ProviderContext, backfill_all

        if fs is None:
            from fengkong.features import load_features

            fs = load_features()
        features = backfill_all(events, fs, ProviderContext(), names=set(strategy.used_features))
    mine = events.filter(pl.col("event_type") == strategy.event_type)
    if strategy.product:
        mine = mine.filter(pl.col("product") == strategy.product)
    if strategy.used_features and features is not None:
        cols = [c for c in strategy.used_features if c in features.columns]
        missing = sorted(set(strategy.used_features) - set(cols))
        if missing:
            raise ValueError(f"the feature backfill has no column(s) {', '.join(missing)}")
        f = features.select(["event_id", *cols]).rename({c: f"__f.{c}" for c in cols})
        mine = mine.join(f, on="event_id", how="left", maintain_order="left")
    return mine


@dataclass
class BacktestResult:
    strategy: str
    version: str
    n: int
    decisions: pl.DataFrame
    outcome_mix: pl.DataFrame
    rule_hits: pl.DataFrame
    bad_by_outcome: pl.DataFrame | None = None
    against: str | None = None
    swap: pl.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def approval_rate(self) -> float:
        if self.n == 0:
            return 0.0
        return float(self.decisions["outcome"].is_in(list(APPROVING)).sum()) / self.n

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"strategy": self.strategy, "version": self.version, "events": self.n,
                               "approval_rate": round(self.approval_rate, 6),
                               "outcome_mix": self.outcome_mix.to_dicts(),
                               "rule_hits": self.rule_hits.to_dicts()}
        if self.bad_by_outcome is not None:
            out["bad_by_outcome"] = self.bad_by_outcome.to_dicts()
        if self.swap is not None:
            out["against"] = self.against
            out["swap"] = self.swap.to_dicts()
        return out


def _bad_by(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return (frame.group_by(by).agg(pl.len().alias("n"), pl.col("bad").is_not_null().sum().alias("labelled"),
                                   pl.col("bad").cast(pl.Float64).mean().alias("bad_rate"))
            .sort(by))


def run(strategy: Strategy, frame: pl.DataFrame, labels: pl.DataFrame | None = None,
        against: Strategy | None = None, lists: Mapping[str, Any] | None = None) -> BacktestResult:
    """Evaluate ``strategy`` (and ``against``) over a prepared frame; ``labels``: event_id + bad (0/1)."""
    lists = {k: sorted(v) for k, v in (lists or {}).items()}
    dec = strategy.evaluate_frame(frame, lists)
    n = dec.height
    mix = (dec.group_by("outcome").agg(pl.len().alias("n")).with_columns((pl.col("n") / max(n, 1)).alias("share"))
           .sort("n", descending=True))
    hits = pl.DataFrame({
        "rule": [r.id for r in strategy.rules],
        "action": [r.action for r in strategy.rules],
        "reason_code": [r.reason_code for r in strategy.rules],
        "hits": [int(dec[f"hit.{r.id}"].sum()) for r in strategy.rules],
    }, schema={"rule": pl.Utf8, "action": pl.Utf8, "reason_code": pl.Utf8, "hits": pl.Int64})
    hits = hits.with_columns((pl.col("hits") / max(n, 1)).alias("hit_rate"))
    res = BacktestResult(strategy.name, strategy.version, n, dec, mix, hits)
    if labels is not None:
        lab = labels.select("event_id", pl.col("bad").cast(pl.Int8))
        dec = dec.join(lab, on="event_id", how="left", maintain_order="left")
        res.decisions = dec
        if dec["bad"].is_not_null().any():
            res.bad_by_outcome = _bad_by(dec, ["outcome"])
            if hits.height:
                rows = []
                for r in strategy.rules:
                    sub = dec.filter(pl.col(f"hit.{r.id}"))
                    rows.append(sub["bad"].cast(pl.Float64).mean() if sub.height else None)
                res.rule_hits = hits.with_columns(pl.Series("bad_rate", rows, dtype=pl.Float64))
    if against is not None:
        other = against.evaluate_frame(frame, lists).select("event_id", pl.col("outcome").alias("outcome_b"))
        both = res.decisions.join(other, on="event_id", how="left", maintain_order="left")
        res.decisions = both
        res.against = f"{against.name}@{against.version}"
        by = ["outcome", "outcome_b"]
        if "bad" in both.columns:
            sw = _bad_by(both, by)
        else:
            sw = both.group_by(by).agg(pl.len().alias("n")).sort(by)
        res.swap = sw.with_columns((pl.col("outcome") != pl.col("outcome_b")).alias("flipped"))
    return res


def load_labels(path: str | Path) -> pl.DataFrame:
    """Labels: a Parquet/CSV with event_id and bad (the simulator's outcomes.parquet works as is)."""
    p = Path(path)
    df = pl.read_parquet(p) if p.suffix == ".parquet" else pl.read_csv(p)
    if "event_id" not in df.columns and "application_id" in df.columns:
        df = df.rename({"application_id": "event_id"})
    if "bad" not in df.columns or "event_id" not in df.columns:
        raise ValueError(f"{p}: a label file needs the columns event_id and bad")
    if "observed" in df.columns:
        df = df.with_columns(pl.when(pl.col("observed")).then(pl.col("bad")).otherwise(None).alias("bad"))
    return df.select("event_id", "bad")


def write_csv(res: BacktestResult, out_dir: str | Path) -> list[Path]:
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    flat = res.decisions.with_columns([pl.col(c).list.join("|") for c in ("reason_codes", "rules_hit")])
    for name, df in (("decisions", flat), ("outcome_mix", res.outcome_mix), ("rule_hits", res.rule_hits),
                     ("bad_by_outcome", res.bad_by_outcome), ("swap_set", res.swap)):
        if df is not None:
            p = d / f"{name}.csv"
            df.write_csv(p)
            paths.append(p)
    return paths


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _table(df: pl.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    rows = []
    for r in df.iter_rows():
        cells = "".join(f"<td>{html.escape(f'{v:.4f}' if isinstance(v, float) else str(v))}</td>" for v in r)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def write_html(res: BacktestResult, path: str | Path) -> Path:
    """An HTML report with the tables and plots (outcome mix, rule hit rates, bad rate by outcome)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    imgs = []
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(res.outcome_mix["outcome"].to_list(), res.outcome_mix["share"].to_list(), color="#4a78b5")
    ax.set_ylabel("share of events")
    ax.set_title("Outcome mix")
    imgs.append(_png(fig))
    if res.rule_hits.height:
        rh = res.rule_hits.sort("hit_rate")
        fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * rh.height)))
        ax.barh(rh["rule"].to_list(), rh["hit_rate"].to_list(), color="#c0504d")
        ax.set_xlabel("hit rate")
        ax.set_title("Rule hit rates")
        imgs.append(_png(fig))
    if res.bad_by_outcome is not None:
        b = res.bad_by_outcome.drop_nulls("bad_rate")
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.bar(b["outcome"].to_list(), b["bad_rate"].to_list(), color="#9bbb59")
        ax.set_ylabel("bad rate")
        ax.set_title("Bad rate by outcome")
        imgs.append(_png(fig))
    parts = [f"<h1>Backtest: {html.escape(res.strategy)} v{html.escape(res.version)}</h1>",
             f"<p>{res.n} events, approval rate {res.approval_rate:.2%}</p>",
             "<h2>Outcome mix</h2>", _table(res.outcome_mix), "<h2>Rules</h2>", _table(res.rule_hits)]
    if res.bad_by_outcome is not None:
        parts += ["<h2>Bad rate by outcome</h2>", _table(res.bad_by_outcome)]
    if res.swap is not None:
        parts += [f"<h2>Swap set vs {html.escape(res.against or '')}</h2>", _table(res.swap)]
    parts += ["<h2>Plots</h2>"] + [f'<img src="data:image/png;base64,{i}"/>' for i in imgs]
    style = ("body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>Backtest {html.escape(res.strategy)}"
                 f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>", encoding="utf-8")
    return p


def print_tables(res: BacktestResult, console: Any) -> None:
    """Rich tables of a backtest."""
    from rich.table import Table

    console.print(f"[bold]{res.strategy}[/bold] v{res.version}: {res.n} events, "
                  f"approval rate {res.approval_rate:.2%}")
    for title, df in (("Outcome mix", res.outcome_mix), ("Rule hits", res.rule_hits),
                      ("Bad rate by outcome", res.bad_by_outcome),
                      (f"Swap set vs {res.against}", res.swap)):
        if df is None:
            continue
        t = Table(title=title)
        for c in df.columns:
            t.add_column(c, justify="right")
        for r in df.iter_rows():
            t.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in r])
        console.print(t)
