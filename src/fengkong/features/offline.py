"""Offline backfill: every declared feature for every event, point-in-time correct, vectorised in Polars.

Windowed counts, sums, means, distinct counts and first/last-seen times are binary searches over one
sorted (key, time) array per stream (:mod:`fengkong.features.sortedwin`); where that array would not fit
63 bits they fall back to per-key cumulative tables probed with strict as-of joins (value = C(< t) −
C(< t − w)); min/max use left-closed rolling windows; first/last values use as-of joins.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from fengkong.features import sortedwin
from fengkong.features.spec import UNITS, Feature, FeatureSet

_T = "_t"
_I = "_i"


def _prepare(events: pl.DataFrame) -> pl.DataFrame:
    """Row index (output order) + integer µs time; rows sorted by time so every filtered frame is too."""
    ev = events.with_row_index(_I).with_columns(
        pl.col("ts").dt.convert_time_zone("UTC").dt.cast_time_unit("us").cast(pl.Int64).alias(_T))
    return ev.sort(_T, maintain_order=True).with_columns(pl.col(_T).set_sorted())


def backfill(events: pl.DataFrame, fs: FeatureSet, progress: Callable[[str], None] | None = None,
             arrival: str | None = None) -> pl.DataFrame:
    """Return ``event_id`` + one column per feature of ``fs``, in the row order of ``events``.

    The value for event e is computed from the events with ``ts`` strictly before e's ``ts``
    (see docs/features.md, "Point-in-time rule"). With ``arrival`` (an integer column giving the
    order in which events reached the online service), only events that had *arrived* before e
    count too — exactly what the online path could see when late events were in the stream.
    """
    out = _backfill(events, fs, progress)
    if arrival is None:
        return out
    return _as_arrived(events, fs, out, arrival)


def affected_by_late(events: pl.DataFrame, arrival: str) -> pl.Series:
    """Boolean mask: events that some later-arriving event with an earlier ``ts`` could have changed."""
    order = events.with_row_index("_row").sort(arrival)
    later_min = order["ts"].reverse().cum_min().reverse().shift(-1)
    hit = (later_min < order["ts"]).fill_null(False)
    return pl.DataFrame({"_row": order["_row"], "hit": hit}).sort("_row")["hit"]


def _as_arrived(events: pl.DataFrame, fs: FeatureSet, full: pl.DataFrame, arrival: str) -> pl.DataFrame:
    """Recompute the (rare) events affected by late arrivals on the prefix of events that arrived before."""
    mask = affected_by_late(events, arrival)
    if not mask.any():
        return full
    rows = full.with_row_index("_row")
    fixes = []
    for a in events.filter(mask)[arrival].sort().to_list():
        prefix = events.filter(pl.col(arrival) <= a)
        vals = _backfill(prefix, fs, None).with_columns(prefix[arrival].alias("_arr"))
        fixes.append(vals.filter(pl.col("_arr") == a).drop("_arr"))
    fix = pl.concat(fixes).with_columns(pl.lit(True).alias("_fixed"))
    merged = rows.join(fix, on="event_id", how="left", suffix="_fix").sort("_row")
    fixed = pl.col("_fixed").fill_null(False)
    return merged.select("event_id", *[pl.when(fixed).then(pl.col(n + "_fix")).otherwise(pl.col(n)).alias(n)
                                       for n in fs.names])


def _backfill(events: pl.DataFrame, fs: FeatureSet, progress: Callable[[str], None] | None) -> pl.DataFrame:
    need = fs.fields_read()  # the rest of the columns is never copied or sorted
    ev = _prepare(events.select([c for c in events.columns if c in need]))
    n = ev.height
    out: dict[str, pl.Series] = {}
    cache: dict[tuple, pl.DataFrame] = {}
    reach = max([f.window_us or 0 for f in fs.features if f.kind == "window"] + [0])
    tframe = sortedwin.Frame(ev[_T].to_numpy(), reach)  # one time origin for every stream's sorted array
    order = _stream_order(fs)
    last = {f.stream_id: i for i, f in enumerate(order) if f.kind == "window"}
    for i, f in enumerate(order):
        if progress:
            progress(f.name)
        if f.kind == "window" and f.list_key:
            s = _window(_exploded(ev, f.key[0], cache), f, cache, tframe).group_by(_I).agg(pl.col("x").max())
        elif f.kind == "window":
            s = _window(ev, f, cache, tframe)
        elif f.kind == "cross":
            s = _contacts_overdue(ev) if f.agg == "contacts_overdue_share" else _shared(ev, f.window_us or 0)
        else:
            a, b = (out[i].cast(pl.Float64) for i in f.inputs)
            frame = pl.DataFrame({"a": a, "b": b})
            expr = (pl.when(pl.col("b") != 0).then(pl.col("a") / pl.col("b")) if f.op == "ratio"
                    else pl.col("a") - pl.col("b"))
            s = frame.select(expr.alias("x"))["x"]
        dtype = {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "str": pl.Utf8}[f.dtype_kind]
        out[f.name] = _scatter(n, s, dtype) if f.kind != "derived" else s.cast(dtype)
        if f.kind == "window" and last[f.stream_id] == i:  # the stream is done: free its intermediates
            for k in [k for k in cache if len(k) > 1 and k[1] == f.stream_id]:
                del cache[k]
    cols = [events["event_id"]] + [out[name].alias(name) for name in fs.names]
    return pl.DataFrame(cols)


def _stream_order(fs: FeatureSet) -> list[Feature]:
    """Windowed features grouped by stream (in order of first appearance), then cross-entity ones, then
    the derived ones in their dependency order: each stream's intermediates live only while it is computed."""
    windows = [f for f in fs.order if f.kind == "window"]
    first = {}
    for j, f in enumerate(windows):
        first.setdefault(f.stream_id, j)
    windows.sort(key=lambda f: first[f.stream_id])
    return windows + [f for f in fs.order if f.kind == "cross"] + [f for f in fs.order if f.kind == "derived"]


def _scatter(n: int, s: pl.DataFrame | pl.Series, dtype: pl.DataType) -> pl.Series:
    """``s`` is a frame (_i, x) of computed rows; others are null."""
    assert isinstance(s, pl.DataFrame)
    out = pl.repeat(None, n, dtype=dtype, eager=True)
    if s.height:
        out = out.scatter(s[_I].cast(pl.Int64), s["x"].cast(dtype))
    return out


def _exploded(ev: pl.DataFrame, key: str, cache: dict) -> pl.DataFrame:
    """One row per (event, distinct non-null element of the list field ``key``), still in time order."""
    ck = ("explode", key)
    if ck not in cache:
        cache[ck] = (ev.explode(key).filter(pl.col(key).is_not_null())
                     .unique([_I, key], keep="first", maintain_order=True).with_columns(pl.col(_T).set_sorted()))
    return cache[ck]


def _keyok(f: Feature) -> pl.Expr:
    return pl.col("_k").is_not_null()


def _with_key(ev: pl.DataFrame, f: Feature, cache: dict) -> pl.DataFrame:
    """``ev`` plus ``_k``: an exact integer code of the entity key (null when any key field is null).

    Integer codes make every sort, group and as-of ``by`` much cheaper than hashing text tokens.
    """
    ck = ("key", f.key)
    if ck not in cache:
        col = pl.col(f.key[0]) if len(f.key) == 1 else pl.concat_str([pl.col(k).cast(pl.Utf8) for k in f.key],
                                                                       separator="\x1f")
        cache[ck] = ev.select(col.cast(pl.Utf8).cast(pl.Categorical).to_physical().cast(pl.Int64).alias("_k"))["_k"]
    return ev.with_columns(cache[ck])


def _source(ev: pl.DataFrame, f: Feature) -> pl.DataFrame:
    cond = pl.col("event_type").is_in(list(f.events)) & _keyok(f)
    if f.filter is not None:
        cond = cond & f.filter.polars.fill_null(False)
    cols = ["_k", _T, "event_id"]
    vals = [f.value.polars.alias("_v")] if f.value is not None else []
    return ev.lazy().filter(cond).select(*cols, *vals).collect()


def _queries(ev: pl.DataFrame, f: Feature) -> pl.DataFrame:
    cond = pl.col("event_type").is_in(list(f.applies_to)) & _keyok(f)
    return ev.lazy().filter(cond).select(_I, "_k", _T).collect()


def _asof_cum(q: pl.DataFrame, table: pl.DataFrame, key: list[str], on: str, cols: list[str],
              suffix: str) -> pl.DataFrame:
    """For each query time q[on], the row of ``table`` (key, _t, cols) with the largest _t < q[on]."""
    right = table.rename({c: c + suffix for c in cols}).rename({_T: "_rt" + suffix})
    j = q.sort(on).join_asof(right.sort("_rt" + suffix).with_columns(pl.col("_rt" + suffix).set_sorted()),
                             left_on=on, right_on="_rt" + suffix, by=key,
                             strategy="backward", allow_exact_matches=False, check_sortedness=False)
    return j


def _cum_table(src: pl.DataFrame, key: list[str], aggs: dict[str, pl.Expr]) -> pl.DataFrame:
    """Per key, cumulative aggregates at each distinct _t (including all rows at that _t)."""
    s = src.sort([*key, _T])
    s = s.with_columns([e.over(key).alias(name) for name, e in aggs.items()])
    s = s.group_by([*key, _T], maintain_order=True).agg([pl.col(name).last() for name in aggs])
    return s.sort(_T, maintain_order=True).with_columns(pl.col(_T).set_sorted())


def _window(ev: pl.DataFrame, f: Feature, cache: dict, frame: sortedwin.Frame) -> pl.DataFrame:
    key = ["_k"]
    ck = ("src", f.stream_id)
    qk = ("q", f.key, f.applies_to)
    if ck not in cache or qk not in cache:
        evk = _with_key(ev, f, cache)
        if ck not in cache:
            cache[ck] = _source(evk, f)
        if qk not in cache:
            cache[qk] = _queries(evk, f)
    src = cache[ck]
    q = cache[qk]
    w = f.window_us
    agg = f.agg
    fast = sortedwin.window(src, q, f, cache, frame)
    if fast is not None:
        return fast
    if agg in ("count", "sum", "mean"):
        tk = ("cum", f.stream_id)
        if tk not in cache:
            aggs: dict[str, pl.Expr] = {"_n": pl.col(_T).cum_count().cast(pl.Int64)}
            if f.value is not None:
                v = pl.col("_v").cast(pl.Int64)
                aggs["_nv"] = v.is_not_null().cast(pl.Int64).cum_sum()
                aggs["_s"] = v.fill_null(0).cum_sum()
            cache[tk] = _cum_table(src, key, aggs)
        table = cache[tk]
        cols = [c for c in table.columns if c not in key and c != _T]
        jk = ("ja", f.stream_id, f.applies_to)
        if jk not in cache:
            cache[jk] = _asof_cum(q, table, key, _T, cols, "_a").with_columns(pl.col(_T).set_sorted())
        j = cache[jk]
        if w is not None:
            j = j.with_columns((pl.col(_T) - w).set_sorted().alias("_tw"))
            j = _asof_cum(j, table, key, "_tw", cols, "_b")
        else:
            j = j.with_columns([pl.lit(0, pl.Int64).alias(c + "_b") for c in cols])

        def d(c: str) -> pl.Expr:
            return pl.col(c + "_a").fill_null(0) - pl.col(c + "_b").fill_null(0)

        if agg == "count":
            x = d("_n")
        elif agg == "sum":
            x = d("_s")
        else:
            x = pl.when(d("_nv") > 0).then(d("_s").cast(pl.Float64) / d("_nv").cast(pl.Float64))
        return j.select(_I, x.alias("x"))
    if agg == "distinct":
        dk = ("dist", f.stream_id)
        if dk not in cache:
            v = pl.col("_v").cast(pl.Utf8).cast(pl.Categorical).to_physical()
            s = src.filter(pl.col("_v").is_not_null()).select(*key, _T, v.alias("_v"))
            s = s.unique([*key, "_v", _T]).sort([*key, "_v", _T])
            same = (pl.col("_k") == pl.col("_k").shift(-1)) & (pl.col("_v") == pl.col("_v").shift(-1))
            cache[dk] = s.with_columns(pl.when(same).then(pl.col(_T).shift(-1)).alias("_next"))
            cache[("starts", f.stream_id)] = _cum_table(cache[dk].select(*key, _T), key,
                                                        {"_n": pl.col(_T).cum_count().cast(pl.Int64)})
        s = cache[dk]
        end = pl.col("_next") if w is None else pl.min_horizontal(pl.col("_next"), pl.col(_T) + w)
        s = s.with_columns(end.alias("_end"))
        starts = cache[("starts", f.stream_id)]
        ends = _cum_table(s.filter(pl.col("_end").is_not_null()).select(*key, pl.col("_end").alias(_T)), key,
                          {"_n": pl.col(_T).cum_count().cast(pl.Int64)})
        j = _asof_cum(q, starts, key, _T, ["_n"], "_a")
        j = _asof_cum(j, ends, key, _T, ["_n"], "_b")
        return j.select(_I, (pl.col("_n_a").fill_null(0) - pl.col("_n_b").fill_null(0)).alias("x"))
    if agg in ("min", "max"):
        s = src.filter(pl.col("_v").is_not_null()).select(*key, _T, "_v")
        if w is None:
            fn = pl.col("_v").cum_min() if agg == "min" else pl.col("_v").cum_max()
            table = _cum_table(s, key, {"_m": fn})
            j = _asof_cum(q, table, key, _T, ["_m"], "_a")
            return j.select(_I, pl.col("_m_a").alias("x"))
        u = pl.concat([s.with_columns(pl.lit(None, pl.UInt32).alias(_I)),
                       q.with_columns(pl.lit(None, dtype=s.schema["_v"]).alias("_v"))], how="diagonal")
        u = u.sort(_T)
        roll = (pl.col("_v").rolling_min_by(_T, window_size=f"{w}i", closed="left") if agg == "min"
                else pl.col("_v").rolling_max_by(_T, window_size=f"{w}i", closed="left"))
        u = u.with_columns(roll.over(key).alias("x"))
        return u.filter(pl.col(_I).is_not_null()).select(_I, "x")
    if agg in ("last", "time_since_last"):
        s = src if agg == "time_since_last" else src.filter(pl.col("_v").is_not_null())
        vcol = ["_v"] if agg == "last" else []
        table = s.sort([*key, _T, "event_id"]).group_by([*key, _T], maintain_order=True).agg(
            [pl.col(c).last() for c in vcol]).with_columns(pl.col(_T).alias("_tl"))
        j = _asof_cum(q, table, key, _T, ["_tl", *vcol], "_a")
        ok = pl.col("_tl_a").is_not_null()
        if w is not None:
            ok = ok & (pl.col("_tl_a") >= pl.col(_T) - w)
        x = pl.col("_v_a") if agg == "last" else (pl.col(_T) - pl.col("_tl_a")).cast(pl.Float64) * (1.0 / UNITS[f.unit])
        return j.select(_I, pl.when(ok).then(x).alias("x"))
    # first / time_since_first
    s = src if agg == "time_since_first" else src.filter(pl.col("_v").is_not_null())
    vcol = ["_v"] if agg == "first" else []
    table = s.sort([*key, _T, "event_id"]).group_by([*key, _T], maintain_order=True).agg(
        [pl.col(c).first() for c in vcol]).with_columns(pl.col(_T).alias("_tf"))
    if w is None:
        table = table.group_by(key, maintain_order=True).agg(pl.all().first()).drop(_T)
        j = q.join(table, on=key, how="left")
    else:
        qq = q.with_columns((pl.col(_T) - w).alias("_tw")).sort("_tw")
        j = qq.join_asof(table.drop(_T).sort("_tf"), left_on="_tw", right_on="_tf", by=key, strategy="forward",
                         allow_exact_matches=True, check_sortedness=False)
    ok = pl.col("_tf").is_not_null() & (pl.col("_tf") < pl.col(_T))
    x = pl.col("_v") if agg == "first" else (pl.col(_T) - pl.col("_tf")).cast(pl.Float64) * (1.0 / UNITS[f.unit])
    return j.select(_I, pl.when(ok).then(x).alias("x"))


def _contacts_overdue(ev: pl.DataFrame) -> pl.DataFrame:
    """Share of an application's distinct contacts whose phone belongs to a customer overdue before it."""
    ev = ev.select(_I, _T, "event_type", "customer_id", "phone_token", "dpd", "contact_tokens")
    links = (ev.filter(pl.col("phone_token").is_not_null() & pl.col("customer_id").is_not_null())
             .group_by("phone_token", "customer_id").agg(pl.col(_T).min().alias("_tl")))
    od = (ev.filter((pl.col("event_type") == "repayment") & (pl.col("dpd") > 0))
          .group_by("customer_id").agg(pl.col(_T).min().alias("_to")))
    tc = (links.join(od, on="customer_id", how="inner")
          .with_columns(pl.max_horizontal("_tl", "_to").alias("_tc"))
          .group_by("phone_token").agg(pl.col("_tc").min()))
    apps = ev.filter((pl.col("event_type") == "application") & pl.col("contact_tokens").is_not_null())
    apps = apps.select(_I, _T, pl.col("contact_tokens").list.drop_nulls().list.unique().alias("_c"))
    apps = apps.filter(pl.col("_c").list.len() > 0)
    ex = apps.explode("_c").join(tc.rename({"phone_token": "_c"}), on="_c", how="left")
    return ex.group_by(_I).agg(
        ((pl.col("_tc") < pl.col(_T)).fill_null(False).cast(pl.Int64).sum().cast(pl.Float64)
         / pl.len().cast(pl.Float64)).alias("x"))


def _link_keys(ev: pl.DataFrame) -> pl.DataFrame:
    ev = ev.select(_I, _T, "event_type", "customer_id", "device_id", "contact_tokens")
    apps = ev.filter((pl.col("event_type") == "application") & pl.col("customer_id").is_not_null())
    dev = apps.filter(pl.col("device_id").is_not_null()).select(
        _I, _T, "customer_id", ("d:" + pl.col("device_id")).alias("_k"))
    con = apps.filter(pl.col("contact_tokens").is_not_null()).select(
        _I, _T, "customer_id", pl.col("contact_tokens").list.drop_nulls().list.unique().alias("_k")
    ).explode("_k").filter(pl.col("_k").is_not_null()).with_columns(("c:" + pl.col("_k")).alias("_k"))
    return pl.concat([dev, con])


def _shared(ev: pl.DataFrame, w: int) -> pl.DataFrame:
    """Distinct other applicants who used this application's device or any of its contacts within ``w``."""
    lk = _link_keys(ev)
    q = lk.select(_I, _T, "customer_id", "_k")
    s = lk.select(pl.col(_T).alias("_ts"), pl.col("customer_id").alias("_u"), "_k")
    j = q.join(s, on="_k", how="inner").filter(
        (pl.col("_ts") < pl.col(_T)) & (pl.col("_ts") >= pl.col(_T) - w) & (pl.col("_u") != pl.col("customer_id")))
    cnt = j.group_by(_I).agg(pl.col("_u").n_unique().cast(pl.Int64).alias("x"))
    base = q.select(_I).unique()
    return base.join(cnt, on=_I, how="left").with_columns(pl.col("x").fill_null(0))
