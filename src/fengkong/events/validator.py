"""Generated per-event-type validators: one straight-line function per event type, same results as the generic path.

Every field gets a fast test for the type it normally arrives as (an ``int`` in range, a non-empty ``str``
among its choices, an aware ``datetime`` in the allowed years, …); a value that passes is stored as it is
(a datetime converted to the event zone). Anything else goes through the generic ``slow(field, value)``
(coercion from text, the range checks and every error message), so the fast path can only skip work,
never accept what the generic path refuses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Validator = Callable[[Any, str], dict[str, Any]]


def _fast_test(f: Any, var: str, ns: dict[str, Any], i: int, bounds: tuple[int, int] | None,
               event_id_max: int) -> tuple[str, str]:
    """(condition under which ``var`` is already clean, the expression to store) for one field."""
    kind, checks = f.kind, []
    if f.choices is not None:
        ns[f"C{i}"] = frozenset(f.choices)
        checks.append(f"{var} in C{i}")
    if kind in ("int", "float"):
        if f.min is not None:
            checks.append(f"{var} >= {float(f.min)!r}")
        if f.max is not None:
            checks.append(f"{var} <= {float(f.max)!r}")
    if kind == "str":
        test = [f"type({var}) is str"]
        if f.required:
            test.append(f"{var}.strip()")
        if f.name == "event_id":
            test += [f"len({var}) <= {event_id_max}", f"{var}.isprintable()"]
        return " and ".join(test + checks), var
    if kind == "int":
        lo, hi = bounds or (0, 0)
        return " and ".join([f"type({var}) is int", f"{lo} <= {var} <= {hi}", *checks]), var
    if kind == "float":
        return " and ".join([f"type({var}) is float", f"isfinite({var})", *checks]), var
    if kind == "bool":
        return f"type({var}) is bool", var
    if kind == "datetime":
        return (f"type({var}) is datetime and {var}.tzinfo is not None and TS_MIN <= {var} < TS_MAX",
                f"{var}.astimezone(TZ)")
    if kind == "date":
        return f"type({var}) is date", var
    if kind == "list":
        return f"type({var}) is list and all(type(x) is str for x in {var})", f"list({var})"
    return "False", var


def compile_validator(fields: tuple[Any, ...], slow: Callable[[Any, Any], Any], missing: Callable[[Any], None],
                      int_bounds: Callable[[Any], tuple[int, int]], env: dict[str, Any]) -> Validator:
    """``validate(record, et) -> dict`` for one event type's ``fields``.

    ``slow(field, value)``: the generic coercion + range checks; ``missing(field)``: raises for a required
    field; ``env``: ``datetime``, ``date``, ``TS_MIN``, ``TS_MAX``, ``TZ`` and ``EVENT_ID_MAX``.
    """
    ns: dict[str, Any] = {"slow": slow, "missing": missing, "isfinite": math.isfinite, **env}
    lines = ["def validate(record, et):", "    get = record.get", "    out = {}"]
    for i, f in enumerate(fields):
        ns[f"F{i}"] = f
        name = repr(f.name)
        lines.append(f"    v = get({name})")
        if f.name == "event_type":
            lines += ["    if v is None:", "        v = et"]
        else:
            empty = "v is None" if f.kind == "str" else "v is None or v == ''"
            lines += [f"    if {empty}:",
                      f"        missing(F{i})" if f.required else f"        out[{name}] = None"]
        test, store = _fast_test(f, "v", ns, i, int_bounds(f) if f.kind == "int" else None, env["EVENT_ID_MAX"])
        head = "    if" if f.name == "event_type" else "    elif"
        lines += [f"{head} {test}:", f"        out[{name}] = {store}",
                  "    else:", f"        out[{name}] = slow(F{i}, v)"]
    lines.append("    return out")
    exec(compile("\n".join(lines), "<fengkong.events.validator>", "exec"), ns)
    return ns["validate"]
