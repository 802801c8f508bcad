"""Feature filter/value expressions (``fengkong.features.expr``) compiled to Spark columns.

The declaration was parsed and type-checked by :func:`fengkong.features.expr.compile_expr`; this walks
the same Python-subset AST and emits the Spark twin of its Polars expression, node for node: Kleene
``and``/``or``/``not``, null-propagating comparisons and arithmetic, ``//`` and ``%`` with floor
semantics and null on a zero divisor, ``is_null``.
"""

from __future__ import annotations

import ast
from typing import Any

from fengkong.events import UNION_FIELDS
from fengkong.features.expr import Compiled, FeatureSpecError


def spark_column(c: Compiled) -> Any:
    """The Spark ``Column`` of a compiled feature expression."""
    return _build(ast.parse(c.source.strip(), mode="eval").body, c.source)[0]


def _lit_value(node: ast.AST) -> Any:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -node.operand.value  # type: ignore[attr-defined]
    return node.value  # type: ignore[attr-defined]


def _kind_of(v: Any) -> str:
    return "bool" if isinstance(v, bool) else "int" if isinstance(v, int) else "float" if isinstance(
        v, float) else "str"


def _build(node: ast.AST, src: str) -> tuple[Any, str]:
    from pyspark.sql import functions as F

    if isinstance(node, ast.Name):
        if node.id in ("True", "False"):
            return F.lit(node.id == "True"), "bool"
        return F.col(node.id), UNION_FIELDS[node.id].kind
    if isinstance(node, ast.Constant):
        v = node.value
        kind = _kind_of(v)
        return (F.lit(v).cast("long") if kind == "int" else F.lit(v)), kind
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        e, kind = _build(node.operand, src)
        return -e, kind
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        e, _ = _build(node.operand, src)
        return ~e, "bool"
    if isinstance(node, ast.BoolOp):
        parts = [_build(v, src)[0] for v in node.values]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if isinstance(node.op, ast.And) else (out | p)
        return out, "bool"
    if isinstance(node, ast.Compare):
        op = node.ops[0]
        left, _ = _build(node.left, src)
        right = node.comparators[0]
        if isinstance(op, ast.In | ast.NotIn):
            vals = [_lit_value(v) for v in right.elts]  # type: ignore[attr-defined]
            e = left.isin(vals) if vals else F.when(left.isNotNull(), F.lit(False))
            return (~e if isinstance(op, ast.NotIn) else e), "bool"
        r, _ = _build(right, src)
        fn = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
              ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}[type(op)]
        return fn(left, r), "bool"
    if isinstance(node, ast.BinOp):
        a, ak = _build(node.left, src)
        b, bk = _build(node.right, src)
        kind = "float" if "float" in (ak, bk) else "int"
        if isinstance(node.op, ast.Add):
            return a + b, kind
        if isinstance(node.op, ast.Sub):
            return a - b, kind
        if isinstance(node.op, ast.Mult):
            return a * b, kind
        if isinstance(node.op, ast.FloorDiv | ast.Mod):
            return F.when(b != 0, _floor_op(a, b, kind, isinstance(node.op, ast.Mod))), kind
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "is_null":
        e, _ = _build(node.args[0], src)
        return e.isNull(), "bool"
    raise FeatureSpecError(f"expression {src!r}: {ast.unparse(node)!r} has no Spark translation")


def _floor_op(a: Any, b: Any, kind: str, mod: bool) -> Any:
    """Python/Polars floor division and modulo (the result of ``%`` takes the divisor's sign)."""
    from pyspark.sql import functions as F

    if kind == "float":
        a, b = a.cast("double"), b.cast("double")
        q = F.floor(a / b).cast("double")
        return a - b * q if mod else q
    a, b = a.cast("long"), b.cast("long")
    r = a % b  # truncated: the sign of the dividend
    r = F.when((r != 0) & ((r < 0) != (b < 0)), r + b).otherwise(r)
    return r if mod else ((a - r) / b).cast("long")
