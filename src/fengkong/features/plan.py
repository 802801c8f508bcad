"""Generated per-event-type read and update functions for the online state (one straight-line function each).

For every event type the streams it reads and writes are known when the feature set is loaded, so the
key construction, the window bounds and the common aggregations (counts, prefix-sum sums and means)
are emitted as Python source with the constants inlined; everything else calls the generic helpers of
:mod:`fengkong.features.online`. The generated code computes exactly what the generic code does.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

from fengkong.features.spec import UNITS, Feature

Reader = Callable[[Any, dict, int, dict], None]
Writer = Callable[[Any, dict, int, str, int], None]


def _field_var(field: str) -> str:
    """The local a generated function binds an event field to (read once per event)."""
    return "f_" + field


def _bind_fields(streams: list[Any]) -> list[str]:
    """Lines binding every key field of the (non-list) streams once: ``f_<field> = e.get(field)``."""
    fields = dict.fromkeys(k for s in streams if not s.list_key for k in s.key)
    return [f"    {_field_var(k)} = e.get({k!r})" for k in fields]


def _key_code(stream: Any, var: str, ind: str) -> list[str]:
    """Lines setting ``var`` to the state key of ``e`` (None when a key field is missing)."""
    prefix = f"s|{stream.sid}|"
    if len(stream.key) == 1:
        f = _field_var(stream.key[0])
        return [f"{ind}{var} = None if {f} is None else f{prefix + '{' + f + '}'!r}"]
    kv = ", ".join(_field_var(k) for k in stream.key)
    return [f"{ind}{var} = None",
            f"{ind}if {' and '.join(f'{_field_var(k)} is not None' for k in stream.key)}:",
            f"{ind}    {var} = {prefix!r} + '\\x1f'.join([str(x) for x in ({kv},)])"]


def _agg_code(f: Feature, j: str, stream: Any, ind: str) -> list[str]:
    """Lines setting out[f.name] from a present state (``ts``, ``hi``, ``c`` bound); generic fallback."""
    name = repr(f.name)
    w = f.window_us
    if f.agg == "count":
        if w is None:
            return [f"{ind}out[{name}] = hi + (c['n'] if c else 0)"]
        return [f"{ind}out[{name}] = hi - bisect_left(ts, t - {w}, 0, hi)"]
    if f.agg in ("sum", "mean") and stream.prefix:
        lines = [f"{ind}cs = st['cs']"]
        lo = "0" if w is None else f"bisect_left(ts, t - {w}, 0, hi)"
        lines.append(f"{ind}lo = {lo}")
        extra_s = " + (c['s'] if c else 0)" if w is None else ""
        lines.append(f"{ind}tot = cs[hi] - cs[lo]{extra_s}")
        if f.agg == "sum":
            return [*lines, f"{ind}out[{name}] = tot"]
        extra_n = " + (c['nv'] if c else 0)" if w is None else ""
        return [*lines, f"{ind}cn = st['cn']", f"{ind}nn = cn[hi] - cn[lo]{extra_n}",
                f"{ind}out[{name}] = tot / nn if nn else None"]
    if f.agg in ("time_since_first", "time_since_last") and w is None:
        per = repr(1.0 / UNITS[f.unit])
        if f.agg == "time_since_first":
            return [f"{ind}if c and c['fa']:", f"{ind}    out[{name}] = (t - c['fa'][0]) * {per}",
                    f"{ind}elif hi:", f"{ind}    out[{name}] = (t - ts[0]) * {per}"]
        return [f"{ind}if hi:", f"{ind}    out[{name}] = (t - ts[hi - 1]) * {per}",
                f"{ind}elif c and c['la']:", f"{ind}    out[{name}] = (t - c['la'][0]) * {per}"]
    if f.agg == "distinct" and stream.lastseen:  # every value's last-seen time is before t (no later entry)
        if w is None:  # the last-seen index of a lifetime stream holds every value ever seen
            fast = [f"{ind}    out[{name}] = len(st['lv'])"]
        else:
            fast = [f"{ind}    ls = st['ls']", f"{ind}    out[{name}] = len(ls) - bisect_left(ls, t - {w})"]
        return [f"{ind}if hi == len(ts):", *fast, f"{ind}else:", f"{ind}    out[{name}] = _agg({j}, st, t)"]
    return [f"{ind}out[{name}] = _agg({j}, st, t)"]


def compile_reader(plan: list[tuple[Any, list[Feature]]], helpers: dict[str, Any], name: str = "") -> Reader:
    """One function ``read(tx, e, t, out)`` filling ``out`` with every planned feature."""
    ns: dict[str, Any] = {"bisect_left": bisect_left, **helpers}
    lines = ["def read(tx, e, t, out):", "    get = tx.data.get", *_bind_fields([s for s, _ in plan])]
    for i, (stream, feats) in enumerate(plan):
        ns[f"S{i}"] = stream
        ns[f"F{i}"] = feats
        for j, f in enumerate(feats):
            ns[f"F{i}_{j}"] = f
        if stream.list_key:
            lines.append(f"    _read_list(tx, e, t, S{i}, F{i}, out)")
            continue
        lines += _key_code(stream, "k", "    ")
        lines.append("    if k is not None:")
        lines.append("        st = get(k)")
        if stream.first_int:  # the state is the earliest time; every feature is time_since_first
            lines += ["        if st is not None:",
                      "            t0 = st if st.__class__ is int else _first_min(st, None)",
                      "            if t0 is not None and t0 < t:"]
            lines += [f"                out[{f.name!r}] = (t - t0) * {1.0 / UNITS[f.unit]!r}" for f in feats]
            continue
        zeros = [f for f in feats if f.agg in ("count", "sum", "distinct")]  # ``out`` starts as None everywhere
        lines.append("        if st is None:")
        lines += [f"            out[{f.name!r}] = 0" for f in zeros] or ["            pass"]
        lines.append("        else:")
        lines.append("            if st.__class__ is int:")  # a first-time state of a stream that grew: read as a list
        lines.append(f"                st = _from_first(st, S{i})")
        lines.append("            ts = st['t']")
        lines.append("            hi = bisect_left(ts, t)")
        lines.append("            c = st['c']")
        for j, f in enumerate(feats):
            lines += _agg_code(f, f"F{i}_{j}", stream, "            ")
    lines.append("    return None")
    exec(compile("\n".join(lines), f"<fengkong.features.plan reader {name}>", "exec"), ns)
    return ns["read"]


def _new_state_code(s: Any) -> str:
    """``_Stream.new_state()`` as a literal (the generated writer builds a state without a call)."""
    def lit(v: Any) -> str:
        return (f"array('q', {v.tolist()!r})" if len(v) else "array('q')") if isinstance(v, array) else repr(v)

    return "{" + ", ".join(f"{k!r}: {lit(v)}" for k, v in s.new_state().items()) + "}"


def _append_code(s: Any, i: int, ind: str) -> list[str]:
    """Lines appending the event at the end of ``st`` (``ts``, ``v`` bound): what ``_insert`` does there.

    An entry goes last when its time is after the last one (or equal, when event ids do not order ties).
    """
    later = "t > ts[-1]" if s.need_ids else "t >= ts[-1]"
    lines = [f"{ind}if not ts or {later}:", f"{ind}    ts.append(t)"]
    if s.value is not None:
        lines.append(f"{ind}    st['v'].append(v)")
    if s.need_ids:
        lines.append(f"{ind}    st['i'].append(eid)")
    if s.prefix:
        lines += [f"{ind}    cs = st['cs']",
                  f"{ind}    try:",
                  f"{ind}        cs.append(cs[-1] + (0 if v is None else int(v)))",
                  f"{ind}    except OverflowError:  # sums beyond int64: exact Python integers",
                  f"{ind}        cs = st['cs'] = list(cs)",
                  f"{ind}        cs.append(cs[-1] + (0 if v is None else int(v)))",
                  f"{ind}    cn = st['cn']",
                  f"{ind}    cn.append(cn[-1] + (v is not None))"]
    if s.lastseen:
        lines += [f"{ind}    if v is not None:",
                  f"{ind}        lv = st['lv']",
                  f"{ind}        old = lv.get(v)",
                  f"{ind}        if old is None or t > old:",
                  f"{ind}            ls = st['ls']",
                  f"{ind}            if old is not None:",
                  f"{ind}                del ls[bisect_left(ls, old)]",
                  f"{ind}            if not ls or t >= ls[-1]:",
                  f"{ind}                ls.append(t)",
                  f"{ind}            else:",
                  f"{ind}                ls.insert(bisect_right(ls, t), t)",
                  f"{ind}            lv[v] = t"]
    lines += [f"{ind}else:", f"{ind}    _insert(st, S{i}, t, eid, v)"]
    return lines


def _update_code(s: Any, i: int, ind: str) -> list[str]:
    """Lines folding the event into the state ``st`` of key ``k`` (``v`` bound; ``st`` None when new)."""
    return [f"{ind}if st is None:",
            f"{ind}    st = data[k] = {_new_state_code(s)}",
            f"{ind}elif st.__class__ is int:",  # a first-time state of a stream that grew (see _from_first)
            f"{ind}    st = data[k] = _from_first(st, S{i})",
            f"{ind}ts = st['t']",
            *_append_code(s, i, ind),
            f"{ind}cut = horizon - {s.keep_us}",
            f"{ind}if ts[0] < cut:",
            f"{ind}    n = bisect_left(ts, cut)",
            f"{ind}    if n >= _COMPACT_BATCH or (n >= _COMPACT_MIN and 4 * n >= len(ts)):",
            f"{ind}        _compact(st, cut, S{i}, force=True)",
            f"{ind}if track:",
            f"{ind}    mark(k)"]


def _inline(expr: Any, ns: dict[str, Any]) -> str:
    """The Python source of a compiled filter/value expression, its constants added to ``ns``."""
    ns.update(expr.python_names)
    return expr.python_source


_UNSET = object()


def _shared_filters(streams: list[Any]) -> dict[str, str]:
    """Filter sources used by more than one (non-list) stream → the local that memoises the result."""
    seen: dict[str, int] = {}
    for s in streams:
        if not s.list_key and s.filter is not None:
            seen[s.filter_expr.source] = seen.get(s.filter_expr.source, 0) + 1
    return {src: f"flt{j}" for j, src in enumerate(src for src, n in seen.items() if n > 1)}


def compile_writer(streams: list[Any], helpers: dict[str, Any], name: str = "") -> Writer:
    """One function ``write(tx, e, t, eid, horizon)`` inserting the event into every planned stream.

    The common case (an entry later than every stored one) is appended inline; out-of-order entries go
    through the generic ``_insert``. State values are updated in place in ``tx.data``; a store that
    checkpoints (``tx.tracks_dirty``) has the changed keys marked and its write counter moved once.
    """
    ns: dict[str, Any] = {"bisect_left": bisect_left, "bisect_right": bisect_right, "array": array, **helpers}
    lines = ["def write(tx, e, t, eid, horizon):", "    data = tx.data", "    get = data.get",
             "    track = tx.tracks_dirty",  # False for the memory store: nothing is ever checkpointed
             "    if track:", "        mark = tx.dirty.add", "        tx.writes += 1",
             *_bind_fields(streams)]
    shared = _shared_filters(streams)
    for var in shared.values():  # a filter several streams use is evaluated once, when first needed
        lines.append(f"    {var} = _UNSET")
    ns["_UNSET"] = _UNSET
    for i, s in enumerate(streams):
        ns[f"S{i}"] = s
        if s.list_key:  # one state per distinct non-null element, each updated as a single key's
            lines += [f"    lst = [x for x in dict.fromkeys(e.get({s.key[0]!r}) or ()) if x is not None]",
                      f"    if lst{' and ' + _inline(s.filter_expr, ns) if s.filter is not None else ''}:",
                      f"        v = {_inline(s.value_expr, ns) if s.value is not None else 'None'}",
                      "        for x in lst:",
                      f"            k = f{'s|' + s.sid + '|{x}'!r}",
                      "            st = get(k)",
                      *_update_code(s, i, "            ")]
            continue
        lines += _key_code(s, "k", "    ")
        cond = "k is not None"
        if s.filter is not None:
            flt = _inline(s.filter_expr, ns)
            var = shared.get(s.filter_expr.source)
            cond += f" and {flt}" if var is None else f" and (({var} := {flt}) if {var} is _UNSET else {var})"
        lines += [f"    if {cond}:", "        st = get(k)"]
        if s.first_int:  # one integer, the earliest time: an event changes it only when it is earlier
            lines += ["        if st.__class__ is not int or t < st:",
                      "            data[k] = _first_min(st, t)",
                      "            if track:",
                      "                mark(k)"]
            continue
        ind = "        "
        lines += [f"{ind}v = {_inline(s.value_expr, ns) if s.value is not None else 'None'}", *_update_code(s, i, ind)]
    lines.append("    return None")
    exec(compile("\n".join(lines), f"<fengkong.features.plan writer {name}>", "exec"), ns)
    return ns["write"]
