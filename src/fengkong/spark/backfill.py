"""Feature backfill on Spark: every declaration of a FeatureSet compiled to window functions.

The point-in-time rule of ``fengkong.features.offline`` (docs/features.md): the value for an event at time
t uses the source events of its key with t − w ≤ ts < t; equal timestamps do not see each other; ``first``
and ``last`` order by (ts, event_id). Features sharing a key are computed in one pass over one frame
partitioned by the key and ordered by µs time:

* count / sum / mean: each source event contributes at ts and is withdrawn by an *exit* row at ts + w;
  the value is the running sum of contributions strictly before t (``rangeBetween(unbounded, -1)``);
* distinct: per (key, value) an occurrence is live from its ts until the next occurrence or ts + w,
  so the distinct count is the same kind of running sum over start/end rows;
* min / max: running (lifetime) or sliding ``rangeBetween(-w, -1)`` window of the source values;
* first / last / time_since_*: running min / max of (ts, event_id, value) structs;
* list keys (``contact_tokens``): one row per distinct element, then the largest value per event;
* the cross-entity features and derived ratios/differences as joins and column arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fengkong.features.spec import UNITS, Feature, FeatureSet
from fengkong.spark.errors import SparkUnsupportedError
from fengkong.spark.fexpr import spark_column

_T = "_t"
_SPARK = {"int": "long", "float": "double", "bool": "boolean", "str": "string"}


def _needed(fs: FeatureSet) -> list[str]:
    return sorted(fs.fields_read())


def prepare(events: Any, fs: FeatureSet) -> Any:
    """The columns ``fs`` reads plus ``_t``: integer µs since the epoch (timezone-independent)."""
    from pyspark.sql import functions as F

    return events.select(*_needed(fs), F.unix_micros(F.col("ts")).alias(_T))


def backfill(events: Any, fs: FeatureSet, keep: tuple[str, ...] = (),
             progress: Callable[[str], None] | None = None, work_dir: str | None = None) -> Any:
    """A Spark DataFrame of ``event_id`` (+ ``keep`` columns of ``events``) + one column per feature of ``fs``.

    Values equal ``offline.backfill``'s, feature for feature and event for event. The prepared columns are
    read once and persisted (spilling to disk); each per-key pass is materialised when it is built so the
    final plan stays small: written under ``work_dir`` (Parquet, reliable on a cluster) or, without one, as
    a local checkpoint on the executors. The per-key results are combined with a single shuffle.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    ev = prepare(events, fs) if not keep else prepare(events, fs).join(events.select("event_id", *keep), "event_id")
    ev = ev.persist(StorageLevel.MEMORY_AND_DISK)
    spark = ev.sparkSession

    def done(df: Any, name: str) -> Any:
        if work_dir is None:
            return df.localCheckpoint(eager=True)
        path = f"{work_dir.rstrip('/')}/{name}"
        df.write.mode("overwrite").parquet(path)
        return spark.read.parquet(path)

    parts = []
    groups: dict[tuple[str, ...], list[Feature]] = {}
    for f in fs.order:
        if f.kind == "window":
            groups.setdefault(f.key, []).append(f)
    for key, feats in groups.items():
        if progress:
            progress("key " + "+".join(key))
        parts.append(done(_key_group(ev, key, feats), "key_" + "_".join(key)))
    for f in fs.order:
        if f.kind == "cross":
            if progress:
                progress(f.name)
            part = _contacts_overdue(ev) if f.agg == "contacts_overdue_share" else _shared(ev, f.window_us or 0)
            parts.append(done(part.withColumnRenamed("x", f.name), f.name))
    u = ev.select("event_id", *keep)
    for p in parts:
        u = u.unionByName(p, allowMissingColumns=True)
    direct = [f.name for f in fs.features if f.kind != "derived"]
    out = (u.groupBy("event_id").agg(*[F.first(c, ignorenulls=True).alias(c) for c in (*keep, *direct)])
           if direct else u)
    for f in fs.order:
        if f.kind == "derived":
            a, b = (F.col(i).cast("double") for i in f.inputs)
            out = out.withColumn(f.name, F.when(b != 0, a / b) if f.op == "ratio" else a - b)
    ev.unpersist()
    return out.select("event_id", *keep, *[F.col(f.name).cast(_SPARK[f.dtype_kind]).alias(f.name)
                                          for f in fs.features])


def _cond(f: Feature) -> Any:
    from pyspark.sql import functions as F

    c = F.col("event_type").isin(list(f.events))
    if f.filter is not None:
        c = c & F.coalesce(spark_column(f.filter), F.lit(False))
    return c


def _key_group(ev: Any, key: tuple[str, ...], feats: list[Feature]) -> Any:
    """event_id + one column per feature in ``feats`` (all keyed by ``key``), for the events they apply to."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    list_key = feats[0].list_key
    keyok = F.lit(True)
    for k in key:
        keyok = keyok & F.col(k).isNotNull()
    cols: list[Any] = [F.col(k) for k in key] + [F.col(_T), F.col("event_id")]
    src_any = F.lit(False)
    q_any = F.lit(False)
    for i, f in enumerate(feats):
        s = _cond(f)
        cols += [s.alias(f"_s{i}"), F.col("event_type").isin(list(f.applies_to)).alias(f"_q{i}")]
        if f.value is not None:
            cols.append(F.when(s, spark_column(f.value)).alias(f"_v{i}"))
        src_any = src_any | s
        q_any = q_any | F.col("event_type").isin(list(f.applies_to))
    rows = ev.filter(keyok & (src_any | q_any)).select(*cols)
    if list_key:
        k = key[0]
        rows = rows.withColumn(k, F.explode(F.array_distinct(F.filter(F.col(k), lambda x: x.isNotNull()))))
    rows = rows.withColumn("_base", F.lit(True))
    # contributions of count/sum/mean (entry on the base row, exit rows at ts + w) and of distinct
    contrib: list[Any] = []
    base_c: list[Any] = []
    exits: dict[int, list[tuple[int, str, Any]]] = {}
    for i, f in enumerate(feats):
        s, v = F.col(f"_s{i}"), F.col(f"_v{i}")
        cs: list[tuple[str, Any]] = []
        if f.agg == "count":
            cs = [(f"_c{i}", F.when(s, F.lit(1)).cast("long"))]
        elif f.agg in ("sum", "mean"):
            cs = [(f"_c{i}", F.when(s, F.coalesce(v.cast("long"), F.lit(0)).cast("long")))]
            if f.agg == "mean":
                cs.append((f"_n{i}", F.when(s, v.isNotNull().cast("long"))))
        for name, e in cs:
            base_c.append(e.alias(name))
            if f.window_us is not None:
                exits.setdefault(f.window_us, []).append((i, name, e))
    rows = rows.select("*", *base_c) if base_c else rows
    for w, items in exits.items():
        srcw = F.lit(False)
        for i, _, _ in items:
            srcw = srcw | F.col(f"_s{i}")
        contrib.append(rows.filter(srcw).select(*[F.col(k) for k in key], (F.col(_T) + F.lit(w)).alias(_T),
                                                *[(-F.col(name)).alias(name) for _, name, _ in items]))
    for i, f in enumerate(feats):
        if f.agg != "distinct":
            continue
        occ = rows.filter(F.col(f"_s{i}") & F.col(f"_v{i}").isNotNull()).select(
            *key, _T, F.col(f"_v{i}").alias("_dv")).distinct()
        nxt = F.lead(_T).over(Window.partitionBy(*key, "_dv").orderBy(_T))
        end = nxt if f.window_us is None else F.least(nxt, F.col(_T) + F.lit(f.window_us))
        occ = occ.select(*key, _T, end.alias("_end"))
        contrib.append(occ.select(*key, _T, F.lit(1).cast("long").alias(f"_d{i}")))
        contrib.append(occ.filter(F.col("_end").isNotNull()).select(
            *key, F.col("_end").alias(_T), F.lit(-1).cast("long").alias(f"_d{i}")))
    u = rows
    for c in contrib:
        u = u.unionByName(c, allowMissingColumns=True)
    part = Window.partitionBy(*key).orderBy(_T)
    before = part.rangeBetween(Window.unboundedPreceding, -1)
    t = F.col(_T)
    outs = []
    for i, f in enumerate(feats):
        s, v = F.col(f"_s{i}"), F.col(f"_v{i}")
        w = f.window_us
        frame = before if w is None else part.rangeBetween(-w, -1)
        agg = f.agg
        if agg in ("count", "sum"):
            x = F.coalesce(F.sum(f"_c{i}").over(before), F.lit(0))
        elif agg == "mean":
            tot = F.coalesce(F.sum(f"_c{i}").over(before), F.lit(0))
            n = F.coalesce(F.sum(f"_n{i}").over(before), F.lit(0))
            x = F.when(n > 0, tot.cast("double") / n.cast("double"))
        elif agg == "distinct":
            x = F.coalesce(F.sum(f"_d{i}").over(before), F.lit(0))
        elif agg in ("min", "max"):
            x = (F.min(v) if agg == "min" else F.max(v)).over(frame)
        elif agg in ("last", "time_since_last"):
            ok = s & (v.isNotNull() if agg == "last" else F.lit(True))
            st = F.max(F.when(ok, F.struct(t.alias("t"), F.col("event_id").alias("e"),
                                          (v if agg == "last" else F.lit(None)).alias("v")))).over(before)
            alive = st.isNotNull() if w is None else st["t"] >= t - F.lit(w)
            x = F.when(alive, st["v"] if agg == "last" else _since(t - st["t"], f.unit))
        else:  # first / time_since_first
            ok = s & (v.isNotNull() if agg == "first" else F.lit(True))
            st = F.min(F.when(ok, F.struct(t.alias("t"), F.col("event_id").alias("e"),
                                          (v if agg == "first" else F.lit(None)).alias("v")))).over(frame)
            x = F.when(st.isNotNull(), st["v"] if agg == "first" else _since(t - st["t"], f.unit))
        outs.append(F.when(F.col(f"_q{i}"), x).alias(f.name))
    q_any = F.lit(False)
    for i in range(len(feats)):
        q_any = q_any | F.col(f"_q{i}")
    # the window values are computed over every row (contributions too), then kept for the queries only
    res = u.select("event_id", "_base", q_any.alias("_qa"), *outs).filter(F.col("_base") & F.col("_qa"))
    res = res.drop("_base", "_qa")
    if list_key:
        res = res.groupBy("event_id").agg(*[F.max(f.name).alias(f.name) for f in feats])
    return res


def _since(dt_us: Any, unit: str) -> Any:
    from pyspark.sql import functions as F

    return dt_us.cast("double") * F.lit(1.0 / UNITS[unit])


def _contacts_overdue(ev: Any) -> Any:
    """Share of an application's distinct contacts whose phone belongs to a customer overdue before it."""
    from pyspark.sql import functions as F

    links = (ev.filter(F.col("phone_token").isNotNull() & F.col("customer_id").isNotNull())
             .groupBy("phone_token", "customer_id").agg(F.min(_T).alias("_tl")))
    od = (ev.filter((F.col("event_type") == "repayment") & (F.col("dpd") > 0))
          .groupBy("customer_id").agg(F.min(_T).alias("_to")))
    tc = (links.join(od, "customer_id").select("phone_token", F.greatest("_tl", "_to").alias("_tc"))
          .groupBy(F.col("phone_token").alias("_c")).agg(F.min("_tc").alias("_tc")))
    apps = ev.filter((F.col("event_type") == "application") & F.col("contact_tokens").isNotNull()).select(
        "event_id", _T, F.array_distinct(F.filter("contact_tokens", lambda x: x.isNotNull())).alias("_c"))
    ex = apps.select("event_id", _T, F.explode("_c").alias("_c")).join(tc, "_c", "left")
    hit = F.coalesce(F.col("_tc") < F.col(_T), F.lit(False)).cast("long")
    return ex.groupBy("event_id").agg((F.sum(hit).cast("double") / F.count(F.lit(1)).cast("double")).alias("x"))


def _shared(ev: Any, w: int) -> Any:
    """Distinct other applicants who used this application's device or any of its contacts within ``w``."""
    from pyspark.sql import functions as F

    apps = ev.filter((F.col("event_type") == "application") & F.col("customer_id").isNotNull())
    dev = apps.filter(F.col("device_id").isNotNull()).select(
        "event_id", _T, "customer_id", F.concat(F.lit("d:"), F.col("device_id")).alias("_k"))
    con = apps.filter(F.col("contact_tokens").isNotNull()).select(
        "event_id", _T, "customer_id",
        F.explode(F.array_distinct(F.filter("contact_tokens", lambda x: x.isNotNull()))).alias("_k"))
    lk = dev.unionByName(con.withColumn("_k", F.concat(F.lit("c:"), F.col("_k"))))
    s = lk.select(F.col(_T).alias("_ts"), F.col("customer_id").alias("_u"), "_k")
    j = lk.join(s, "_k").filter((F.col("_ts") < F.col(_T)) & (F.col("_ts") >= F.col(_T) - F.lit(w))
                                & (F.col("_u") != F.col("customer_id")))
    cnt = j.groupBy("event_id").agg(F.countDistinct("_u").cast("long").alias("x"))
    base = lk.select("event_id").distinct()
    return base.join(cnt, "event_id", "left").select("event_id", F.coalesce("x", F.lit(0)).alias("x"))


def backfill_all(events: Any, fs: FeatureSet, ctx: Any = None, names: set[str] | None = None,
                 keep: tuple[str, ...] = ()) -> Any:
    """Spark twin of ``providers.backfill_all``: the set's backfill joined with each provider's Spark twin.

    A provider module declares its twin as ``spark_backfill(events, ctx) -> DataFrame`` (event_id + its
    features); a needed provider without one raises :class:`SparkUnsupportedError` naming it.
    """
    from fengkong.features.providers import provider_modules

    out = backfill(events, fs, keep=keep)
    for mod in provider_modules():
        used = set(mod.FEATURE_KINDS) if names is None else names & set(mod.FEATURE_KINDS)
        if not used:
            continue
        twin = getattr(mod, "spark_backfill", None)
        if twin is None:
            raise SparkUnsupportedError(
                f"feature provider {mod.__name__} has no Spark twin (spark_backfill), so its features "
                f"{', '.join(sorted(used)[:5])}{'…' if len(used) > 5 else ''} cannot be computed on Spark; "
                "compute them with the Polars engine and pass the table with --extra-features")
        extra = twin(events, ctx)
        keepc = ["event_id", *(c for c in extra.columns if c in mod.FEATURE_KINDS and c not in out.columns)]
        out = out.join(extra.select(keepc), "event_id", "left")
    return out
