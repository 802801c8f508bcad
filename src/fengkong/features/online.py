"""Online features: ``read(event)`` from state strictly before it, ``update(event)`` folding it in.

State is time-indexed per (stream, key) so late events land at their own timestamp; it lives in a
pluggable store (memory, SQLite, Redis). The same declarations as :mod:`fengkong.features.offline`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

import orjson

from fengkong.events import UNION_FIELDS, EventValidationError
from fengkong.features.plan import compile_reader, compile_writer
from fengkong.features.spec import UNITS, Feature, FeatureSet, parse_window
from fengkong.features.stores import decode_event

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


#: Compaction runs once this many entries of a key have expired, or a quarter of them and at least ``_COMPACT_MIN``.
_COMPACT_BATCH, _COMPACT_MIN = 64, 8

#: Event-id markers (idempotency) are stored per hour of event time: one state key per hour, not per event.
_ID_BUCKET_US = 3_600_000_000


def _ids(tx: Any) -> dict[str, int]:
    """Every stored event id → its time: an index over the hourly ``e|`` buckets, rebuilt after a load.

    Kept under ``_ids`` (keys starting with ``_`` are derived and never checkpointed).
    """
    data = tx.data
    idx = data.get("_ids")
    if idx is None:
        idx = {}
        for k in [k for k in data if k.startswith("e|")]:
            idx.update(data[k])
        data["_ids"] = idx
    return idx


class LateEventError(EventValidationError):
    """An event is older than the store's watermark minus the late tolerance, or further ahead of this
    machine's clock than ``max_ahead``; it was not folded in and the watermark did not move."""

    def __init__(self, reason: str):
        super().__init__("ts", reason)


def ts_us(ts: dt.datetime) -> int:
    """Microseconds since the epoch of a timezone-aware datetime (exact)."""
    d = ts - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


class _Stream:
    """Features sharing key, source event types, filter and value: one state list per key."""

    def __init__(self, sid: str, proto: Feature, late_us: int):
        self.sid = sid
        self.key = proto.key
        self.events = frozenset(proto.events)
        self.filter_expr, self.value_expr = proto.filter, proto.value
        self.filter = proto.filter.python if proto.filter else None
        self.value = proto.value.python if proto.value else None
        self.features: list[Feature] = []
        self.late_us = late_us
        self.list_key = proto.list_key

    def finish(self) -> None:
        ws = [f.window_us for f in self.features if f.window_us is not None]
        self.lifetime = any(f.window_us is None for f in self.features)
        self.keep_us = (max(ws) if ws else 0) + self.late_us
        self.need_distinct = any(f.agg == "distinct" and f.window_us is None for f in self.features)
        #: event ids order equal timestamps; only first/last can tell the order apart
        self.need_ids = any(f.agg in ("first", "last") for f in self.features)
        vk = self.features[0].value.kind if self.features[0].value else None
        #: prefix sums of the value and of non-null counts (O(1) windowed sum / mean)
        self.prefix = vk in ("int", "bool") and any(f.agg in ("sum", "mean") for f in self.features)
        #: last-seen time per value + its sorted list (O(log n) windowed distinct for text values)
        self.lastseen = vk == "str" and any(f.agg == "distinct" for f in self.features)
        #: only time_since_first over the lifetime is read: once the summary holds the first time, an event
        #: cannot change it (a later event is at or after the watermark minus the tolerance, past it)
        self.first_only = all(f.agg == "time_since_first" and f.window_us is None for f in self.features)
        #: such a stream stores its state as one integer: the earliest event time (µs); list keys never do
        #: (they cannot take time_since_first), the condition only keeps the generic list path list-shaped
        self.first_int = self.first_only and not self.list_key

    def new_state(self) -> dict:
        st: dict = {"t": array("q"), "c": None}
        if self.value is not None:
            st["v"] = []
        if self.need_ids:
            st["i"] = []
        if self.prefix:
            st["cs"], st["cn"] = array("q", [0]), array("q", [0])
        if self.lastseen:
            st["lv"], st["ls"] = {}, array("q")
        return st

    def keysof(self, e: dict) -> list[str]:
        """State keys of an event: one per distinct non-null element of a list key, else the one key."""
        if not self.list_key:
            k = self.keyof(e)
            return [] if k is None else [k]
        return [f"s|{self.sid}|{v}" for v in dict.fromkeys(e.get(self.key[0]) or ()) if v is not None]

    def keyof(self, e: dict) -> str | None:
        if len(self.key) == 1:
            v = e.get(self.key[0])
            return None if v is None else f"s|{self.sid}|{v}"
        vals = [e.get(k) for k in self.key]
        if any(v is None for v in vals):
            return None
        return f"s|{self.sid}|" + "\x1f".join(str(v) for v in vals)


def _new_summary() -> dict:
    return {"n": 0, "nv": 0, "s": 0, "mn": None, "mx": None, "d": [], "f": None, "l": None, "fa": None,
            "la": None}


def _first_min(st: Any, t: int | None) -> int | None:
    """The earliest time of a first-time stream's state and ``t`` (None counts as absent).

    The state is an integer; a state in the list layout (written before first-time streams were kept
    as one integer) gives its first entry or summarised first time, so old checkpoints read the same.
    """
    if st is not None and st.__class__ is not int:
        c, ts = st.get("c"), st.get("t")
        firsts = [x for x in (c["fa"][0] if c and c.get("fa") else None, ts[0] if ts else None) if x is not None]
        st = min(firsts) if firsts else None
    if st is None or (t is not None and t < st):
        return t
    return st


def _from_first(t0: int, stream: _Stream) -> dict:
    """The list layout of a first-time integer state met by a stream that now needs more (a feature was
    added to a live stream, which needs a backfill anyway): one summarised event at the first time."""
    st = stream.new_state()
    st["c"] = {**_new_summary(), "n": 1, "fa": [t0, None], "la": [t0, None]}
    return st


def _compact(st: dict, horizon: int, stream: _Stream, force: bool = False) -> None:
    """Fold entries with t < horizon into the lifetime summary (or drop them) — bounded memory.

    Amortised: runs when 64 entries, or at least a quarter of the entries and 8 or more, have expired
    (reads skip expired entries by their time, so compacting late never changes a value).
    """
    ts = st["t"]
    k = bisect_left(ts, horizon)
    if k == 0 or (not force and k < _COMPACT_BATCH and (k < _COMPACT_MIN or 4 * k < len(ts))):
        return
    if stream.lifetime:
        c = st["c"] or _new_summary()
        ids, vs = st.get("i"), st.get("v")
        dset = set(c["d"]) if stream.need_distinct else None
        for j in range(k):
            t = ts[j]
            i = ids[j] if ids is not None else None
            v = vs[j] if vs is not None else None
            c["n"] += 1
            if c["fa"] is None:
                c["fa"] = [t, i]
            c["la"] = [t, i]
            if v is not None:
                c["nv"] += 1
                if isinstance(v, int | bool):
                    c["s"] += int(v)
                c["mn"] = v if c["mn"] is None or v < c["mn"] else c["mn"]
                c["mx"] = v if c["mx"] is None or v > c["mx"] else c["mx"]
                if c["f"] is None:
                    c["f"] = [t, i, v]
                c["l"] = [t, i, v]
                if dset is not None:
                    dset.add(v)
        if dset is not None:
            c["d"] = list(dset)
        st["c"] = c
    del st["t"][:k]
    if "v" in st:
        del st["v"][:k]
    if "i" in st:
        del st["i"][:k]
    if stream.prefix:
        del st["cs"][:k], st["cn"][:k]
    if stream.lastseen and not stream.lifetime:
        ls, lv = st["ls"], st["lv"]
        cut = bisect_left(ls, horizon)
        if cut:
            del ls[:cut]
            for v in [v for v, lt in lv.items() if lt < horizon]:
                del lv[v]


def _insert(st: dict, stream: _Stream, t: int, eid: str, v: Any) -> None:
    """Insert one entry in (ts, event_id) order and maintain the prefix sums / last-seen index."""
    ts, ids, vs = st["t"], st.get("i"), st.get("v")
    pos = bisect_right(ts, t)
    if ids is not None:
        while pos > 0 and ts[pos - 1] == t and ids[pos - 1] > eid:
            pos -= 1
    end = pos == len(ts)
    if end:
        ts.append(t)
        if vs is not None:
            vs.append(v)
        if ids is not None:
            ids.append(eid)
    else:
        ts.insert(pos, t)
        if vs is not None:
            vs.insert(pos, v)
        if ids is not None:
            ids.insert(pos, eid)
    if stream.prefix:
        try:
            _prefix(st, vs, pos, end, v)
        except OverflowError:  # sums beyond int64: keep exact Python integers
            st["cs"] = list(st["cs"])
            _prefix(st, vs, pos, end, v)
    if stream.lastseen and v is not None:
        lv, ls = st["lv"], st["ls"]
        old = lv.get(v)
        if old is None or t > old:
            if old is not None:
                del ls[bisect_left(ls, old)]
            ls.insert(bisect_right(ls, t), t)
            lv[v] = t


def _prefix(st: dict, vs: list, pos: int, end: bool, v: Any) -> None:
    """Maintain the prefix sums of the value (``cs``) and of its non-null count (``cn``) after an insert."""
    cs, cn = st["cs"], st["cn"]
    if end:
        cs.append(cs[-1] + (0 if v is None else int(v)))
        cn.append(cn[-1] + (v is not None))
    else:  # late entry: rebuild the suffix
        del cs[pos + 1:], cn[pos + 1:]
        for j in range(pos, len(vs)):
            x = vs[j]
            cs.append(cs[-1] + (0 if x is None else int(x)))
            cn.append(cn[-1] + (x is not None))


def _agg(f: Feature, st: dict | None, t: int) -> Any:
    agg = f.agg
    if st is None:
        return 0 if agg in ("count", "sum", "distinct") else None
    ts, vs = st["t"], st.get("v")
    hi = bisect_left(ts, t)
    w = f.window_us
    lo = 0 if w is None else bisect_left(ts, t - w, 0, hi)
    c = st["c"] if w is None else None
    if agg == "count":
        return hi - lo + (c["n"] if c else 0)
    if agg == "time_since_last":
        if hi > lo:
            return (t - ts[hi - 1]) * (1.0 / UNITS[f.unit])
        return (t - c["la"][0]) * (1.0 / UNITS[f.unit]) if c and c["la"] else None
    if agg == "time_since_first":
        if c and c["fa"]:
            return (t - c["fa"][0]) * (1.0 / UNITS[f.unit])
        return (t - ts[lo]) * (1.0 / UNITS[f.unit]) if hi > lo else None
    if agg == "last":
        for j in range(hi - 1, lo - 1, -1):
            if vs[j] is not None:
                return vs[j]
        return c["l"][2] if c and c["l"] else None
    if agg == "first":
        if c and c["f"]:
            return c["f"][2]
        for j in range(lo, hi):
            if vs[j] is not None:
                return vs[j]
        return None
    if "cs" in st and agg in ("sum", "mean"):
        cs, cn = st["cs"], st["cn"]
        total = cs[hi] - cs[lo] + (c["s"] if c else 0)
        if agg == "sum":
            return total
        n = cn[hi] - cn[lo] + (c["nv"] if c else 0)
        return total / n if n else None
    if agg == "distinct" and "lv" in st and hi == len(ts):
        if w is None:
            return len(st["lv"])
        ls = st["ls"]
        return len(ls) - bisect_left(ls, t - w)
    vals = [v for v in vs[lo:hi] if v is not None]
    if agg == "sum":
        return sum(int(v) for v in vals) + (c["s"] if c else 0)
    if agg == "mean":
        n = len(vals) + (c["nv"] if c else 0)
        return (sum(int(v) for v in vals) + (c["s"] if c else 0)) / n if n else None
    if agg == "distinct":
        if c:
            return len(set(vals).union(c["d"]))
        return len(set(vals))
    if c and c["nv"]:
        vals.append(c["mn"] if agg == "min" else c["mx"])
    if not vals:
        return None
    return min(vals) if agg == "min" else max(vals)


def _read_list(tx: Any, e: dict, t: int, stream: _Stream, feats: list[Feature], out: dict) -> None:
    """A list-keyed stream: each feature is the largest value over the list's distinct elements."""
    states = [tx.get(k) for k in stream.keysof(e)]
    if states:
        for f in feats:
            vals = [v for v in (_agg(f, st, t) for st in states) if v is not None]
            out[f.name] = max(vals) if vals else None


class OnlineFeatures:
    """Incremental features for one :class:`FeatureSet` against a state store."""

    def __init__(self, fs: FeatureSet, store: Any, late_tolerance: str = "1h", expire_every: int = 100_000,
                 max_ahead: str | None = None):
        """``late_tolerance``: how far behind the newest event seen an event may still be folded in.
        ``max_ahead``: how far ahead of this machine's clock an event may be (None: no bound, for replays of
        histories); a further one is refused, so one clock-skewed event cannot move the watermark."""
        self.fs = fs
        self.store = store
        self.late_us = parse_window(late_tolerance, "late_tolerance") or 0
        self.max_ahead_us = None if max_ahead is None else parse_window(max_ahead, "max_ahead") or 0
        self.expire_every = expire_every
        self._since_expire = 0
        self.streams: dict[str, _Stream] = {}
        for f in fs.features:
            if f.kind != "window":
                continue
            sid = hashlib.sha1(repr(f.stream_id).encode()).hexdigest()[:10]
            s = self.streams.get(sid)
            if s is None:
                s = self.streams[sid] = _Stream(sid, f, self.late_us)
            s.features.append(f)
        for s in self.streams.values():
            s.finish()
        self.cross_features = [f for f in fs.features if f.kind == "cross"]
        self.cross = {f.agg for f in self.cross_features}
        self.shared_keep = max([f.window_us or 0 for f in self.cross_features] + [0]) + self.late_us
        self.keep_us = max([s.keep_us for s in self.streams.values()] + [self.shared_keep, self.late_us])
        # per event type: streams to read (with their applicable features) and streams to update
        self._reads: dict[str, list[tuple[_Stream, list[Feature]]]] = {}
        self._writes: dict[str, list[_Stream]] = {}
        for et in {t for f in fs.features for t in (f.applies_to or ())} | {
                t for s in self.streams.values() for t in s.events}:
            self._plan(et)
        helpers = {"_COMPACT_BATCH": _COMPACT_BATCH, "_COMPACT_MIN": _COMPACT_MIN, "_agg": _agg, "_insert": _insert,
                   "_compact": _compact, "_first_min": _first_min, "_from_first": _from_first, "_read_list": _read_list}
        self._readers = {et: compile_reader(p, helpers, et) for et, p in self._reads.items() if p}
        self._writers = {et: compile_writer(w, helpers, et) for et, w in self._writes.items() if w}
        self._derived = [f for f in fs.order if f.kind == "derived"]
        self._empty = dict.fromkeys(fs.names)
        fields = {"event_id", "event_type"}
        for f in fs.features:
            fields.update(f.key)
            for c in (f.filter, f.value):
                if c is not None:
                    fields.update(c.fields)
        if self.cross:
            fields.update(("customer_id", "phone_token", "dpd", "contact_tokens", "device_id"))
        self._log_fields = tuple(sorted(fields))
        kinds = {k: getattr(UNION_FIELDS.get(k), "kind", None) for k in fields}
        self._log_datetimes = frozenset(k for k, v in kinds.items() if v == "datetime")
        self._log_dates = frozenset(k for k, v in kinds.items() if v == "date")
        attach = getattr(store, "attach", None)
        if attach is not None:
            attach(self)

    def _plan(self, et: str) -> None:
        self._reads[et] = [(s, [f for f in s.features if et in f.applies_to]) for s in self.streams.values()
                           if any(et in f.applies_to for f in s.features)]
        self._writes[et] = [s for s in self.streams.values() if et in s.events]

    # ------------------------------------------------------------------ public API

    def read(self, event: dict) -> dict:
        """Feature values for ``event`` from state strictly before its ``ts`` (no mutation)."""
        t = ts_us(event["ts"])
        return self.store.run(lambda tx: self._read(tx, event, t, check_late=True), write=False)

    def update(self, event: dict) -> None:
        """Fold ``event`` into the state; re-delivering the same ``event_id`` changes nothing."""
        self.store.event(event, ts_us(event["ts"]), None, self)
        self._tick()

    def read_update(self, event: dict) -> dict:
        """Read then update, atomically; with a durable store it returns once the event is durable."""
        out = self.store.event(event, ts_us(event["ts"]), self._read_checked, self)
        self._tick()
        return out

    def batch(self) -> Any:
        """A context in which the events folded are made durable together when it ends (group commit; a
        no-op for a store without batches, whose events are durable one by one)."""
        batch = getattr(self.store, "batch", None)
        return batch() if batch is not None else contextlib.nullcontext()

    def _read_checked(self, tx: Any, e: dict, t: int) -> dict:
        """Read for an event about to be folded in: too late is an error, a redelivery never is."""
        return self._read(tx, e, t, check_late=not self.seen(tx, e["event_id"]))

    # ------------------------------------------------------------------ the store's log (Folder protocol)

    def check(self, tx: Any, e: dict, t: int) -> None:
        """Raise :class:`LateEventError` if ``e`` cannot be folded in (a redelivery always can)."""
        if not self.seen(tx, e["event_id"]):
            self._check_late(tx, t)

    def seen(self, tx: Any, eid: str) -> bool:
        """Whether an event id has been folded in (within the late tolerance of the longest window)."""
        return eid in _ids(tx)

    def apply(self, tx: Any, e: dict, t: int) -> None:
        """Fold ``e`` (at µs time ``t``) into the state (replaying a store's log too)."""
        self._update(tx, e, t)

    def encode(self, e: dict, t: int) -> bytes:
        """The log entry of an event: its time and the fields the features read."""
        return orjson.dumps([t, {k: e.get(k) for k in self._log_fields if k in e}])

    def decode(self, body: bytes) -> tuple[dict, int]:
        t, raw = orjson.loads(body)
        return decode_event(raw, self._log_datetimes, self._log_dates), t

    def expire(self) -> int:
        """Drop or compact state older than the longest window (+ tolerance); returns keys touched.

        Value-preserving: every later read gives what it gave without the expiry.
        """
        return self.store.run(self._expire)

    def _expire(self, tx: Any) -> int:
        wm = tx.get("wm")
        if wm is None:
            return 0
        touched = 0
        for key in list(tx.keys("s|")):
            stream = self.streams.get(key.split("|", 2)[1])
            st = tx.get(key)
            if stream is None:  # a feature that is no longer declared
                tx.delete(key)
                touched += 1
                continue
            if stream.first_int:  # one integer, kept for the lifetime (a state in the list layout converted)
                if st.__class__ is not int:
                    t0 = _first_min(st, None)
                    tx.put(key, t0) if t0 is not None else tx.delete(key)
                    touched += 1
                continue
            if st.__class__ is int:
                st = _from_first(st, stream)
                tx.put(key, st)
                touched += 1
            before = len(st["t"])
            _compact(st, wm - stream.keep_us, stream, force=True)
            if not st["t"] and st["c"] is None:
                tx.delete(key)
                touched += 1
            elif len(st["t"]) != before:
                tx.put(key, st)
                touched += 1
        for key in list(tx.keys("a|")):
            st = tx.get(key)
            k = bisect_left(st["t"], wm - self.shared_keep)
            if k:
                del st["t"][:k], st["u"][:k]
                tx.put(key, st) if st["t"] else tx.delete(key)
                touched += 1
        cut = wm - self.keep_us
        ids = _ids(tx)
        for key in list(tx.keys("e|")):
            if (int(key[2:]) + 1) * _ID_BUCKET_US <= cut:
                for eid in tx.get(key):
                    ids.pop(eid, None)
                tx.delete(key)
                touched += 1
        return touched

    # ------------------------------------------------------------------ internals

    def _tick(self) -> None:
        self._since_expire += 1
        if self.expire_every and self._since_expire >= self.expire_every:
            self._since_expire = 0
            self.expire()

    def _check_late(self, tx: Any, t: int) -> None:
        self._check_time(t, tx.data.get("wm"))

    def _check_time(self, t: int, wm: int | None) -> None:
        if self.max_ahead_us is not None:
            ahead = t - ts_us(dt.datetime.now(dt.UTC))
            if ahead > self.max_ahead_us:
                raise LateEventError(f"event is {ahead / 1e6:.0f}s ahead of this machine's clock (limit "
                                     f"{self.max_ahead_us / 1e6:.0f}s); not folded in")
        if wm is not None and t < wm - self.late_us:
            raise LateEventError(f"late: event is {(wm - t) / 1e6:.0f}s older than the newest event seen "
                                 f"(tolerance {self.late_us / 1e6:.0f}s); not folded in")

    def _read(self, tx: Any, e: dict, t: int, check_late: bool) -> dict:
        if check_late:
            self._check_late(tx, t)
        et = e["event_type"]
        out = dict(self._empty)
        reader = self._readers.get(et)
        if reader is not None:
            reader(tx, e, t, out)
        if et == "application":
            for f in self.cross_features:
                if f.agg == "contacts_overdue_share":
                    out[f.name] = self._contacts_overdue(tx, e, t)
                else:
                    out[f.name] = self._shared(tx, e, t, f.window_us or 0)
        for f in self._derived:
            a, b = out[f.inputs[0]], out[f.inputs[1]]
            if a is None or b is None:
                continue
            if f.op == "ratio":
                out[f.name] = float(a) / float(b) if b != 0 else None
            else:
                out[f.name] = float(a) - float(b)
        return out

    def _update(self, tx: Any, e: dict, t: int) -> None:
        eid = e["event_id"]
        ids = _ids(tx)
        if eid in ids:
            return
        data = tx.data
        wm = data.get("wm")
        self._check_time(t, wm)
        et = e["event_type"]
        new_wm = t if wm is None or t > wm else wm
        horizon = new_wm
        writer = self._writers.get(et)
        if writer is not None:
            writer(tx, e, t, eid, horizon)
        if self.cross:
            self._update_cross(tx, e, et, t, eid, new_wm)
        ids[eid] = t
        bk = f"e|{t // _ID_BUCKET_US}"
        bucket = data.get(bk)
        if bucket is None:
            bucket = {}
        bucket[eid] = t
        tx.put(bk, bucket)
        if new_wm != wm:
            tx.put("wm", new_wm)

    # ------------------------------------------------------------------ cross-entity

    def _update_cross(self, tx: Any, e: dict, et: str, t: int, eid: str, wm: int) -> None:
        cust = e.get("customer_id")
        get = tx.data.get
        if "contacts_overdue_share" in self.cross and cust is not None:
            phone = e.get("phone_token")
            if phone is not None:
                pk = "p|" + phone
                links = get(pk)
                if links is None:
                    tx.put(pk, {cust: t})
                else:
                    first = links.get(cust)
                    if first is None or t < first:
                        links[cust] = t
                        tx.put(pk, links)
            if et == "repayment" and (e.get("dpd") or 0) > 0:
                od = get("o|" + cust)
                if od is None or t < od:
                    tx.put("o|" + cust, t)
        if "shared_applicants" in self.cross and et == "application" and cust is not None:
            for k in _link_keys(e):
                st = get("a|" + k) or {"t": array("q"), "u": []}
                ts = st["t"]
                pos = bisect_right(ts, t)
                ts.insert(pos, t)
                st["u"].insert(pos, cust)
                cut = bisect_left(ts, wm - self.shared_keep)
                if cut:
                    del ts[:cut], st["u"][:cut]
                tx.put("a|" + k, st)

    def _contacts_overdue(self, tx: Any, e: dict, t: int) -> float | None:
        contacts = {c for c in (e.get("contact_tokens") or ()) if c is not None}
        if not contacts:
            return None
        bad = 0
        for c in contacts:
            links = tx.get("p|" + c)
            if not links:
                continue
            for u, lt in links.items():
                if lt < t:
                    od = tx.get("o|" + u)
                    if od is not None and od < t:
                        bad += 1
                        break
        return bad / len(contacts)

    def _shared(self, tx: Any, e: dict, t: int, w: int) -> int | None:
        cust = e.get("customer_id")
        if cust is None:
            return None
        keys = _link_keys(e)
        if not keys:
            return None
        seen: set[str] = set()
        for k in keys:
            st = tx.get("a|" + k)
            if st is None:
                continue
            ts = st["t"]
            hi = bisect_left(ts, t)
            lo = bisect_left(ts, t - w, 0, hi)
            seen.update(st["u"][lo:hi])
        seen.discard(cust)
        return len(seen)


def _link_keys(e: dict) -> list[str]:
    keys = []
    d = e.get("device_id")
    if d is not None:
        keys.append("d:" + d)
    for c in dict.fromkeys(e.get("contact_tokens") or ()):
        if c is not None:
            keys.append("c:" + c)
    return keys


__all__ = ["Callable", "LateEventError", "OnlineFeatures", "ts_us"]
