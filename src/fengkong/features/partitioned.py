"""Partitioned offline backfill: peak memory bounded by the partition count, not by the history's size.

Every windowed feature depends only on the events of its own entity key, so the history is split by a
hash of the key into ``partitions`` buckets and each bucket is backfilled on its own with
:func:`fengkong.features.offline.backfill` — exact for every window, lifetime aggregates included (no
state crosses a bucket). Features sharing key fields are one *group*; each group reads only the columns
it needs; a group whose key has too few values to spread (the event type) and whose windows are all
finite is split by time instead, each slice with the longest window before it as lead-in. A list-valued
key is exploded first: an event whose elements fall into several buckets gets
the largest of its per-bucket values, as the online path takes the largest over the elements. The
cross-entity features need a few columns of every application and run once over those columns.

One (group, bucket) pair is one independent task: the same split maps onto the partitions of a cluster
engine (``repartition(hash(key))`` then the per-partition backfill).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl

from fengkong.features.offline import backfill
from fengkong.features.spec import CROSS_FIELDS, Feature, FeatureSet

_ROW = "_fk_row"
_OWN = "_fk_own"  # a time slice's own rows (the rest is the lead-in window)
_B = "_fk_bucket"
_CROSS_COLS = ("event_id", "event_type", "ts", *CROSS_FIELDS)
_SEED = 0x5EED


def groups(fs: FeatureSet) -> list[list[Feature]]:
    """The windowed features of ``fs`` grouped by key fields, in declaration order."""
    out: dict[tuple[str, ...], list[Feature]] = {}
    for f in fs.features:
        if f.kind == "window":
            out.setdefault(f.key, []).append(f)
    return list(out.values())


def _columns(feats: list[Feature]) -> list[str]:
    cols = {"event_id", "event_type", "ts"}
    for f in feats:
        cols.update(f.key)
        for c in (f.filter, f.value):
            if c is not None:
                cols.update(c.fields)
    return sorted(cols)


def _few_keys(src: pl.LazyFrame, feats: list[Feature], partitions: int) -> bool:
    """Whether the group is split by time instead of by key: its key has too few values to spread over
    the buckets (e.g. the event type) and every feature has a finite window, so a time slice plus the
    longest window before it holds everything its events read."""
    f0 = feats[0]
    if f0.list_key or any(f.window_us is None for f in feats):
        return False
    key = pl.col(f0.key[0]) if len(f0.key) == 1 else pl.struct(list(f0.key))
    return int(src.select(key.n_unique()).collect(engine="streaming").item()) < 4 * partitions


def _time_frames(src: pl.LazyFrame, feats: list[Feature], partitions: int) -> Callable[[int], pl.DataFrame]:
    """Slice ``b`` of the history by time, with the events of the longest window before it as lead-in
    (``_OWN`` false): exact for windowed features, whatever the key."""
    w = max(f.window_us or 0 for f in feats)
    us = pl.col("ts").dt.convert_time_zone("UTC").dt.cast_time_unit("us").cast(pl.Int64)
    lo, hi = src.select(us.min().alias("lo"), us.max().alias("hi")).collect(engine="streaming").row(0)
    if lo is None:
        return lambda b: pl.DataFrame()
    edges = [lo + (hi + 1 - lo) * i // partitions for i in range(partitions + 1)]
    lf = src.select(_ROW, *_columns(feats)).with_columns(us.alias("_fk_us"))

    def read(b: int) -> pl.DataFrame:
        a, z = edges[b], edges[b + 1]
        part = lf.filter((pl.col("_fk_us") >= a - w) & (pl.col("_fk_us") < z)).collect(engine="streaming")
        return part.with_columns((pl.col("_fk_us") >= a).alias(_OWN)).drop("_fk_us")

    return read


def _bucket_frames(src: pl.LazyFrame, feats: list[Feature], partitions: int,
                   spill: Path | None) -> Callable[[int], pl.DataFrame]:
    """Shuffle the group's columns (plus the row number) into hash buckets in one pass over ``src`` —
    to parquet under ``spill`` when given (streaming, bounded memory), else in memory — and return a
    function giving bucket ``b``'s events."""
    f0 = feats[0]
    cols = _columns(feats)
    lf = src.select(_ROW, *cols)
    if f0.list_key:
        k = f0.key[0]
        keyed = (lf.explode(k).filter(pl.col(k).is_not_null())
                 .with_columns((pl.col(k).hash(_SEED) % partitions).alias(_B)))
    else:
        key = pl.col(f0.key[0]) if len(f0.key) == 1 else pl.struct(list(f0.key))
        ok = pl.all_horizontal([pl.col(c).is_not_null() for c in f0.key])
        keyed = lf.filter(ok).with_columns((key.hash(_SEED) % partitions).alias(_B))
    if spill is not None:
        keyed.sink_parquet(pl.PartitionBy(spill, key=_B, include_key=False), mkdir=True)

        def read(b: int) -> pl.DataFrame:
            files = sorted((spill / f"{_B}={b}").glob("*.parquet"))
            return pl.read_parquet(files) if files else pl.DataFrame()
    else:
        parts = keyed.collect().partition_by(_B, as_dict=True, include_key=False)

        def read(b: int) -> pl.DataFrame:
            return parts.pop((b,), pl.DataFrame())

    if not f0.list_key:
        return read
    others = [c for c in cols if c != f0.key[0]]

    def one_list(b: int) -> pl.DataFrame:  # the event again, with only this bucket's elements in its list
        part = read(b)
        if part.height == 0:
            return part
        return part.group_by(_ROW).agg(pl.col(f0.key[0]), *[pl.col(c).first() for c in others]).sort(_ROW)

    return one_list


def backfill_partitioned(events: pl.DataFrame | pl.LazyFrame, fs: FeatureSet, partitions: int = 8,
                         out_dir: str | Path | None = None, progress: Callable[[str], None] | None = None,
                         slice_rows: int = 1_000_000) -> pl.DataFrame | Path:
    """Backfill ``fs`` over ``events`` one (key group, hash bucket) at a time; values identical to
    :func:`~fengkong.features.offline.backfill`.

    ``events`` may be lazy (e.g. ``pl.scan_parquet`` of a history larger than memory): each bucket is
    collected on its own. Peak memory is about one bucket of one group plus the result columns; raise
    ``partitions`` to lower it. With ``out_dir`` each group's values are written there as parquet and the
    result is written ``slice_rows`` events at a time to ``out_dir/features/part-*.parquet`` (the directory
    is returned; read it with ``pl.scan_parquet(dir / "*.parquet")``) instead of being held in memory.
    """
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    src = (events.lazy() if isinstance(events, pl.DataFrame) else events).with_row_index(_ROW)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    parts: list[pl.LazyFrame] = []
    rows = src.select(_ROW).collect(engine="streaming") if out is not None else None
    for gi, feats in enumerate(groups(fs)):
        sub_fs = FeatureSet(feats)
        spill = None
        if out is not None:
            spill = out / f"_shuffle{gi:02d}"
            shutil.rmtree(spill, ignore_errors=True)
        by_time = _few_keys(src, feats, partitions)
        frames = _time_frames(src, feats, partitions) if by_time else _bucket_frames(src, feats, partitions, spill)
        res = []
        for b in range(partitions):
            if progress:
                progress(f"{'+'.join(feats[0].key)} {'time slice' if by_time else 'bucket'} {b + 1}/{partitions}")
            ev = frames(b)
            if ev.height == 0:
                continue
            vals = backfill(ev.drop(_ROW, _OWN, strict=False), sub_fs).drop("event_id").with_columns(ev[_ROW])
            if _OWN in ev.columns:  # a time slice's lead-in rows are computed by the slice before it
                vals = vals.filter(ev[_OWN])
            res.append(vals)
        if not res:
            continue
        g = pl.concat(res)
        if feats[0].list_key:  # an event's value: the largest over its elements (all in some bucket)
            g = g.group_by(_ROW).agg([pl.col(f.name).max() for f in feats])
        parts.append(_keep(g, rows, out, f"group{gi:02d}.parquet"))
        del g, res, frames
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)
    cross = [f for f in fs.features if f.kind == "cross"]
    if cross:
        if progress:
            progress("cross-entity features")
        ev = _cross_events(src)
        vals = backfill(ev.drop(_ROW), FeatureSet(cross)).drop("event_id").with_columns(ev[_ROW])
        vals = vals.filter(pl.col(_ROW).is_not_null())  # the summary rows carry no event
        parts.append(_keep(vals, rows, out, "cross.parquet"))
        del ev, vals
    kinds = {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "str": pl.Utf8}

    def finish(base: pl.LazyFrame) -> pl.LazyFrame:
        have = set(base.collect_schema().names())
        base = base.with_columns([pl.lit(None, kinds[f.dtype_kind]).alias(f.name) for f in fs.features
                                  if f.kind != "derived" and f.name not in have])  # a group with no keyed event
        for f in fs.order:
            if f.kind == "derived":
                a, b = (pl.col(i).cast(pl.Float64) for i in f.inputs)
                base = base.with_columns((pl.when(b != 0).then(a / b) if f.op == "ratio" else a - b).alias(f.name))
        return base.select("event_id", *[pl.col(f.name).cast(kinds[f.dtype_kind]) for f in fs.features])

    if out is None:
        base = src.select(_ROW, "event_id")
        for p in parts:
            base = base.join(p, on=_ROW, how="left", maintain_order="left")
        return finish(base).collect()
    # on disk: every part holds every row in row order, so the result is written slice by slice
    ids = out / "event_id.parquet"
    src.select(_ROW, "event_id").sink_parquet(ids)
    n = pl.scan_parquet(ids).select(pl.len()).collect().item()
    target = out / "features"
    target.mkdir(exist_ok=True)
    for old in target.glob("part-*.parquet"):
        old.unlink()
    for k, a in enumerate(range(0, n, slice_rows)):
        cols = [pl.scan_parquet(ids).slice(a, slice_rows).select("event_id").collect()]
        cols += [p.slice(a, slice_rows).drop(_ROW).collect() for p in parts]
        finish(pl.concat(cols, how="horizontal").lazy()).collect().write_parquet(target / f"part-{k:05d}.parquet")
    return target


def _cross_events(src: pl.LazyFrame) -> pl.DataFrame:
    """What the cross-entity features read, without holding every event: the applications (the only
    events they are computed for, and the only ones ``shared_applicants`` reads), plus one summary row per
    (phone, customer) pair at the first time they were seen together and one per customer at their first
    overdue repayment — the only facts ``contacts_overdue_share`` takes from the other events (it uses their
    earliest times alone). Both summaries are streamed aggregations; summary rows have no row number.
    """
    have = set(src.collect_schema().names())
    cols = [c for c in _CROSS_COLS if c in have]
    apps = src.filter(pl.col("event_type") == "application").select(_ROW, *cols).collect(engine="streaming")
    extra = []
    if {"phone_token", "customer_id"} <= have:
        extra.append(src.filter(pl.col("phone_token").is_not_null() & pl.col("customer_id").is_not_null())
                     .group_by("phone_token", "customer_id").agg(pl.col("ts").min())
                     .with_columns(pl.lit("customer").alias("event_type")))
    if {"dpd", "customer_id"} <= have:
        extra.append(src.filter((pl.col("event_type") == "repayment") & (pl.col("dpd") > 0)
                                & pl.col("customer_id").is_not_null())
                     .group_by("customer_id").agg(pl.col("ts").min())
                     .with_columns(pl.lit("repayment").alias("event_type"), pl.lit(1, pl.Int32).alias("dpd")))
    if not extra:
        return apps
    rows = [x.collect(engine="streaming") for x in extra]
    summary = pl.concat(rows, how="diagonal_relaxed").with_columns(
        pl.concat_str(pl.lit("~summary"), pl.int_range(pl.len()).cast(pl.Utf8)).alias("event_id"))
    return pl.concat([apps, summary], how="diagonal_relaxed")


def _keep(frame: pl.DataFrame, rows: pl.DataFrame | None, out: Path | None, name: str) -> pl.LazyFrame:
    """A group's values, in memory or written to ``out/name`` with one row per event in row order."""
    if out is None or rows is None:
        return frame.lazy()
    path = out / name
    rows.join(frame, on=_ROW, how="left").sort(_ROW).write_parquet(path)
    return pl.scan_parquet(path)
