"""The Spark pack's one registration: ``--engine spark`` of backfill, score and backtest."""

from __future__ import annotations

from fengkong.packs import Pack

PACK = Pack(
    name="spark",
    description="Backfill, scoring and backtests on a Spark cluster (docs/spark.md).",
    engines={"spark": {"backfill": "fengkong.spark.cli:backfill_spark",
                       "score": "fengkong.spark.cli:score_spark",
                       "backtest": "fengkong.spark.cli:backtest_spark"}},
)
