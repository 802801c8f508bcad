"""The ``--engine spark`` branches of ``features backfill``, ``backtest`` and ``scorecard score``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from fengkong.errors import fail


def backfill_spark(events: Path, out: Path, features: Path | None, master: str | None, as_json: bool) -> None:
    from rich.progress import Progress

    from fengkong.features import FeatureSpecError
    from fengkong.spark.jobs import backfill_job

    try:
        with Progress(transient=True, disable=as_json) as bar:
            task = bar.add_task("spark backfill", total=None)
            info = backfill_job(str(events), str(out), str(features) if features else None, master,
                                progress=lambda name: bar.update(task, description=f"spark backfill: {name}"))
    except (FeatureSpecError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(info))
    else:
        typer.echo(f"wrote {out} (partitioned by date): {info['features']} features on {info['master']} "
                   f"in {info['seconds']:.1f}s")


def backtest_spark(strategy: Any, against: Any, events: Path, labels: Path | None, out: Path | None,
                   master: str | None, extra: Path | None, lists: dict, json_out: bool, console: Any) -> None:
    from fengkong.spark import SparkUnsupportedError
    from fengkong.spark.jobs import backtest_job
    from fengkong.strategy import backtest as bt

    lab = labels or (events / "outcomes.parquet")
    try:
        with console.status("backtest on Spark…"):
            res = backtest_job(strategy, str(events), str(lab) if lab.exists() else None, against,
                               str(out) if out else None, master, extra_features=str(extra) if extra else None,
                               lists=lists)
    except (SparkUnsupportedError, ValueError) as exc:
        fail(str(exc))
    if out:
        out.mkdir(parents=True, exist_ok=True)
        for name, df in (("outcome_mix", res.outcome_mix), ("rule_hits", res.rule_hits),
                         ("bad_by_outcome", res.bad_by_outcome), ("swap_set", res.swap)):
            if df is not None:
                df.write_csv(out / f"{name}.csv")
        console.print(f"wrote {out}/decisions (Parquet, partitioned by date) and the summary CSV files")
    if json_out:
        typer.echo(json.dumps(res.summary(), default=str))
    else:
        bt.print_tables(res, console)


def score_spark(model: Any, data: Path, out: Path, master: str | None, as_json: bool) -> None:
    from fengkong.spark.jobs import score_job

    try:
        info = score_job(model, str(data), str(out), master)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(json.dumps(info) if as_json else f"scored {data} with Spark SQL → {out}")
