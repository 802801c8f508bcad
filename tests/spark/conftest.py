"""One SparkSession (local[2]) per test process for every Spark test, and a small simulated world."""

from __future__ import annotations

import pytest

from fengkong import pii
from fengkong.simulate import SimConfig, simulate_world


def pytest_collection_modifyitems(items):
    for item in items:  # keep every Spark test on one xdist worker: one JVM for the whole suite
        if "spark" in item.keywords:
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark():
    from fengkong.spark.session import get_session

    s = get_session("local[2]", app_name="fengkong-tests", shuffle_partitions=2)
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def spark_world(tmp_path_factory):
    """A 300-customer, 3-month world on a seed no other test uses."""
    out = tmp_path_factory.mktemp("spark_world")
    simulate_world(out, SimConfig(customers=300, months=3, seed=2029), tokenizer=pii.Tokenizer(b"spark-test-key-0123456789abcdef!"))
    return out
