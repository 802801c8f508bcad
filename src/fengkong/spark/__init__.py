"""Spark backends: the same feature declarations, strategies and scorecards, executed by PySpark on a cluster.

``session.get_session`` · ``io.read_events / write_partitioned`` · ``backfill.backfill`` (feature backfill)
· ``backtest.run`` (strategy backtest / batch decisions) · ``scorecard.score`` (exported scorecard SQL).
Needs the ``[spark]`` extra (PySpark 4, Java 17); see docs/spark.md.
"""

from fengkong.spark.errors import SparkUnsupportedError

__all__ = ["SparkUnsupportedError"]
