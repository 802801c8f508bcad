"""Creating (or reusing) the SparkSession the backends run in, with the settings their results depend on."""

from __future__ import annotations

from typing import Any

#: Settings the compiled jobs rely on: UTC session time (timestamps compare as µs since the epoch) and
#: Arrow transfer for the per-partition strategy evaluation.
REQUIRED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def get_session(master: str | None = None, app_name: str = "fengkong", conf: dict[str, str] | None = None,
                shuffle_partitions: int | None = None) -> Any:
    """The active SparkSession (spark-submit) or a new one on ``master`` (e.g. ``local[2]``).

    ``shuffle_partitions`` defaults to 4 × the cores of a ``local[n]`` master (Spark's 200 is far too many
    for one machine); on a cluster Spark's adaptive execution coalesces partitions itself.
    """
    import os
    import sys

    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName(app_name)
    if master:
        b = b.master(master)
        if master.startswith("local"):  # Python workers run this interpreter (it has fengkong installed)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if shuffle_partitions is None and master.startswith("local"):
            n = master[6:-1] if master.startswith("local[") else "1"
            shuffle_partitions = 4 * (int(n) if n.isdigit() else 2)
    defaults = {"spark.ui.showConsoleProgress": "false", "spark.sql.adaptive.enabled": "true"}
    for k, v in {**defaults, **REQUIRED_CONF, **(conf or {})}.items():
        b = b.config(k, v)
    if shuffle_partitions:
        b = b.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    spark = b.getOrCreate()
    for k, v in REQUIRED_CONF.items():  # a reused session (spark-submit, notebooks) gets them too
        spark.conf.set(k, v)
    return spark
