"""Spark jobs behind ``--engine spark`` and their ``spark-submit`` entry point.

``spark-submit --master yarn "$(python -m fengkong.spark.jobs --path)" backfill --events s3a://lake/events
--out s3a://lake/features`` runs the same job as ``fengkong features backfill --engine spark`` on a cluster
(see docs/spark.md). Every job reads with :mod:`fengkong.spark.io`, writes partitioned by date from the
executors and returns a small JSON-able summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def backfill_job(events: str, out: str, features: str | None = None, master: str | None = None,
                 input_format: str = "auto", output_format: str = "parquet", work_dir: str | None = None,
                 progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Standard-library (or ``features`` YAML) backfill of ``events`` written to ``out`` partitioned by date."""
    from fengkong.features import load_features
    from fengkong.spark.backfill import backfill
    from fengkong.spark.io import read_events, with_date, write_partitioned
    from fengkong.spark.session import get_session

    fs = load_features(features)
    spark = get_session(master, app_name="fengkong-backfill")
    t0 = time.perf_counter()
    ev = with_date(read_events(spark, events, input_format))
    write_partitioned(backfill(ev, fs, keep=("date",), progress=progress, work_dir=work_dir), out, output_format)
    return {"engine": "spark", "master": spark.sparkContext.master, "features": len(fs), "out": out,
            "seconds": round(time.perf_counter() - t0, 3)}


def backtest_job(strategy: Any, events: str, labels: str | None = None, against: Any = None,
                 out: str | None = None, master: str | None = None, input_format: str = "auto",
                 extra_features: str | None = None, lists: dict | None = None, target: str = "columns") -> Any:
    """A Spark backtest of compiled strategies; decisions are written to ``out``/decisions by date.

    ``target``: ``columns`` (the strategy as Spark column expressions) or ``arrow`` (mapInArrow)."""
    from fengkong.spark import backtest as sbt
    from fengkong.spark.io import read_events, with_date, write_partitioned
    from fengkong.spark.session import get_session

    spark = get_session(master, app_name="fengkong-backtest")
    ev = with_date(read_events(spark, events, input_format))
    extra = spark.read.parquet(extra_features) if extra_features else None
    frame = sbt.prepare_frame(ev, strategy, extra_features=extra)
    if against is not None and set(against.used_features) - set(strategy.used_features):
        frame = frame.join(sbt.prepare_frame(ev, against, extra_features=extra).select(
            "event_id", *[f"`__f.{c}`" for c in set(against.used_features) - set(strategy.used_features)]),
            "event_id", "left")
    lab = sbt.load_labels(spark, labels) if labels else None
    res = sbt.run(strategy, frame, lab, against, lists, target=target)
    if out:
        dates = frame.select("event_id", "date")
        write_partitioned(res.decisions.join(dates, "event_id", "left"), f"{out.rstrip('/')}/decisions")
    return res


def score_job(model: Any, data: str, out: str, master: str | None = None, output_format: str = "parquet",
              partition_by: tuple[str, ...] = ()) -> dict[str, Any]:
    """Score ``data`` (Parquet/CSV) with a fitted scorecard's Spark SQL; rows written by the executors."""
    from fengkong.spark.io import write_partitioned
    from fengkong.spark.scorecard import read_table, score
    from fengkong.spark.session import get_session

    spark = get_session(master, app_name="fengkong-score")
    df = read_table(spark, data)
    res = score(spark, df, model)
    part = tuple(c for c in partition_by if c in res.columns)
    write_partitioned(res, out, output_format, partition_by=part)
    return {"engine": "spark", "out": out, "partitioned_by": list(part)}


def main(argv: list[str] | None = None) -> int:
    """``spark-submit jobs.py backfill|backtest|score …`` (the session comes from spark-submit)."""
    ap = argparse.ArgumentParser(prog="fengkong.spark.jobs")
    ap.add_argument("--path", action="store_true", help="print this file's path (for spark-submit) and exit")
    sub = ap.add_subparsers(dest="job")
    b = sub.add_parser("backfill")
    b.add_argument("--events", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--features")
    b.add_argument("--input-format", default="auto")
    b.add_argument("--output-format", default="parquet")
    b.add_argument("--work-dir")
    t = sub.add_parser("backtest")
    t.add_argument("strategy")
    t.add_argument("--events", required=True)
    t.add_argument("--labels")
    t.add_argument("--against")
    t.add_argument("--out")
    t.add_argument("--input-format", default="auto")
    t.add_argument("--extra-features")
    t.add_argument("--target", choices=("columns", "arrow"), default="columns",
                   help="decisions as Spark column expressions (default) or through mapInArrow")
    s = sub.add_parser("score")
    s.add_argument("--model", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--partition-by", default="")
    a = ap.parse_args(argv)
    if a.path:
        print(Path(__file__).resolve())
        return 0
    if a.job == "backfill":
        info = backfill_job(a.events, a.out, a.features, None, a.input_format, a.output_format, a.work_dir)
    elif a.job == "backtest":
        from fengkong.strategy.compiled import load_strategy

        res = backtest_job(load_strategy(a.strategy), a.events, a.labels,
                           load_strategy(a.against) if a.against else None, a.out, None, a.input_format,
                           a.extra_features, target=a.target)
        info = res.summary()
    elif a.job == "score":
        from fengkong.modeling.scorecard import Scorecard

        model = Path(a.model)
        info = score_job(Scorecard.load(model / "model.json" if model.is_dir() else model), a.data, a.out,
                         partition_by=tuple(p for p in a.partition_by.split(",") if p))
    else:
        ap.print_help()
        return 2
    print(json.dumps(info, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
