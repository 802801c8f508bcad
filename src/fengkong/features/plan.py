"""Generated per-event-type read and update functions for the online state (one straight-line function each).

For every event type the streams it reads and writes are known when the feature set is loaded, so the
key construction, the window bounds and the common aggregations (counts, prefix-sum sums and means)
are emitted as Python source with the constants inlined; everything else calls the generic helpers of
:mod:`fengkong.features.online`. The generated code computes exactly what the generic code does.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from fengkong.features.spec import Feature

Reader = Callable[[Any, dict, int, dict], None]
Writer = Callable[[Any, dict, int, str, int], None]


def _key_code(stream: Any, var: str, ind: str) -> list[str]:
    """Lines setting ``var`` to the state key of ``e`` (None when a key field is missing)."""
    prefix = f"s|{stream.sid}|"
    if len(stream.key) == 1:
        return [f"{ind}{var} = e.get({stream.key[0]!r})",
                f"{ind}if {var} is not None:", f"{ind}    {var} = f{prefix + '{' + var + '}'!r}"]
    lines = [f"{ind}_kv = ({', '.join(f'e.get({k!r})' for k in stream.key)},)",
             f"{ind}{var} = None",
             f"{ind}if {' and '.join(f'_kv[{j}] is not None' for j in range(len(stream.key)))}:",
             f"{ind}    {var} = {prefix!r} + '\\x1f'.join([str(x) for x in _kv])"]
    return lines


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
    return [f"{ind}out[{name}] = _agg({j}, st, t)"]


def compile_reader(plan: list[tuple[Any, list[Feature]]], helpers: dict[str, Any]) -> Reader:
    """One function ``read(tx, e, t, out)`` filling ``out`` with every planned feature."""
    ns: dict[str, Any] = {"bisect_left": bisect_left, **helpers}
    lines = ["def read(tx, e, t, out):", "    get = tx.get"]
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
        lines.append("        if st is None:")
        for f in feats:
            lines.append(f"            out[{f.name!r}] = {0 if f.agg in ('count', 'sum', 'distinct') else None}")
        lines.append("        else:")
        lines.append("            ts = st['t']")
        lines.append("            hi = bisect_left(ts, t)")
        lines.append("            c = st['c']")
        for j, f in enumerate(feats):
            lines += _agg_code(f, f"F{i}_{j}", stream, "            ")
    lines.append("    return None")
    exec(compile("\n".join(lines), "<fengkong.features.plan reader>", "exec"), ns)
    return ns["read"]


def compile_writer(streams: list[Any], helpers: dict[str, Any]) -> Writer:
    """One function ``write(tx, e, t, eid, horizon)`` inserting the event into every planned stream."""
    ns: dict[str, Any] = {"bisect_left": bisect_left, **helpers}
    lines = ["def write(tx, e, t, eid, horizon):", "    get = tx.get", "    put = tx.put"]
    for i, s in enumerate(streams):
        ns[f"S{i}"] = s
        ns[f"FLT{i}"] = s.filter
        ns[f"VAL{i}"] = s.value
        if s.list_key:
            lines.append(f"    _write_list(tx, e, t, eid, horizon, S{i})")
            continue
        lines += _key_code(s, "k", "    ")
        cond = "k is not None" + (f" and FLT{i}(e)" if s.filter is not None else "")
        lines += [f"    if {cond}:",
                  "        st = get(k)",
                  "        if st is None:",
                  f"            st = S{i}.new_state()",
                  f"        _insert(st, S{i}, t, eid, {f'VAL{i}(e)' if s.value is not None else 'None'})",
                  "        ts = st['t']",
                  f"        cut = horizon - {s.keep_us}",
                  "        if ts[0] < cut:",
                  "            n = bisect_left(ts, cut)",
                  "            if n >= 64 or 4 * n >= len(ts):",
                  f"                _compact(st, cut, S{i}, force=True)",
                  "        put(k, st)"]
    lines.append("    return None")
    exec(compile("\n".join(lines), "<fengkong.features.plan writer>", "exec"), ns)
    return ns["write"]
