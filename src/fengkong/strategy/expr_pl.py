"""Polars expressions for checked expressions: the code generator of the frame path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fengkong.strategy.expr import Node, _lit_type
from fengkong.strategy.valuetypes import NUMERIC


class PlGen:
    """Compiles checked ASTs to Polars expressions. ``ctx`` carries run-time data (lists)."""

    def __init__(self, ctx: Mapping[str, Any] | None = None):
        self.ctx = dict(ctx or {})

    def bool_(self, n: Node) -> Any:
        import polars as pl

        if n.type == "null":
            return pl.lit(False)
        e = self.expr(n)
        return e.fill_null(False) if n.nullable else e

    def expr(self, n: Node) -> Any:
        import polars as pl

        op = n.op
        if op == "lit":
            if n.value is None:
                return pl.lit(None)
            dtype = {bool: pl.Boolean, int: pl.Int64, float: pl.Float64, str: pl.Utf8}[type(n.value)]
            return pl.lit(n.value, dtype=dtype)
        if op == "name":
            return pl.col(n.sym.column)
        if op == "and":
            out = self.bool_(n.args[0])
            for a in n.args[1:]:
                out = out & self.bool_(a)
            return out
        if op == "or":
            out = self.bool_(n.args[0])
            for a in n.args[1:]:
                out = out | self.bool_(a)
            return out
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
            return pl.when(b != 0).then(a.cast(pl.Float64) / b.cast(pl.Float64)).otherwise(None)
        if op == "cmp":
            if "null" in (n.args[0].type, n.args[1].type):
                return pl.lit(False)
            a, b = (self.expr(x) for x in n.args)
            e = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[n.value]
            return e.fill_null(False)
        if op == "between":
            if any(x.type == "null" for x in n.args):
                return pl.lit(False)
            a, lo, hi = (self.expr(x) for x in n.args)
            return ((lo <= a) & (a <= hi)).fill_null(False)
        if op == "in":
            a, b = n.args
            if a.type == "null":
                return pl.lit(False)
            ea = self.expr(a)
            if b.op == "list":
                vals = [x.value for x in b.args if x.value is not None]
                e = isin(ea, vals, a.type) if vals else pl.lit(False)
            else:
                e = self.expr(b).list.contains(ea)
            e = e.fill_null(False) & ea.is_not_null()
            return (~e & ea.is_not_null()) if n.value else e
        if op == "call":
            from fengkong.strategy import functions

            return functions.REGISTRY[n.value].pl_expr(self, n.args)
        raise AssertionError(op)


def isin(x: Any, values: list, in_type: str) -> Any:
    """``x`` is one of ``values`` (Polars); ints and floats compare numerically, nulls give null."""
    import polars as pl

    kinds = {_lit_type(v) for v in values}
    if in_type in NUMERIC or kinds <= {"int", "float"}:
        if in_type == "float" or "float" in kinds:
            return x.cast(pl.Float64).is_in(pl.Series([float(v) for v in values], dtype=pl.Float64).implode())
        return x.cast(pl.Int64).is_in(pl.Series(values, dtype=pl.Int64).implode())
    return x.is_in(pl.Series(values, dtype=_pl_dtype(in_type if in_type != "null" else kinds.pop())).implode())


def _pl_dtype(t: str) -> Any:
    import polars as pl

    return {"int": pl.Int64, "float": pl.Float64, "str": pl.Utf8, "bool": pl.Boolean}.get(t, pl.Utf8)
