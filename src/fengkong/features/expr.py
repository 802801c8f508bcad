"""Small filter/value expressions compiled twice: to a Polars expression and to a Python closure.

Syntax is a Python subset: field names, literals, ``== != < <= > >=``, ``in``/``not in`` with a list,
``and or not``, ``+ - * // %``, ``is_null(x)``. Nulls propagate (Kleene logic); a null filter is false.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import polars as pl

from fengkong.errors import InputError
from fengkong.events import UNION_FIELDS


class FeatureSpecError(InputError, ValueError):
    """A feature declaration is invalid; the message names the feature and the field."""


_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Mod: operator.mod}


class Compiled:
    """One parsed expression: ``polars`` (pl.Expr), ``python`` (event dict -> value), ``fields``, ``kind``."""

    def __init__(self, source: str, polars: pl.Expr, python: Callable[[dict], Any], fields: set[str], kind: str):
        self.source, self.polars, self.python, self.fields, self.kind = source, polars, python, fields, kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compiled) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)


def compile_expr(source: str, where: str) -> Compiled:
    """Parse ``source``; errors name ``where`` (e.g. "feature app_cnt_id_1h, filter")."""
    try:
        tree = ast.parse(source.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FeatureSpecError(f"{where}: cannot parse {source!r}: {exc.msg}") from None
    fields: set[str] = set()
    pe, py, kind = _build(tree, where, fields)
    return Compiled(source, pe, py, fields, kind)


def _lit(node: ast.AST, where: str) -> Any:
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str | int | float | bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value
    raise FeatureSpecError(f"{where}: only literals are allowed here, got {ast.unparse(node)!r}")


def _build(node: ast.AST, where: str, fields: set[str]) -> tuple[pl.Expr, Callable[[dict], Any], str]:
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("True", "False"):
            v = name == "True"
            return pl.lit(v), (lambda e, v=v: v), "bool"
        f = UNION_FIELDS.get(name)
        if f is None:
            raise FeatureSpecError(f"{where}: unknown event field {name!r}")
        fields.add(name)
        return pl.col(name), (lambda e, n=name: e.get(n)), f.kind
    if isinstance(node, ast.Constant):
        v = node.value
        kind = "bool" if isinstance(v, bool) else "int" if isinstance(v, int) else "float" if isinstance(
            v, float) else "str"
        return pl.lit(v), (lambda e, v=v: v), kind
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        pe, py, kind = _build(node.operand, where, fields)
        return -pe, (lambda e: None if (x := py(e)) is None else -x), kind
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        pe, py, _ = _build(node.operand, where, fields)
        return ~pe, (lambda e: None if (x := py(e)) is None else not x), "bool"
    if isinstance(node, ast.BoolOp):
        parts = [_build(v, where, fields) for v in node.values]
        is_and = isinstance(node.op, ast.And)
        pe = parts[0][0]
        for p in parts[1:]:
            pe = (pe & p[0]) if is_and else (pe | p[0])
        pys = [p[1] for p in parts]

        def kleene(e: dict, pys=pys, is_and=is_and) -> Any:
            unknown = False
            for f in pys:
                x = f(e)
                if x is None:
                    unknown = True
                elif bool(x) != is_and:
                    return not is_and
            return None if unknown else is_and

        return pe, kleene, "bool"
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise FeatureSpecError(f"{where}: chained comparisons are not supported: {ast.unparse(node)!r}")
        op = node.ops[0]
        lpe, lpy, _ = _build(node.left, where, fields)
        right = node.comparators[0]
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, ast.List | ast.Tuple):
                raise FeatureSpecError(f"{where}: 'in' needs a literal list, got {ast.unparse(right)!r}")
            vals = [_lit(v, where) for v in right.elts]
            sv = frozenset(vals)
            neg = isinstance(op, ast.NotIn)
            pe = lpe.is_in(vals)
            pe = ~pe if neg else pe
            return pe, (lambda e: None if (x := lpy(e)) is None else ((x in sv) != neg)), "bool"
        if type(op) not in _CMP:
            raise FeatureSpecError(f"{where}: unsupported comparison in {ast.unparse(node)!r}")
        rpe, rpy, _ = _build(right, where, fields)
        fn = _CMP[type(op)]
        pe = fn(lpe, rpe)

        def cmp(e: dict, lpy=lpy, rpy=rpy, fn=fn) -> Any:
            a, b = lpy(e), rpy(e)
            return None if a is None or b is None else fn(a, b)

        return pe, cmp, "bool"
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        lpe, lpy, lk = _build(node.left, where, fields)
        rpe, rpy, rk = _build(node.right, where, fields)
        fn = _BIN[type(node.op)]
        if lk not in ("int", "float") or rk not in ("int", "float"):
            raise FeatureSpecError(f"{where}: arithmetic needs numbers in {ast.unparse(node)!r}")

        def arith(e: dict, lpy=lpy, rpy=rpy, fn=fn) -> Any:
            a, b = lpy(e), rpy(e)
            if a is None or b is None or (b == 0 and fn in (operator.floordiv, operator.mod)):
                return None
            return fn(a, b)

        pe = fn(lpe, rpe)
        if type(node.op) in (ast.FloorDiv, ast.Mod):
            pe = pl.when(rpe != 0).then(pe)
        return pe, arith, "float" if "float" in (lk, rk) else "int"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "is_null":
        if len(node.args) != 1:
            raise FeatureSpecError(f"{where}: is_null takes one argument")
        pe, py, _ = _build(node.args[0], where, fields)
        return pe.is_null(), (lambda e: py(e) is None), "bool"
    raise FeatureSpecError(f"{where}: unsupported expression {ast.unparse(node)!r}")
