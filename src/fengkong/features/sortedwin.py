"""Windowed aggregations of the offline backfill by binary search over one sorted (key, time) array.

A stream's source rows are coded as one uint64 composite ``key * span + (t - t0)`` and sorted; a query
(key k, time t) then finds the rows of k strictly before t as ``[searchsorted(k, t0), searchsorted(k, t))``
and the rows inside a window ``[t - w, t)`` the same way. Counts are the width of that range; sums and
means differences of prefix sums in composite order; first/last-seen times its end points; distinct
counts the number of (key, value) coverage intervals open at t (an occurrence at s covers the query
times in (s, min(next occurrence, s + w)]). Exactly the values of the join-based path in
:mod:`fengkong.features.offline` (integer arithmetic; the same float operations for times and means);
``None`` when the composite would overflow 63 bits or a sum could, and that path is used instead.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import polars as pl

from fengkong.features.spec import UNITS, Feature

_T = "_t"
_I = "_i"
_LIMIT = 2**63


class Frame:
    """The time frame every composite of one backfill shares: origin ``t0`` and ``span`` per key (all event
    times, plus the longest window so interval ends fit)."""

    def __init__(self, times: np.ndarray, reach: int):
        self.t0 = int(times.min()) if times.size else 0
        self.span = (int(times.max()) - self.t0 if times.size else 0) + reach + 2


class Queries:
    """One query set (key codes, times) in composite order: searchsorted then walks sorted needles forward.

    ``qi``: their row indices; the same for every stream with the same key and queried event types."""

    def __init__(self, q: pl.DataFrame, frame: Frame):
        qk, qt = q["_k"].to_numpy().astype(np.uint64), q[_T].to_numpy()
        span = np.uint64(frame.span)
        self.kmax = int(qk.max()) + 1 if qk.size else 0
        self.ok = self.kmax * frame.span < _LIMIT
        if not self.ok:
            return
        order = _argsort(qk * span + (qt - frame.t0).astype(np.uint64))
        self.qi = q[_I].to_numpy()[order]
        self.qbase = qk[order] * span
        self.qt = qt[order]


class Composite:
    """One stream's sources sorted by (key, time), with a query set located in them."""

    def __init__(self, src: pl.DataFrame, qs: Queries, frame: Frame):
        sk, st = src["_k"].to_numpy().astype(np.uint64), src[_T].to_numpy()
        self.t0, self.span = frame.t0, frame.span
        self.ok = (int(sk.max()) + 1) * frame.span < _LIMIT
        if not self.ok:
            return
        self.sk, self.st = sk, st
        self.qi, self.qbase, self.qt = qs.qi, qs.qbase, qs.qt

    @functools.cached_property
    def unsorted(self) -> np.ndarray:
        """The composites of the sources, in source order."""
        return self.sk * np.uint64(self.span) + (self.st - self.t0).astype(np.uint64)

    @functools.cached_property
    def comp(self) -> np.ndarray:
        """The sorted composites of the sources (ties are equal values: their order does not matter)."""
        return _sort(self.unsorted)

    def time_at(self, idx: np.ndarray) -> np.ndarray:
        """The source time of sorted rows ``idx`` (a composite holds it: ``comp mod span + t0``)."""
        return (self.comp[idx] % np.uint64(self.span)).astype(np.int64) + self.t0

    @functools.cached_property
    def start(self) -> np.ndarray:
        """Each query's key's first source row."""
        return np.searchsorted(self.comp, self.qbase, side="left")

    @functools.cached_property
    def hi(self) -> np.ndarray:
        """Each query's end: the rows strictly before its time."""
        return np.searchsorted(self.comp, self.at(self.qt), side="left")

    def at(self, times: np.ndarray) -> np.ndarray:
        """Composite positions of the query keys at ``times`` (clamped to the start of the key)."""
        return self.qbase + np.maximum(times - self.t0, 0).astype(np.uint64)

    def lo(self, w: int | None) -> np.ndarray:
        """First row of each query's window ``[t - w, t)`` (its key's first row for a lifetime)."""
        if w is None:
            return self.start
        return np.searchsorted(self.comp, self.at(self.qt - w), side="left")


def composite(src: pl.DataFrame, q: pl.DataFrame, f: Feature, cache: dict, frame: Frame) -> Composite | None:
    """The stream's composite for this query set (cached); None when empty or too wide for 63 bits."""
    ck = ("composite", f.stream_id, f.applies_to)
    if ck not in cache:
        if src.height == 0 or q.height == 0:
            cache[ck] = None
        else:
            qk = ("sorted-queries", f.key, f.list_key, f.applies_to)
            if qk not in cache:
                cache[qk] = Queries(q, frame)
            qs = cache[qk]
            c = Composite(src, qs, frame) if qs.ok else None
            cache[ck] = c if c is not None and c.ok else None
    return cache[ck]


def window(src: pl.DataFrame, q: pl.DataFrame, f: Feature, cache: dict, frame: Frame) -> pl.DataFrame | None:
    """``(_i, x)`` for feature ``f`` by binary search, or None when this path does not apply."""
    agg, w = f.agg, f.window_us
    if agg not in ("count", "sum", "mean", "time_since_first", "time_since_last", "distinct"):
        return None
    c = composite(src, q, f, cache, frame)
    if c is None:
        return None
    if agg == "distinct":
        return _distinct(src, q, c, f, cache)
    lo, hi = c.lo(w), c.hi
    if agg == "count":
        x: Any = (hi - lo).astype(np.int64)
        return pl.DataFrame({_I: c.qi, "x": x})
    if agg in ("sum", "mean"):
        got = _prefix(src, c, f, cache)
        if got is None:
            return None
        cs, cn = got
        total = cs[hi] - cs[lo]
        if agg == "sum":
            return pl.DataFrame({_I: c.qi, "x": total})
        n = cn[hi] - cn[lo]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total.astype(np.float64) / n.astype(np.float64)
        return pl.DataFrame({_I: c.qi, "x": mean}).with_columns(
            pl.when(pl.Series(n > 0)).then(pl.col("x")).alias("x"))
    per = 1.0 / UNITS[f.unit]
    if agg == "time_since_first":
        has = lo < hi
        first = c.time_at(np.minimum(lo, len(c.comp) - 1))
        x = (c.qt - first).astype(np.float64) * per
        return _masked(c, x, has)
    if agg == "time_since_last":
        has = hi > c.start
        last = c.time_at(np.maximum(hi - 1, 0))
        if w is not None:
            has &= last >= c.qt - w
        x = (c.qt - last).astype(np.float64) * per
        return _masked(c, x, has)
    return None


def _sort(x: np.ndarray) -> np.ndarray:
    """Sorted values (Polars' sort: several times NumPy's on 64-bit keys)."""
    return pl.Series(x).sort().to_numpy()


def _argsort(x: np.ndarray) -> np.ndarray:
    """A stable argsort (a Polars sort carrying the row numbers: faster than NumPy's on 64-bit keys)."""
    d = pl.DataFrame({"x": x, "i": np.arange(x.size, dtype=np.int64)})
    return d.sort("x", maintain_order=True)["i"].to_numpy()


def _masked(c: Composite, x: np.ndarray, has: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({_I: c.qi, "x": x}).with_columns(pl.when(pl.Series(has)).then(pl.col("x")).alias("x"))


def _prefix(src: pl.DataFrame, c: Composite, f: Feature, cache: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """Prefix sums (length n + 1) of the value and of its non-null count, in composite order."""
    ck = ("prefix", f.stream_id, f.applies_to)
    if ck not in cache:
        v = src["_v"].cast(pl.Int64)
        notnull = v.is_not_null().to_numpy()
        vals = v.fill_null(0).to_numpy()
        if vals.size and int(np.abs(vals).max()) * vals.size >= _LIMIT:  # a sum could overflow int64
            cache[ck] = None
        else:  # values in composite order; equal composites are summed together, so their order is free
            d = pl.DataFrame({"c": c.unsorted, "v": vals, "n": notnull.astype(np.int64)}).sort("c")
            cs = np.zeros(vals.size + 1, dtype=np.int64)
            np.cumsum(d["v"].to_numpy(), out=cs[1:])
            cn = np.zeros(vals.size + 1, dtype=np.int64)
            np.cumsum(d["n"].to_numpy(), out=cn[1:])
            cache[ck] = (cs, cn)
    return cache[ck]


def _distinct(src: pl.DataFrame, q: pl.DataFrame, c: Composite, f: Feature, cache: dict) -> pl.DataFrame | None:
    """Distinct non-null values strictly before t (within ``[t - w, t)``): coverage intervals open at t."""
    w = f.window_us
    ck = ("distinct", f.stream_id)
    if ck not in cache:
        s = src.filter(pl.col("_v").is_not_null())
        k = s["_k"].to_numpy().astype(np.uint64)
        v = s.select(pl.col("_v").cast(pl.Utf8).cast(pl.Categorical).to_physical())["_v"].to_numpy().astype(np.uint64)
        t = s[_T].to_numpy()
        if t.size > 1 and bool((t[1:] < t[:-1]).any()):  # the stable sort below needs time order
            o = _argsort(t)
            k, v, t = k[o], v[o], t[o]
        vmax = int(v.max()) + 1 if v.size else 1
        if k.size and (int(k.max()) + 1) * vmax >= _LIMIT:
            cache[ck] = None
            return None
        # sources are in time order, so a stable sort by (key, value) leaves each pair's times ascending
        order = _argsort(k * np.uint64(vmax) + v)
        kv, k, t = (k * np.uint64(vmax) + v)[order], k[order], t[order]
        keep = np.ones(kv.size, dtype=bool)  # one occurrence per (key, value, time)
        keep[1:] = (kv[1:] != kv[:-1]) | (t[1:] != t[:-1])
        kv, k, t = kv[keep], k[keep], t[keep]
        nxt_ok = np.zeros(kv.size, dtype=bool)
        nxt_ok[:-1] = kv[1:] == kv[:-1]
        nxt = np.zeros(kv.size, dtype=np.int64)
        nxt[:-1] = t[1:]
        nxt = np.where(nxt_ok, nxt, 0)
        span = np.uint64(c.span)
        starts = _sort(k * span + (t - c.t0).astype(np.uint64))
        cache[ck] = (k, t, nxt, nxt_ok, starts, span)
    if cache[ck] is None:
        return None
    k, t, nxt, nxt_ok, starts, span = cache[ck]
    if w is None:
        end_ok, end = nxt_ok, nxt
    else:
        end_ok = np.ones(t.size, dtype=bool)
        end = np.where(nxt_ok, np.minimum(nxt, t + w), t + w)
    if end.size and int(end[end_ok].max(initial=c.t0)) - c.t0 >= c.span:
        return None
    ends = _sort(k[end_ok] * span + (end[end_ok] - c.t0).astype(np.uint64))
    at = c.at(c.qt)
    opened = np.searchsorted(starts, at, side="left") - np.searchsorted(starts, c.qbase, side="left")
    closed = np.searchsorted(ends, at, side="left") - np.searchsorted(ends, c.qbase, side="left")
    return pl.DataFrame({_I: c.qi, "x": (opened - closed).astype(np.int64)})
