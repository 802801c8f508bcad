"""Spark feature backfill = Polars offline backfill, value for value (standard library and edge cases)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from spark_compare import mismatches

from fengkong.events import TS_DTYPE, to_union
from fengkong.events.files import read_world
from fengkong.features import from_dicts, load_features
from fengkong.features.offline import backfill as polars_backfill

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]  # one worker, one JVM


def test_standard_library_parity_on_a_world(spark, spark_world, spark_world_features, tmp_path):
    from fengkong.spark.io import write_partitioned

    fs = load_features()
    ref = polars_backfill(read_world(spark_world), fs)
    out = tmp_path / "features"
    write_partitioned(spark_world_features, str(out))
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("date="))  # partitioned by date
    got = pl.read_parquet(out / "**/*.parquet", hive_partitioning=True).drop("date")
    assert got.columns == ["event_id", *fs.names]
    assert mismatches(ref, got, fs.names) == []
    # the world exercises every feature: each has non-null and, for counts, non-zero values somewhere
    for n in fs.names:
        assert ref[n].drop_nulls().len() > 0, n


EDGE = [
    {"name": "c_dev_{window}", "windows": ["1h", "lifetime"], "key": "device_id", "events": ["application", "purchase"],
     "agg": "count"},
    {"name": "s_cust_1d", "key": "customer_id", "events": ["repayment"], "applies_to": ["application", "repayment"],
     "filter": "dpd > 3 and not (dpd in [10, 20])", "value": "(dpd - 5) % 3", "agg": "sum", "window": "1d"},
    {"name": "m_cust_2d", "key": "customer_id", "events": ["repayment"], "applies_to": ["application", "repayment"],
     "value": "(dpd - 5) // 2 > 0 or is_null(dpd)", "agg": "mean", "window": "2d"},
    {"name": "m_amt_cust", "key": "customer_id", "events": ["repayment", "purchase"], "applies_to": ["repayment"],
     "value": "amount_fen // -7", "agg": "mean"},
    {"name": "mn_dev_6h", "key": "device_id", "events": ["purchase"], "agg": "min", "value": "amount_fen", "window": "6h"},
    {"name": "mx_dev", "key": "device_id", "events": ["purchase"], "agg": "max", "value": "amount_fen * 2 - 1"},
    {"name": "first_m_{window}", "windows": ["1d", "lifetime"], "key": "merchant_id", "events": ["purchase"],
     "agg": "first", "value": "amount_fen"},
    {"name": "last_m_{window}", "windows": ["1h", "lifetime"], "key": "merchant_id", "events": ["purchase"],
     "agg": "last", "value": "amount_fen"},
    {"name": "last_dir", "key": "customer_id", "events": ["transfer"], "applies_to": ["transfer"], "agg": "last",
     "value": "direction"},
    {"name": "tsf_m_12h", "key": "merchant_id", "events": ["purchase"], "agg": "time_since_first", "window": "12h",
     "unit": "hours"},
    {"name": "tsl_m", "key": "merchant_id", "events": ["purchase"], "agg": "time_since_last", "unit": "minutes"},
    {"name": "tsl_m_2h", "key": "merchant_id", "events": ["purchase"], "agg": "time_since_last", "window": "2h"},
    {"name": "d_dev_{window}", "windows": ["1d", "lifetime"], "key": "device_id", "events": ["application", "purchase"],
     "agg": "distinct", "value": "customer_id"},
    {"name": "pair_cnt", "key": ["customer_id", "merchant_id"], "events": ["purchase"], "filter": "not is_refund",
     "agg": "count"},
    {"name": "ct_cnt_1d", "key": "contact_tokens", "events": ["application"], "agg": "count", "window": "1d"},
    {"name": "ct_sum", "key": "contact_tokens", "events": ["application"], "agg": "sum", "value": "amount_fen"},
    {"name": "ct_dist_1d", "key": "contact_tokens", "events": ["application"], "agg": "distinct", "value": "device_id",
     "window": "1d"},
    {"name": "ct_min_12h", "key": "contact_tokens", "events": ["application"], "agg": "min", "value": "amount_fen",
     "window": "12h"},
    {"name": "ratio_dev", "ratio": ["c_dev_1h", "d_dev_1d"]},
    {"name": "diff_m", "diff": ["first_m_1d", "last_m_1h"]},
]


def _edge_events(n: int = 2500, seed: int = 3) -> pl.DataFrame:
    """Random events with few keys, minute-resolution times (many equal timestamps) and nulls everywhere."""
    rng = np.random.default_rng(seed)

    def pick(vals, p_null=0.1):
        out = [vals[i] for i in rng.integers(0, len(vals), n)]
        return [None if rng.random() < p_null else v for v in out]

    base = 1_767_196_800_000_000
    ts = base + rng.integers(0, 4 * 24 * 60, n) * 60_000_000
    ts[:40] = ts[0]  # a burst at one instant
    ts[40:60] = ts[0] + 3_600_000_000  # exactly one hour later: on the left-closed window edge
    contacts = [None if rng.random() < 0.05 else
                [None if rng.random() < 0.1 else f"t{j}" for j in rng.integers(0, 12, rng.integers(0, 4))]
                for _ in range(n)]
    df = pl.DataFrame({
        "event_id": [f"E{i:05d}" for i in rng.permutation(n)],
        "event_type": pick(["application", "purchase", "repayment", "transfer"], 0.0),
        "ts": pl.Series(ts).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone("Asia/Shanghai"),
        "customer_id": pick([f"C{i}" for i in range(25)]),
        "device_id": pick([f"D{i}" for i in range(15)]),
        "merchant_id": pick([f"M{i}" for i in range(8)]),
        "amount_fen": pl.Series(pick(list(range(0, 50_000, 250)), 0.15), dtype=pl.Int64),
        "dpd": pl.Series(pick(list(range(0, 30)), 0.2), dtype=pl.Int16),
        "is_refund": pick([True, False, False], 0.2),
        "direction": pick(["in", "out"], 0.1),
        "contact_tokens": pl.Series(contacts, dtype=pl.List(pl.Utf8)),
    })
    return to_union(df.with_columns(pl.col("ts").cast(TS_DTYPE)))


def test_edge_cases_parity(spark, tmp_path):
    """Ties, window edges, nulls in keys/filters/values, floor // and % of negatives, first/last ordering,
    windowed first/last/time-since, multi-field and list keys, derived features."""
    from fengkong.spark.backfill import backfill
    from fengkong.spark.io import read_events

    fs = from_dicts(EDGE)
    ev = _edge_events()
    ref = polars_backfill(ev, fs)
    ev.write_parquet(tmp_path / "events.parquet")
    got = pl.from_arrow(backfill(read_events(spark, str(tmp_path / "events.parquet"), "parquet"), fs).toArrow())
    assert mismatches(ref, got, fs.names) == []
    assert ref["c_dev_1h"].max() > 0 and ref["ct_cnt_1d"].max() > 0 and ref["m_cust_2d"].drop_nulls().len() > 0


def test_provider_without_spark_twin_is_reported(spark, spark_world):
    from fengkong.features.providers import provider_modules
    from fengkong.spark import SparkUnsupportedError
    from fengkong.spark.backfill import backfill_all
    from fengkong.spark.io import read_events

    mods = [m for m in provider_modules() if not hasattr(m, "spark_backfill")]
    assert mods, "the fraud pack's provider has no Spark twin yet"
    name = sorted(mods[0].FEATURE_KINDS)[0]
    fs = from_dicts(EDGE[:1])
    with pytest.raises(SparkUnsupportedError, match=mods[0].__name__):
        backfill_all(read_events(spark, str(spark_world)), fs, names={name})


def test_world_round_trips_through_a_partitioned_table(spark, spark_world):
    """A world directory ingested into a metastore table partitioned by date reads back unchanged."""
    from pyspark.sql import functions as F

    from fengkong.spark.io import read_events, with_date, write_partitioned

    ev = with_date(read_events(spark, str(spark_world)))
    first = ev.agg(F.min("date")).first()[0]
    ev = ev.filter(F.col("date") < F.date_add(F.lit(first), 8))  # eight days: eight partitions, not ninety
    write_partitioned(ev, "fk_events_roundtrip", fmt="table")
    back = read_events(spark, "fk_events_roundtrip", "table")
    assert back.columns == ev.columns
    assert back.exceptAll(ev).count() == 0 and ev.exceptAll(back).count() == 0
    assert back.select("date").distinct().count() == 8  # one partition per business day
    with pytest.raises(ValueError, match="--input-format"):
        read_events(spark, str(spark_world), "csv")
