"""The function registry of the expression language: name → type rule, Python and Polars implementation.

Other packs add functions with :func:`register_function` (no parser changes needed)::

    from fengkong.strategy.functions import register_function
    register_function("risk_price", py=my_py_impl, pl=my_polars_impl,
                      args=("float", "int"), returns="float", doc="APR for a PD and a term")

``py`` receives non-null Python values; ``pl`` receives Polars expressions and must propagate nulls
(most Polars operations do). A null argument makes the result null without calling ``py``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from fengkong.strategy.valuetypes import NUMERIC, unify

if TYPE_CHECKING:  # the expression's nodes and code generators: annotations only (expr imports this module)
    from fengkong.strategy.expr import Node
    from fengkong.strategy.expr_pl import PlGen
    from fengkong.strategy.expr_py import PyGen

TYPES = ("int", "float", "bool", "str", "datetime", "date", "list")


class ArgError(TypeError):
    """A type rule's complaint about one argument: ``pos`` is that argument's offset in the expression."""

    def __init__(self, msg: str, pos: int):
        super().__init__(msg)
        self.pos = pos


@dataclass
class Function:
    """One function of the language."""

    name: str
    doc: str
    signature: str
    check: Callable[[list[Node]], tuple[str, bool]]
    py_source: Callable[[PyGen, list[Node]], str]
    pl_expr: Callable[[PlGen, list[Node]], Any]


REGISTRY: dict[str, Function] = {}

#: Packs contribute functions as ``Pack.strategy_functions`` (:mod:`fengkong.packs`): modules that call
#: :func:`register_function` when imported. Installs made before ``fengkong.packs`` used this group.
PLUGIN_GROUP = "fengkong.strategy_functions"
_plugins_loaded = -1  # the pack registry generation whose function modules are imported


def lookup(name: str) -> Function | None:
    """The function called ``name``; imports the registered packs' function modules when one is missing."""
    global _plugins_loaded
    fn = REGISTRY.get(name)
    if fn is None:
        from importlib import import_module

        from fengkong import packs

        if _plugins_loaded != packs.generation():
            _plugins_loaded = packs.generation()
            for pack in packs.packs():
                for module in pack.strategy_functions:
                    import_module(module)
            fn = REGISTRY.get(name)
    return fn


def _accepts(spec: str, t: str) -> bool:
    if t == "null" or spec == "any":
        return True
    return any(t == s or (s == "num" and t in NUMERIC) for s in spec.split("|"))


def register_function(
    name: str,
    *,
    py: Callable[..., Any],
    pl: Callable[..., Any],
    args: Sequence[str],
    returns: str,
    doc: str = "",
    replace: bool = False,
) -> Function:
    """Register a null-propagating function.

    ``args``: one type spec per argument: a type ("int", "float", "str", "bool", "datetime", "date",
    "list"), "num" (int or float), "any", or alternatives joined by "|". ``returns``: a type, or "num"
    (int when every numeric argument is int, else float).
    """
    if name in REGISTRY and not replace:
        raise ValueError(f"function {name!r} is already registered")
    n_args = len(args)

    def check(nodes: list[Node]) -> tuple[str, bool]:
        if len(nodes) != n_args:
            raise TypeError(f"takes {n_args} argument(s), got {len(nodes)}")
        for i, (spec, a) in enumerate(zip(args, nodes, strict=True)):
            if not _accepts(spec, a.type):
                raise TypeError(f"argument {i + 1} must be {spec}, got {a.type}")
        if returns == "num":
            ts = [a.type for a in nodes if a.type in NUMERIC]
            rt = "int" if ts and all(t == "int" for t in ts) else "float"
        else:
            rt = returns
        return rt, True

    def py_source(g: PyGen, nodes: list[Node]) -> str:
        fn = g.const(py, "_fn")
        conds: list[str] = []
        refs: list[str] = []
        for a in nodes:
            if a.type == "null":
                return "None"
            if a.nullable:
                b, r = g._bind(a)
                conds.append(f"{b} is None")
                refs.append(r)
            else:
                refs.append(g.expr(a))
        call = f"{fn}({', '.join(refs)})"
        return f"(None if {' or '.join(conds)} else {call})" if conds else call

    def pl_expr(g: PlGen, nodes: list[Node]) -> Any:
        return pl(*(g.expr(a) for a in nodes))

    sig = f"{name}({', '.join(args)}) -> {returns}"
    f = Function(name, doc, sig, check, py_source, pl_expr)
    REGISTRY[name] = f
    return f


def _special(name: str, signature: str, doc: str, check: Callable, py_source: Callable, pl_expr: Callable) -> None:
    REGISTRY[name] = Function(name, doc, signature, check, py_source, pl_expr)


# ---------------------------------------------------------------- generic built-ins


def _pl():
    import polars as pl

    return pl


def _round_py(x: float | int, n: int = 0) -> float | int:
    if isinstance(x, int):
        return x
    if math.isnan(x) or math.isinf(x):
        return x
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_EVEN))


US_PER_DAY = 86_400_000_000


def _days_between_py(a: Any, b: Any) -> float:
    if isinstance(a, dt.datetime):
        return ((b - a) // dt.timedelta(microseconds=1)) / US_PER_DAY
    return float((b - a).days)


def _days_between_pl(a: Any, b: Any) -> Any:
    pl = _pl()
    d = b - a
    return d.dt.total_microseconds().cast(pl.Float64) / US_PER_DAY


def _hour_py(ts: dt.datetime) -> int:
    from fengkong.events import TZ

    return ts.astimezone(TZ).hour


def _hour_pl(e: Any) -> Any:
    from fengkong.events import TZ_NAME

    pl = _pl()
    return e.dt.convert_time_zone(TZ_NAME).dt.hour().cast(pl.Int64)


register_function("abs", py=abs, pl=lambda e: e.abs(), args=("num",), returns="num", doc="Absolute value.")
def _is_nan(x: Any) -> bool:
    return isinstance(x, float) and x != x


def _nan_null(e: Any) -> Any:
    """A Float64 expression with NaN turned into null (NaN counts as missing, as on the Python side)."""
    f = e.cast(_pl().Float64)
    return f.fill_nan(None)


def _floor_py(x: float | int) -> float | None:
    if _is_nan(x):
        return None
    return float(x) if math.isinf(x) else float(math.floor(x))


def _ceil_py(x: float | int) -> float | None:
    if _is_nan(x):
        return None
    return float(x) if math.isinf(x) else float(math.ceil(x))


def _log_py(x: float | int) -> float | None:
    if _is_nan(x) or x <= 0:
        return None
    return math.log(x)


def _log_pl(e: Any) -> Any:
    f = _nan_null(e)
    return _pl().when(f > 0).then(f.log()).otherwise(None)


def _exp_py(x: float | int) -> float | None:
    if _is_nan(x):
        return None
    return math.exp(min(x, 700.0))


def _exp_pl(e: Any) -> Any:
    f = _nan_null(e)
    return _pl().when(f.is_not_null()).then(_pl().min_horizontal(f, _pl().lit(700.0)).exp()).otherwise(None)


# NaN arguments (e.g. a feature computed as 0/0 upstream) are null for these functions in both
# compilations: the result is null, never NaN, and Python and Polars agree.
register_function("floor", py=_floor_py, pl=lambda e: _nan_null(e).floor(),
                  args=("num",), returns="float", doc="Largest whole number ≤ x (as float); null for NaN.")
register_function("ceil", py=_ceil_py, pl=lambda e: _nan_null(e).ceil(),
                  args=("num",), returns="float", doc="Smallest whole number ≥ x (as float); null for NaN.")
register_function("log", py=_log_py, pl=_log_pl,
                  args=("num",), returns="float", doc="Natural logarithm; null for x ≤ 0 and for NaN.")
register_function("exp", py=_exp_py, pl=_exp_pl,
                  args=("num",), returns="float", doc="e**x (x capped at 700); null for NaN.")
register_function("days_between", py=_days_between_py, pl=_days_between_pl, args=("datetime|date", "datetime|date"),
                  returns="float", doc="(b − a) in days, fractional for timestamps.")
register_function("hour_of", py=_hour_py, pl=_hour_pl, args=("datetime",), returns="int",
                  doc="Hour of day (0–23) in Asia/Shanghai.")
register_function("lower", py=str.lower, pl=lambda e: e.str.to_lowercase(), args=("str",), returns="str",
                  doc="Lower-case text.")
register_function("length", py=len, pl=lambda e: e.list.len().cast(_pl().Int64), args=("list",), returns="int",
                  doc="Number of items in a list field.")


# ---------------------------------------------------------------- special forms


def _arity(nodes: list[Node], lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(nodes) <= hi:
        want = str(lo) if lo == hi else f"{lo}–{hi}"
        raise TypeError(f"takes {want} argument(s), got {len(nodes)}")


def _round_check(nodes: list[Node]) -> tuple[str, bool]:
    _arity(nodes, 1, 2)
    if nodes[0].type not in (*NUMERIC, "null"):
        raise TypeError(f"argument 1 must be a number, got {nodes[0].type}")
    if len(nodes) == 2 and not (nodes[1].op == "lit" and nodes[1].type == "int"):
        raise TypeError("argument 2 (decimals) must be an integer literal")
    if len(nodes) == 2 and not 0 <= nodes[1].value <= 15:
        raise ArgError("argument 2 (decimals) must be between 0 and 15", nodes[1].pos)
    return nodes[0].type if nodes[0].type != "null" else "float", nodes[0].nullable


def _round_py_src(g: PyGen, nodes: list[Node]) -> str:
    fn = g.const(_round_py, "_fn")
    nd = g.lit(int(nodes[1].value) if len(nodes) == 2 else 0)
    a = nodes[0]
    if not a.nullable:
        return f"{fn}({g.expr(a)}, {nd})"
    b, r = g._bind(a)
    return f"(None if {b} is None else {fn}({r}, {nd}))"


_special("round", "round(num[, decimals]) -> num", "Round half to even (decimals an integer literal).",
         _round_check, _round_py_src,
         lambda g, n: g.expr(n[0]).round(n[1].value if len(n) == 2 else 0))


def _minmax_check(nodes: list[Node]) -> tuple[str, bool]:
    if len(nodes) < 2:
        raise TypeError("takes at least 2 arguments")
    t = "null"
    for a in nodes:
        if a.type not in (*NUMERIC, "null"):
            raise TypeError(f"arguments must be numbers, got {a.type}")
        t = unify(t, a.type) or "float"
    return t if t != "null" else "float", all(a.nullable for a in nodes)


def _minmax_py(which: str) -> Callable[[PyGen, list[Node]], str]:
    def gen(g: PyGen, nodes: list[Node]) -> str:
        if not any(a.nullable for a in nodes):
            return f"{which}({', '.join(g.expr(a) for a in nodes)})"
        fn = g.const(_nullmin if which == "min" else _nullmax, "_fn")
        return f"{fn}({', '.join(g.expr(a) for a in nodes)})"

    return gen


def _nullmin(*xs: Any) -> Any:
    vals = [x for x in xs if x is not None]
    return min(vals) if vals else None


def _nullmax(*xs: Any) -> Any:
    vals = [x for x in xs if x is not None]
    return max(vals) if vals else None


def _cast_float_if(nodes: list[Node], exprs: list[Any]) -> list[Any]:
    if any(a.type == "float" for a in nodes):
        return [e.cast(_pl().Float64) for e in exprs]
    return exprs


_special("min", "min(num, num, ...) -> num", "Smallest non-null argument; null when all are null.",
         _minmax_check, _minmax_py("min"),
         lambda g, n: _pl().min_horizontal(*_cast_float_if(n, [g.expr(a) for a in n])))
_special("max", "max(num, num, ...) -> num", "Largest non-null argument; null when all are null.",
         _minmax_check, _minmax_py("max"),
         lambda g, n: _pl().max_horizontal(*_cast_float_if(n, [g.expr(a) for a in n])))


def _isnull_check(nodes: list[Node]) -> tuple[str, bool]:
    _arity(nodes, 1)
    return "bool", False


_special("is_null", "is_null(any) -> bool", "True when the value is null (missing).", _isnull_check,
         lambda g, n: f"({g.expr(n[0])} is None)", lambda g, n: g.expr(n[0]).is_null())


def _coalesce_check(nodes: list[Node]) -> tuple[str, bool]:
    if len(nodes) < 2:
        raise TypeError("takes at least 2 arguments")
    t = "null"
    for a in nodes:
        u = unify(t, a.type)
        if u is None:
            raise TypeError(f"arguments have incompatible types {t} and {a.type}")
        t = u
    return t, all(a.nullable for a in nodes)


def _coalesce_py(g: PyGen, nodes: list[Node]) -> str:
    out = g.expr(nodes[-1])
    for a in reversed(nodes[:-1]):
        if not a.nullable:
            out = g.expr(a)
            continue
        b, r = g._bind(a)
        out = f"({r} if {b} is not None else {out})"
    return out


def _coalesce_pl(g: PlGen, nodes: list[Node]) -> Any:
    exprs = [g.expr(a) for a in nodes]
    t, _ = _coalesce_check(nodes)
    if t == "float":
        exprs = [e.cast(_pl().Float64) for e in exprs]
    return _pl().coalesce(exprs)


_special("coalesce", "coalesce(a, b, ...) -> type of a", "First non-null argument.", _coalesce_check,
         _coalesce_py, _coalesce_pl)


def _if_check(nodes: list[Node]) -> tuple[str, bool]:
    _arity(nodes, 3)
    if nodes[0].type not in ("bool", "null"):
        raise TypeError(f"argument 1 must be a condition, got {nodes[0].type}")
    t = unify(nodes[1].type, nodes[2].type)
    if t is None:
        raise TypeError(f"branches have incompatible types {nodes[1].type} and {nodes[2].type}")
    return t, nodes[1].nullable or nodes[2].nullable


def _if_pl(g: PlGen, nodes: list[Node]) -> Any:
    t, _ = _if_check(nodes)
    a, b = g.expr(nodes[1]), g.expr(nodes[2])
    if t == "float":
        a, b = a.cast(_pl().Float64), b.cast(_pl().Float64)
    return _pl().when(g.bool_(nodes[0])).then(a).otherwise(b)


_special("if", "if(condition, a, b) -> a|b", "a when the condition is true, else b.", _if_check,
         lambda g, n: f"({g.expr(n[1])} if {g.bool_(n[0])} else {g.expr(n[2])})", _if_pl)


def _matches_check(nodes: list[Node]) -> tuple[str, bool]:
    from fengkong.strategy.patterns import PatternError, translate

    _arity(nodes, 2)
    if nodes[0].type not in ("str", "null"):
        raise TypeError(f"argument 1 must be str, got {nodes[0].type}")
    if not (nodes[1].op == "lit" and nodes[1].type == "str"):
        raise ArgError("argument 2 (the pattern) must be a string literal", nodes[1].pos)
    try:
        translate(nodes[1].value)
    except PatternError as exc:
        raise ArgError(f"bad regular expression {nodes[1].value!r}: {exc}", nodes[1].pos) from None
    return "bool", False


def _matches_py(g: PyGen, nodes: list[Node]) -> str:
    from fengkong.strategy.patterns import compile_re2, translate

    rx = g.const(compile_re2(translate(nodes[1].value)), "_re")
    return g._guarded([nodes[0]], lambda r: f"{rx}.search({r[0]}) is not None")


def _matches_pl(g: PlGen, nodes: list[Node]) -> Any:
    from fengkong.strategy.patterns import translate

    return g.expr(nodes[0]).str.contains(translate(nodes[1].value).rust).fill_null(False)


_special("matches", "matches(str, 'regex') -> bool",
         "Regular-expression search, linear time (RE2 syntax; \\d \\w \\s \\b are ASCII; false for null).",
         _matches_check, _matches_py, _matches_pl)


def _contains_check(nodes: list[Node]) -> tuple[str, bool]:
    _arity(nodes, 2)
    a, b = nodes
    if a.type not in ("str", "list", "null") or b.type not in ("str", "null"):
        raise TypeError(f"expects (str, str) or (list, str), got ({a.type}, {b.type})")
    return "bool", False


def _contains_pl(g: PlGen, nodes: list[Node]) -> Any:
    a, b = g.expr(nodes[0]), g.expr(nodes[1])
    if nodes[0].type == "list":
        e = a.list.contains(b)
    elif nodes[1].op == "lit":
        e = a.str.contains(nodes[1].value, literal=True)
    else:
        e = a.str.contains(b, literal=True)
    return (e & b.is_not_null()).fill_null(False)


_special("contains", "contains(str|list, str) -> bool", "Substring test, or membership in a list field.",
         _contains_check, lambda g, n: g._guarded(n, lambda r: f"{r[1]} in {r[0]}"), _contains_pl)


def _in_list_check(nodes: list[Node]) -> tuple[str, bool]:
    _arity(nodes, 2)
    if not (nodes[0].op == "lit" and nodes[0].type == "str"):
        raise TypeError("argument 1 (the list name) must be a string literal")
    if nodes[1].type not in ("str", "null"):
        raise TypeError(f"argument 2 must be str, got {nodes[1].type}")
    return "bool", False


def _in_list_py(g: PyGen, nodes: list[Node]) -> str:
    name = nodes[0].value
    g.lists.add(name)
    return g._guarded([nodes[1]], lambda r: f"{r[0]} in L.get({name!r}, _EMPTY)")


def _in_list_pl(g: PlGen, nodes: list[Node]) -> Any:
    pl = _pl()
    values = sorted(g.ctx.get("lists", {}).get(nodes[0].value, ()))
    if not values:
        return pl.lit(False)
    e = g.expr(nodes[1])
    return e.is_in(pl.Series(values, dtype=pl.Utf8).implode()).fill_null(False)


_special("in_list", "in_list('list_name', str) -> bool",
         "Membership in a block/allow/watch list of the store (active, unexpired entries).",
         _in_list_check, _in_list_py, _in_list_pl)
