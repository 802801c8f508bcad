"""One SparkSession (local[2]) per test process for every Spark test, and a small simulated world."""

from __future__ import annotations

import pytest

from fengkong.events import pii
from fengkong.simulate import SimConfig, simulate_world


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from fengkong.spark.session import get_session

    wh = str(tmp_path_factory.mktemp("spark_warehouse"))
    s = get_session("local[2]", app_name="fengkong-tests", shuffle_partitions=2,
                    conf={"spark.sql.warehouse.dir": wh, "spark.ui.enabled": "false"})
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def spark_world(tmp_path_factory):
    """A 300-customer, 3-month world on a seed no other test uses."""
    out = tmp_path_factory.mktemp("spark_world")
    simulate_world(out, SimConfig(customers=300, months=3, seed=2029), tokenizer=pii.Tokenizer(b"spark-test-key-0123456789abcdef!"))
    return out


@pytest.fixture(scope="session")
def spark_world_features(spark, spark_world):
    """The standard library backfilled on Spark for ``spark_world`` (event_id, date, features), computed once."""
    from fengkong.features import load_features
    from fengkong.spark.backfill import backfill
    from fengkong.spark.io import read_events, with_date

    return backfill(with_date(read_events(spark, str(spark_world))), load_features(), keep=("date",)).localCheckpoint()
