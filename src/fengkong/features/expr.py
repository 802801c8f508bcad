"""Small filter/value expressions compiled twice: to a Polars expression and to Python source (a lambda).

Syntax is a Python subset: field names, literals, ``== != < <= > >=``, ``in``/``not in`` with a list,
``and or not``, ``+ - * // %``, ``is_null(x)``. Nulls propagate (Kleene logic); a null filter is false.
"""

from __future__ import annotations

import ast
import itertools
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
    """One parsed expression: ``polars`` (pl.Expr), ``python`` (event dict -> value), ``fields``, ``kind``.

    ``python_source`` is the same Python as one expression over the event dict ``e`` (for generated code),
    with its constants in ``python_names`` (walrus temporaries ``_x…`` are local to the expression).
    """

    def __init__(self, source: str, polars: pl.Expr, python: Callable[[dict], Any], fields: set[str], kind: str,
                 python_source: str = "", python_names: dict[str, Any] | None = None):
        self.source, self.polars, self.python, self.fields, self.kind = source, polars, python, fields, kind
        self.python_source, self.python_names = python_source, python_names or {}

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
    g = _Gen()
    pe, src, kind = _build(tree, where, fields, g)
    fn = eval(compile(f"lambda e: {src}", f"<feature expression {where}>", "eval"), dict(g.ns))
    return Compiled(source, pe, fn, fields, kind, src, g.ns)


def _lit(node: ast.AST, where: str) -> Any:
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str | int | float | bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value
    raise FeatureSpecError(f"{where}: only literals are allowed here, got {ast.unparse(node)!r}")


_CONST_IDS = itertools.count()


class _Gen:
    """Names for one expression's Python source: walrus temporaries and the sets of ``in`` lists."""

    def __init__(self) -> None:
        self.n = 0
        self.ns: dict[str, Any] = {}

    def tmp(self) -> str:
        self.n += 1
        return f"_x{self.n}"

    def const(self, value: Any) -> str:
        name = f"_k{next(_CONST_IDS)}"  # unique across expressions: generated code may inline several
        self.ns[name] = value
        return name


_PY_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_PY_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%"}


def _kleene(parts: list[str], is_and: bool, g: _Gen) -> str:
    """Python source of a Kleene ``and``/``or``: decided by the first false (true) operand, else null if any
    operand is null. Operands after the deciding one are not evaluated."""
    names = [g.tmp() for _ in parts]
    decide = " or ".join(f"((({n} := {p}) is not None) and {'not ' if is_and else ''}{n})"
                         for n, p in zip(names, parts, strict=True))
    unknown = " or ".join(f"{n} is None" for n in names)
    return f"({not is_and} if ({decide}) else (None if ({unknown}) else {is_and}))"


def _build(node: ast.AST, where: str, fields: set[str], g: _Gen) -> tuple[pl.Expr, str, str]:
    """(Polars expression, Python source over the event dict ``e``, value kind) of one node."""
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("True", "False"):
            return pl.lit(name == "True"), name, "bool"
        f = UNION_FIELDS.get(name)
        if f is None:
            raise FeatureSpecError(f"{where}: unknown event field {name!r}")
        fields.add(name)
        return pl.col(name), f"e.get({name!r})", f.kind
    if isinstance(node, ast.Constant):
        v = node.value
        kind = "bool" if isinstance(v, bool) else "int" if isinstance(v, int) else "float" if isinstance(
            v, float) else "str"
        return pl.lit(v), g.const(v) if isinstance(v, float) else repr(v), kind
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        pe, py, kind = _build(node.operand, where, fields, g)
        x = g.tmp()
        return -pe, f"(None if ({x} := {py}) is None else -{x})", kind
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        pe, py, _ = _build(node.operand, where, fields, g)
        x = g.tmp()
        return ~pe, f"(None if ({x} := {py}) is None else not {x})", "bool"
    if isinstance(node, ast.BoolOp):
        parts = [_build(v, where, fields, g) for v in node.values]
        is_and = isinstance(node.op, ast.And)
        pe = parts[0][0]
        for p in parts[1:]:
            pe = (pe & p[0]) if is_and else (pe | p[0])
        return pe, _kleene([p[1] for p in parts], is_and, g), "bool"
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise FeatureSpecError(f"{where}: chained comparisons are not supported: {ast.unparse(node)!r}")
        op = node.ops[0]
        lpe, lpy, _ = _build(node.left, where, fields, g)
        right = node.comparators[0]
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, ast.List | ast.Tuple):
                raise FeatureSpecError(f"{where}: 'in' needs a literal list, got {ast.unparse(right)!r}")
            vals = [_lit(v, where) for v in right.elts]
            neg = isinstance(op, ast.NotIn)
            pe = lpe.is_in(vals)
            pe = ~pe if neg else pe
            x, sv = g.tmp(), g.const(frozenset(vals))
            return pe, f"(None if ({x} := {lpy}) is None else ({x} {'not in' if neg else 'in'} {sv}))", "bool"
        if type(op) not in _PY_CMP:
            raise FeatureSpecError(f"{where}: unsupported comparison in {ast.unparse(node)!r}")
        rpe, rpy, _ = _build(right, where, fields, g)
        pe = _CMP[type(op)](lpe, rpe)
        a, b = g.tmp(), g.tmp()
        return pe, f"(None if ({a} := {lpy}) is None or ({b} := {rpy}) is None else {a} {_PY_CMP[type(op)]} {b})", "bool"
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        lpe, lpy, lk = _build(node.left, where, fields, g)
        rpe, rpy, rk = _build(node.right, where, fields, g)
        if lk not in ("int", "float") or rk not in ("int", "float"):
            raise FeatureSpecError(f"{where}: arithmetic needs numbers in {ast.unparse(node)!r}")
        pe = _BIN[type(node.op)](lpe, rpe)
        a, b = g.tmp(), g.tmp()
        zero = f" or {b} == 0" if type(node.op) in (ast.FloorDiv, ast.Mod) else ""
        if zero:
            pe = pl.when(rpe != 0).then(pe)
        py = f"(None if ({a} := {lpy}) is None or ({b} := {rpy}) is None{zero} else {a} {_PY_BIN[type(node.op)]} {b})"
        return pe, py, "float" if "float" in (lk, rk) else "int"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "is_null":
        if len(node.args) != 1:
            raise FeatureSpecError(f"{where}: is_null takes one argument")
        pe, py, _ = _build(node.args[0], where, fields, g)
        return pe.is_null(), f"({py} is None)", "bool"
    raise FeatureSpecError(f"{where}: unsupported expression {ast.unparse(node)!r}")
