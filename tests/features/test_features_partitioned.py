"""The partitioned backfill gives exactly the values of the one-frame backfill, for any partition count."""

from __future__ import annotations

import random

import polars as pl
from fk_feature_streams import random_events, to_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_features_parity import EVERY_AGG, STANDARD

from fengkong.features.offline import backfill
from fengkong.features.parity import same
from fengkong.features.partitioned import backfill_partitioned

FS = EVERY_AGG.merged(STANDARD)


def _same_frames(a: pl.DataFrame, b: pl.DataFrame) -> list:
    assert a.columns == b.columns and a.height == b.height
    bad = []
    for ra, rb in zip(a.iter_rows(named=True), b.iter_rows(named=True), strict=True):
        assert ra["event_id"] == rb["event_id"]
        bad += [(ra["event_id"], k, ra[k], rb[k]) for k in a.columns if not same(ra[k], rb[k])]
    return bad


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 90), pool=st.integers(1, 8),
       partitions=st.sampled_from([1, 2, 3, 7]))
def test_partitioned_equals_one_frame(seed, n, pool, partitions):
    rng = random.Random(seed)
    df = to_frame(random_events(rng, n, span_s=20 * 86400, pool=pool))
    df = df.sample(fraction=1.0, shuffle=True, seed=seed % 1000)  # input order is kept, whatever it is
    bad = _same_frames(backfill(df, FS), backfill_partitioned(df, FS, partitions=partitions))
    assert not bad, bad[:10]


def test_partitioned_to_files_from_a_lazy_scan(tmp_path):
    df = to_frame(random_events(random.Random(4), 300, pool=6))
    df.write_parquet(tmp_path / "events.parquet")
    path = backfill_partitioned(pl.scan_parquet(tmp_path / "events.parquet"), FS, partitions=4,
                                out_dir=tmp_path / "out", slice_rows=70)
    assert len(list(path.glob("part-*.parquet"))) == 5
    assert not _same_frames(backfill(df, FS), pl.read_parquet(path / "*.parquet"))
