"""Strategy expressions (``fengkong.strategy.expr``) compiled to Spark columns, for :mod:`fengkong.spark.stcode`.

The Spark twin of ``PlGen`` node for node: a comparison, ``in`` or ``between`` with a null operand is false, a
null condition is false, ÷0 is null, a divisor made of literals divides as Polars does (a product with its
reciprocal). Functions with no Spark builtin twin run as Arrow UDFs evaluating their Polars expression.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from fengkong.spark.errors import SparkUnsupportedError
from fengkong.strategy.expr import Node, Sym, _lit_type
from fengkong.strategy.expr_pl import PlGen
from fengkong.strategy.valuetypes import NUMERIC

#: Spark SQL type of each value type of the strategy language.
SPARK_TYPES = {
    "int": "long",
    "float": "double",
    "str": "string",
    "bool": "boolean",
    "datetime": "timestamp",
    "date": "date",
    "list": "array<string>",
}
CAST_TYPES = {"int": "long", "float": "double", "str": "string", "bool": "boolean"}
#: Functions with a Spark builtin translation; any other function runs as an Arrow UDF.
NATIVE = frozenset(
    {
        "abs",
        "floor",
        "ceil",
        "log",
        "exp",
        "days_between",
        "hour_of",
        "lower",
        "length",
        "round",
        "min",
        "max",
        "is_null",
        "coalesce",
        "if",
        "contains",
        "in_list",
    }
)
#: Transcendental functions: the JVM's and Polars' implementations differ in the last bit on about a third
#: of the inputs, so by default they are computed by the Polars engine (``jvm_math=False``).
TRANSCENDENTAL = frozenset({"log", "exp"})
US_PER_DAY = 86_400_000_000


def col(name: str) -> Any:
    """The column called ``name`` (dots and backticks are part of the name, not struct access)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def lit(v: Any, t: str | None = None) -> Any:
    from pyspark.sql import functions as F

    t = t or _lit_type(v)
    if v is None:
        return F.lit(None) if t == "null" else F.lit(None).cast(SPARK_TYPES.get(t, "double"))
    return F.lit(v).cast(SPARK_TYPES[t]) if t in SPARK_TYPES else F.lit(v)


def _false() -> Any:
    from pyspark.sql import functions as F

    return F.lit(False)


def fill_false(e: Any) -> Any:
    from pyspark.sql import functions as F

    return F.coalesce(e, F.lit(False))


def reduce_all(op: Callable[[Any, Any], Any], parts: list[Any]) -> Any:
    out = parts[0]
    for p in parts[1:]:
        out = op(out, p)
    return out


def any_of(cols: list[Any]) -> Any:
    return reduce_all(lambda a, b: a | b, cols) if cols else _false()


def least_greatest(which: str, parts: list[Any]) -> Any:
    from pyspark.sql import functions as F

    if len(parts) == 1:
        return parts[0]
    return (F.least if which == "min" else F.greatest)(*parts)


def isin(x: Any, values: list, in_type: str) -> Any:
    """Spark twin of ``fengkong.strategy.expr_pl.isin`` (ints and floats compare numerically; null gives null)."""
    from pyspark.sql import functions as F

    kinds = {_lit_type(v) for v in values}
    if not values:
        return F.when(x.isNotNull(), F.lit(False))
    if in_type in NUMERIC or kinds <= {"int", "float"}:
        if in_type == "float" or "float" in kinds:
            return x.cast("double").isin([float(v) for v in values])
        return x.cast("long").isin([int(v) for v in values])
    return x.isin(list(values))


class SparkGen:
    """Compiles checked expression ASTs to Spark columns; ``lists`` are the run's block/allow lists."""

    def __init__(
        self, lists: Mapping[str, Any] | None = None, where: str = "strategy", jvm_math: bool = False
    ):
        self.lists = {k: sorted(v) for k, v in (lists or {}).items()}
        self.where = where
        self.jvm_math = jvm_math
        self.udfs: list[str] = []

    def native(self, name: str) -> bool:
        """Whether function ``name`` compiles to Spark builtins (else an Arrow UDF of its Polars expression)."""
        return name in NATIVE and (self.jvm_math or name not in TRANSCENDENTAL)

    def bool_(self, n: Node) -> Any:
        if n.type == "null":
            return _false()
        e = self.expr(n)
        return fill_false(e) if n.nullable else e

    def expr(self, n: Node) -> Any:
        from pyspark.sql import functions as F

        op = n.op
        if op == "lit":
            return lit(n.value)
        if op == "name":
            return col(n.sym.column)
        if op in ("and", "or"):
            parts = [self.bool_(a) for a in n.args]
            return reduce_all((lambda a, b: a & b) if op == "and" else (lambda a, b: a | b), parts)
        if op == "not":
            return ~self.bool_(n.args[0])
        if op == "neg":
            return -self.expr(n.args[0])
        if op == "arith":
            a, b = (self.expr(x) for x in n.args)
            if n.value == "+":
                return a + b
            if n.value == "-":
                return a - b
            if n.value == "*":
                return a * b
            k = _constant(n.args[1])
            if k is not None:  # Polars divides by a scalar as a product with its reciprocal: the same bits
                return F.lit(None).cast("double") if k == 0 or k != k else a.cast("double") * (1.0 / k)
            return F.when(b != 0, a.cast("double") / b.cast("double"))
        if op == "cmp":
            if "null" in (n.args[0].type, n.args[1].type):
                return _false()
            a, b = (self.expr(x) for x in n.args)
            e = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[n.value]
            return fill_false(e)
        if op == "between":
            if any(x.type == "null" for x in n.args):
                return _false()
            a, lo, hi = (self.expr(x) for x in n.args)
            return fill_false((lo <= a) & (a <= hi))
        if op == "in":
            a, b = n.args
            if a.type == "null":
                return _false()
            ea = self.expr(a)
            if b.op == "list":
                vals = [x.value for x in b.args if x.value is not None]
                e = isin(ea, vals, a.type) if vals else _false()
            else:
                e = F.array_contains(self.expr(b), ea)
            e = fill_false(e) & ea.isNotNull()
            return (~e & ea.isNotNull()) if n.value else e
        if op == "call":
            if self.native(n.value):
                return _native(self, n.value, n.args)
            return self.udf_call(n)
        raise AssertionError(op)  # pragma: no cover - the parser produces only the ops above

    def udf_call(self, n: Node) -> Any:
        """A function with no Spark builtin twin: its Polars compilation as a vectorised Arrow UDF."""
        from fengkong.strategy import functions

        fn = functions.REGISTRY[n.value]
        args: list[Node] = []
        cols: list[Any] = []
        for a in n.args:
            if a.op == "lit":
                args.append(a)
                continue
            name = f"a{len(cols)}"
            sym = Sym(name, a.type, a.nullable, name, name, "event")
            args.append(Node("name", value=name, pos=a.pos, type=a.type, nullable=a.nullable, sym=sym))
            cols.append(self.expr(a))
        try:
            fn.pl_expr(PlGen({"lists": self.lists}), args)
        except Exception as exc:
            raise SparkUnsupportedError(
                f"{self.where}: function {n.value}() has no Spark translation ({type(exc).__name__}: {exc})"
            ) from None
        self.udfs.append(f"{n.value}()")
        rtype = SPARK_TYPES.get(n.type, "double")
        lists = self.lists
        if not cols:  # only literal arguments: evaluate once on the driver
            import polars as pl

            value = pl.select(fn.pl_expr(PlGen({"lists": lists}), args).alias("r")).item()
            return lit(value, n.type)
        return polars_udf(lambda g: fn.pl_expr(g, args), rtype, lists)(*cols)


def _constant(n: Node) -> float | None:
    """The value (as float) of a divisor made of literals only, which Polars divides by as a scalar."""
    stack = [n]
    while stack:
        x = stack.pop()
        if x.op not in ("lit", "arith", "neg") or (x.op == "lit" and not isinstance(x.value, int | float)):
            return None
        stack.extend(x.args)
    import polars as pl

    v = pl.select(PlGen().expr(n).cast(pl.Float64)).item()
    return None if v is None else float(v)


def plain_type(t: Any) -> Any:
    """The Arrow type Spark accepts back for ``t``: plain (not large / view) strings and lists."""
    import pyarrow as pa

    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_list(t) or pa.types.is_list(t):
        return pa.list_(plain_type(t.value_type))
    return t


def polars_udf(build: Callable[[PlGen], Any], rtype: str, lists: Mapping[str, Any]) -> Any:
    """An Arrow UDF over columns ``a0``, ``a1`` … evaluating the Polars expression ``build(PlGen)``."""
    from pyspark.sql.functions import ArrowUDFType, arrow_udf

    def run(*arrays: Any) -> Any:
        import polars as pl

        df = pl.DataFrame([pl.from_arrow(a).alias(f"a{i}") for i, a in enumerate(arrays)])
        out = df.select(build(PlGen({"lists": lists})).alias("r")).to_series().to_arrow()
        return out.cast(plain_type(out.type))

    with warnings.catch_warnings():  # "prefer type hints": a variadic function has none to give
        warnings.simplefilter("ignore", UserWarning)
        return arrow_udf(run, rtype, ArrowUDFType.SCALAR)


def pl_col(name: str) -> Any:
    import polars as pl

    return pl.col(name)


def _native(g: SparkGen, name: str, nodes: list[Node]) -> Any:
    from pyspark.sql import functions as F

    if name == "is_null":
        return g.expr(nodes[0]).isNull()
    if name == "in_list":
        values = g.lists.get(nodes[0].value, [])
        return fill_false(g.expr(nodes[1]).isin(values)) if values else _false()
    if name == "if":
        from fengkong.strategy.functions import _if_check

        t, _ = _if_check(nodes)
        a, b = g.expr(nodes[1]), g.expr(nodes[2])
        if t == "float":
            a, b = a.cast("double"), b.cast("double")
        return F.when(g.bool_(nodes[0]), a).otherwise(b)
    if name == "coalesce":
        from fengkong.strategy.functions import _coalesce_check

        t, _ = _coalesce_check(nodes)
        exprs = [g.expr(a) for a in nodes]
        return F.coalesce(*[e.cast("double") for e in exprs] if t == "float" else exprs)
    if name in ("min", "max"):
        exprs = [g.expr(a) for a in nodes]
        if any(a.type == "float" for a in nodes):
            exprs = [e.cast("double") for e in exprs]
        return least_greatest(name, exprs)
    if name == "contains":
        a, b = g.expr(nodes[0]), g.expr(nodes[1])
        e = F.array_contains(a, b) if nodes[0].type == "list" else a.contains(b)
        return fill_false(e & b.isNotNull())
    if name == "round":
        digits = nodes[1].value if len(nodes) == 2 else 0
        return _round(g.expr(nodes[0]), nodes[0].type, digits)
    x = g.expr(nodes[0])
    if name == "abs":
        return F.abs(x)
    if name == "lower":
        return F.lower(x)
    if name == "length":
        return F.when(x.isNotNull(), F.size(x).cast("long"))
    if name == "hour_of":
        from fengkong.events import TZ_NAME

        return F.hour(F.from_utc_timestamp(x, TZ_NAME)).cast("long")
    if name == "days_between":
        return _days_between(g, nodes)
    f = _nan_null(x)
    if name in ("floor", "ceil"):  # whole doubles (|x| ≥ 2^52, ±inf) are their own floor and ceiling
        fn = F.floor if name == "floor" else F.ceil
        return F.when(F.abs(f) >= float(2**52), f).otherwise(fn(f).cast("double"))
    if name == "log":
        return F.when(f > 0, F.log(f))
    if name == "exp":
        return F.when(f.isNotNull(), F.exp(F.least(f, F.lit(700.0))))
    raise AssertionError(name)  # pragma: no cover - NATIVE lists the names above


def _nan_null(x: Any) -> Any:
    from pyspark.sql import functions as F

    f = x.cast("double")
    return F.when(~F.isnan(f), f)


def _round(x: Any, t: str, digits: int) -> Any:
    """Polars ``round``: half to even on the double's decimal digits; ints unchanged."""
    from pyspark.sql import functions as F

    if t == "int":
        return x
    f = x.cast("double")
    return F.when(F.isnan(f) | (F.abs(f) == float("inf")), f).otherwise(F.bround(f, digits))


def _days_between(g: SparkGen, nodes: list[Node]) -> Any:
    from pyspark.sql import functions as F

    ta, tb = nodes[0].type, nodes[1].type
    a, b = g.expr(nodes[0]), g.expr(nodes[1])
    if ta == tb == "date":
        return F.datediff(b, a).cast("double")
    if "date" in (ta, tb):  # a date and a timestamp: as Polars, through the Polars compilation
        return g.udf_call(Node("call", list(nodes), value="days_between", type="float", nullable=True))
    # Polars divides a column by a scalar as a product with its reciprocal (bit for bit: the same here)
    return (F.unix_micros(b) - F.unix_micros(a)).cast("double") * (1.0 / US_PER_DAY)
