"""The expression language: tokenise, parse, type-check, and compile to Python source or Polars.

Safe by construction: the grammar has no attribute access, no indexing and no calls except to
functions in the registry (:mod:`fengkong.strategy.functions`). Null semantics: arithmetic and
functions propagate null; a comparison, ``in`` or ``between`` with a null operand is *false*; a
null boolean is false wherever a condition is needed. ``is_null`` and ``coalesce`` see raw nulls.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fengkong.strategy.errors import StrategyError
from fengkong.strategy.located import Loc
from fengkong.strategy.valuetypes import NUMERIC, comparable, unify

KEYWORDS = {"and", "or", "not", "in", "between", "true", "false", "null"}

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>\d+\.\d*(?:[eE][+-]?\d+)?|\d*\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
    )""",
    re.X,
)


@dataclass(frozen=True)
class Sym:
    """A name visible to expressions: its type, nullability, Python variable and Polars column."""

    name: str
    type: str
    nullable: bool
    pyvar: str
    column: str
    source: str  # event | feature | node | builtin
    node: str | None = None  # the node that computes it (for ordering / cycle checks)


@dataclass(eq=False)
class Node:
    """One AST node. ``type``/``nullable`` are filled in by the type checker."""

    op: str
    args: list[Node] = field(default_factory=list)
    value: Any = None
    pos: int = 0
    type: str = ""
    nullable: bool = False
    sym: Sym | None = None


class ExprSyntaxError(Exception):
    def __init__(self, msg: str, pos: int):
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s[1:-1])


def tokenize(text: str) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i:].strip() == "":
            break
        m = _TOKEN.match(text, i)
        if not m or m.end() == i:
            j = i
            while j < n and text[j].isspace():
                j += 1
            raise ExprSyntaxError(f"unexpected character {text[j]!r}", j)
        kind = m.lastgroup
        start = m.start(kind)
        tok = m.group(kind)
        if kind == "num":
            out.append(("num", float(tok) if any(c in tok for c in ".eE") else int(tok), start))
        elif kind == "str":
            out.append(("str", _unescape(tok), start))
        elif kind == "name" and tok in KEYWORDS:
            out.append(("kw", tok, start))
        else:
            out.append((kind, tok, start))
        i = m.end()
    out.append(("end", None, n))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, Any, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, Any, int]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def accept(self, kind: str, value: Any = None) -> tuple[str, Any, int] | None:
        t = self.peek()
        if t[0] == kind and (value is None or t[1] == value):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, value: Any = None) -> tuple[str, Any, int]:
        t = self.accept(kind, value)
        if t is None:
            got = self.peek()
            what = "end of expression" if got[0] == "end" else repr(got[1])
            raise ExprSyntaxError(f"expected {value or kind}, found {what}", got[2])
        return t

    def parse(self) -> Node:
        node = self.or_()
        t = self.peek()
        if t[0] != "end":
            raise ExprSyntaxError(f"unexpected {t[1]!r}", t[2])
        return node

    def or_(self) -> Node:
        left = self.and_()
        while (t := self.accept("kw", "or")) is not None:
            left = Node("or", [left, self.and_()], pos=t[2])
        return left

    def and_(self) -> Node:
        left = self.not_()
        while (t := self.accept("kw", "and")) is not None:
            left = Node("and", [left, self.not_()], pos=t[2])
        return left

    def not_(self) -> Node:
        t = self.accept("kw", "not")
        if t is not None:
            return Node("not", [self.not_()], pos=t[2])
        return self.cmp()

    def cmp(self) -> Node:
        left = self.add()
        t = self.peek()
        if t[0] == "op" and t[1] in ("<", "<=", ">", ">=", "==", "!="):
            self.take()
            return Node("cmp", [left, self.add()], value=t[1], pos=t[2])
        if t[0] == "kw" and t[1] == "between":
            self.take()
            lo = self.add()
            self.expect("kw", "and")
            return Node("between", [left, lo, self.add()], pos=t[2])
        negate = False
        if t[0] == "kw" and t[1] == "not" and self.toks[self.i + 1][:2] == ("kw", "in"):
            self.take()
            negate = True
        if self.peek()[:2] == ("kw", "in"):
            t2 = self.take()
            return Node("in", [left, self.add()], value=negate, pos=t2[2] if not negate else t[2])
        return left

    def add(self) -> Node:
        left = self.mul()
        while (t := self.peek())[0] == "op" and t[1] in ("+", "-"):
            self.take()
            left = Node("arith", [left, self.mul()], value=t[1], pos=t[2])
        return left

    def mul(self) -> Node:
        left = self.unary()
        while (t := self.peek())[0] == "op" and t[1] in ("*", "/"):
            self.take()
            left = Node("arith", [left, self.unary()], value=t[1], pos=t[2])
        return left

    def unary(self) -> Node:
        t = self.accept("op", "-")
        if t is not None:
            inner = self.unary()
            if inner.op == "lit" and isinstance(inner.value, int | float) and not isinstance(inner.value, bool):
                inner.value = -inner.value
                inner.pos = t[2]
                return inner
            return Node("neg", [inner], pos=t[2])
        return self.primary()

    def primary(self) -> Node:
        t = self.take()
        kind, val, pos = t
        if kind in ("num", "str"):
            return Node("lit", value=val, pos=pos)
        if kind == "kw" and val in ("true", "false"):
            return Node("lit", value=val == "true", pos=pos)
        if kind == "kw" and val == "null":
            return Node("lit", value=None, pos=pos)
        if kind == "name" or (kind == "kw" and val == "in"):
            if self.accept("op", "("):
                args: list[Node] = []
                if not self.accept("op", ")"):
                    args.append(self.or_())
                    while self.accept("op", ","):
                        args.append(self.or_())
                    self.expect("op", ")")
                return Node("call", args, value=val, pos=pos)
            if kind == "kw":
                raise ExprSyntaxError("unexpected 'in'", pos)
            return Node("name", value=val, pos=pos)
        if (kind, val) == ("op", "("):
            inner = self.or_()
            self.expect("op", ")")
            return inner
        if (kind, val) == ("op", "["):
            items: list[Node] = []
            if not self.accept("op", "]"):
                items.append(self.unary())
                while self.accept("op", ","):
                    items.append(self.unary())
                self.expect("op", "]")
            for it in items:
                if it.op != "lit":
                    raise ExprSyntaxError("list items must be literals", it.pos)
            return Node("list", items, pos=pos)
        if kind == "end":
            raise ExprSyntaxError("unexpected end of expression", pos)
        raise ExprSyntaxError(f"unexpected {val!r}", pos)


def parse(text: str) -> Node:
    """Parse an expression (raises ExprSyntaxError with a character offset)."""
    return _Parser(text).parse()


# ---------------------------------------------------------------- type checking


def _lit_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return "str"


class Checker:
    """Type-checks an AST against a scope of symbols; records the symbols it used."""

    def __init__(self, scope: Mapping[str, Sym], where: Loc | None, text: str):
        self.scope = scope
        self.where = where
        self.text = text
        self.used: dict[str, Sym] = {}

    def error(self, msg: str, pos: int) -> StrategyError:
        if self.where is None:
            return StrategyError(f"{msg} (in {self.text!r})")
        line, col = self.where.at(pos)
        return StrategyError(f"{msg} (in {self.text!r})", self.where.file, line, col)

    def check(self, n: Node) -> Node:
        from fengkong.strategy import functions

        op = n.op
        if op == "lit":
            n.type, n.nullable = _lit_type(n.value), n.value is None
        elif op == "name":
            sym = self.scope.get(n.value)
            if sym is None:
                raise self.error(f"unknown name {n.value!r}", n.pos)
            n.sym = sym
            self.used[sym.name] = sym
            n.type, n.nullable = sym.type, sym.nullable
        elif op == "list":
            ts = [self.check(a).type for a in n.args]
            t = "null"
            for x in ts:
                u = unify(t, x)
                if u is None:
                    raise self.error("list items have mixed types", n.pos)
                t = u
            n.type, n.nullable, n.value = "list:" + t, False, t
        elif op in ("and", "or"):
            for a in n.args:
                self.check(a)
                if a.type not in ("bool", "null"):
                    raise self.error(f"'{op}' needs booleans, got {a.type}", a.pos)
            n.type, n.nullable = "bool", False
        elif op == "not":
            a = self.check(n.args[0])
            if a.type not in ("bool", "null"):
                raise self.error(f"'not' needs a boolean, got {a.type}", a.pos)
            n.type, n.nullable = "bool", False
        elif op == "neg":
            a = self.check(n.args[0])
            if a.type not in NUMERIC:
                raise self.error(f"'-' needs a number, got {a.type}", a.pos)
            n.type, n.nullable = a.type, a.nullable
        elif op == "arith":
            a, b = (self.check(x) for x in n.args)
            for x in (a, b):
                if x.type not in (*NUMERIC, "null"):
                    raise self.error(f"'{n.value}' needs numbers, got {x.type}", x.pos)
            if n.value == "/":
                nonzero = b.op == "lit" and isinstance(b.value, int | float) and b.value != 0
                n.type, n.nullable = "float", not nonzero or a.nullable
            else:
                n.type = "int" if a.type == b.type == "int" else "float"
                n.nullable = a.nullable or b.nullable
        elif op == "cmp":
            a, b = (self.check(x) for x in n.args)
            if not comparable(a.type, b.type) or a.type == "list" or b.type == "list":
                raise self.error(f"cannot compare {a.type} with {b.type}", n.pos)
            if n.value not in ("==", "!=") and a.type == "bool":
                raise self.error("booleans can only be compared with == and !=", n.pos)
            n.type, n.nullable = "bool", False
        elif op == "between":
            a, lo, hi = (self.check(x) for x in n.args)
            for x in (lo, hi):
                if not comparable(a.type, x.type) or a.type in ("bool", "list"):
                    raise self.error(f"cannot compare {a.type} with {x.type} in 'between'", x.pos)
            n.type, n.nullable = "bool", False
        elif op == "in":
            a, b = (self.check(x) for x in n.args)
            if b.type.startswith("list:"):
                if not comparable(a.type, b.value):
                    raise self.error(f"cannot look up {a.type} in a list of {b.value}", n.pos)
            elif b.type == "list":
                if a.type not in ("str", "null"):
                    raise self.error(f"cannot look up {a.type} in a list of str", n.pos)
            else:
                raise self.error(f"'in' needs a list on the right, got {b.type}", b.pos)
            n.type, n.nullable = "bool", False
        elif op == "call":
            fn = functions.lookup(n.value)
            if fn is None:
                raise self.error(f"unknown function {n.value!r}", n.pos)
            for a in n.args:
                self.check(a)
            try:
                n.type, n.nullable = fn.check(n.args)
            except TypeError as exc:
                raise self.error(f"{n.value}(): {exc}", getattr(exc, "pos", n.pos)) from None
        else:  # pragma: no cover - parser produces only the ops above
            raise self.error(f"unsupported expression {op}", n.pos)
        return n


def compile_expr(text: Any, scope: Mapping[str, Sym], where: Loc | None, want: str | None = None,
                 ) -> tuple[Node, dict[str, Sym]]:
    """Parse and type-check one expression; ``want`` = 'bool' | 'num' | a type, checked here."""
    if isinstance(text, bool):
        text = "true" if text else "false"
    elif isinstance(text, int | float):
        text = repr(text)
    if not isinstance(text, str):
        raise StrategyError(f"expected an expression string, got {type(text).__name__}",
                            where.file if where else None, where.line if where else None,
                            where.col if where else None)
    ck = Checker(scope, where, text)
    try:
        node = parse(text)
    except ExprSyntaxError as exc:
        raise ck.error(f"syntax error: {exc.msg}", exc.pos) from None
    ck.check(node)
    if want == "bool" and node.type not in ("bool", "null"):
        raise ck.error(f"a condition must be boolean, got {node.type}", 0)
    if want == "num" and node.type not in (*NUMERIC, "null"):
        raise ck.error(f"expected a number, got {node.type}", 0)
    return node, ck.used


# ---------------------------------------------------------------- Python code generation


#: Local variables of the generated function that stand for built-in symbols (outcome policy flags).
BUILTIN_VARS = frozenset({"_any_reject", "_any_review", "_any_flag", "_any_allow", "_outcome"})


class PyGen:
    """Generates Python source for checked ASTs; constants go into ``consts`` (the module globals).

    No user text is ever spliced into the source: every event field, feature and node output gets a
    generated local name (``_v0``, ``_v1`` …, see :meth:`var`), literals are ``repr``'d ints, floats,
    strings and booleans (anything else, e.g. a non-finite float, is passed as a global constant).
    """

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}
        self.lists: set[str] = set()
        self.vars: dict[Any, str] = {}
        self._n = 0

    def tmp(self) -> str:
        self._n += 1
        return f"_t{self._n}"

    def const(self, value: Any, prefix: str = "_k") -> str:
        self._n += 1
        name = f"{prefix}{self._n}"
        self.consts[name] = value
        return name

    def var(self, sym: Sym) -> str:
        """The generated local variable that holds a symbol's value."""
        if sym.source == "builtin":
            if sym.pyvar not in BUILTIN_VARS:  # pragma: no cover - built-ins are ours
                raise AssertionError(f"unknown built-in {sym.pyvar!r}")
            return sym.pyvar
        return self.local(sym.source, sym.column)

    def local(self, *key: Any) -> str:
        """A generated local variable for an internal value identified by ``key``."""
        v = self.vars.get(key)
        if v is None:
            v = self.vars[key] = f"_v{len(self.vars)}"
        return v

    def lit(self, value: Any) -> str:
        """Source of a literal value: ``repr`` for None, bool, int, finite float and str; else a constant."""
        if value is None or isinstance(value, bool | int | str):
            return repr(value)
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        return self.const(value)

    def bool_(self, n: Node) -> str:
        """Source of an expression that is exactly True or False."""
        src = self.expr(n)
        if n.type == "null":
            return "False"
        if n.nullable:
            return f"({src} is True)"
        return src

    def _bind(self, n: Node) -> tuple[str, str]:
        """(binding source, reference) so a nullable operand is evaluated once."""
        src = self.expr(n)
        if n.op in ("lit", "name"):
            return src, src
        t = self.tmp()
        return f"({t} := {src})", t

    def expr(self, n: Node) -> str:
        op = n.op
        if op == "lit":
            return self.lit(n.value)
        if op == "name":
            return self.var(n.sym)
        if op == "and":
            return "(" + " and ".join(self.bool_(a) for a in n.args) + ")"
        if op == "or":
            return "(" + " or ".join(self.bool_(a) for a in n.args) + ")"
        if op == "not":
            return f"(not {self.bool_(n.args[0])})"
        if op == "neg":
            a = n.args[0]
            if not a.nullable:
                return f"(-{self.expr(a)})"
            b, r = self._bind(a)
            return f"(None if {b} is None else -{r})"
        if op == "arith":
            a, b = n.args
            if n.value == "/" and b.op == "lit" and b.value:
                d = self.lit(float(b.value))
                if not a.nullable:
                    return f"({self.expr(a)} / {d})"
                ba, ra = self._bind(a)
                return f"(None if {ba} is None else {ra} / {d})"
            if n.value == "/":
                conds: list[str] = []
                if a.nullable:
                    ba, left = self._bind(a)
                    conds.append(f"{ba} is None")
                else:
                    left = self.expr(a)
                bb, right = self._bind(b)
                conds.append(f"{bb} is None or {right} == 0" if b.nullable else f"{bb} == 0")
                return f"(None if {' or '.join(conds)} else {left} / {right})"
            if not a.nullable and not b.nullable:
                return f"({self.expr(a)} {n.value} {self.expr(b)})"
            ba, ra = self._bind(a)
            bb, rb = self._bind(b)
            guard = " or ".join([f"{ba} is None"] * a.nullable + [f"{bb} is None"] * b.nullable)
            left = ra if a.nullable else ba
            right = rb if b.nullable else bb
            return f"(None if {guard} else {left} {n.value} {right})"
        if op == "cmp":
            a, b = n.args
            if a.type == "null" or b.type == "null":
                return "False"
            return self._guarded([a, b], lambda r: f"{r[0]} {n.value} {r[1]}")
        if op == "between":
            a, lo, hi = n.args
            if "null" in (a.type, lo.type, hi.type):
                return "False"
            return self._guarded([a, lo, hi], lambda r: f"{r[1]} <= {r[0]} <= {r[2]}")
        if op == "in":
            a, b = n.args
            if a.type == "null":
                return "False"
            if b.op == "list":
                k = self.const(frozenset(x.value for x in b.args if x.value is not None))
                neg = "not in" if n.value else "in"
                return self._guarded([a], lambda r: f"{r[0]} {neg} {k}")
            neg = "not in" if n.value else "in"
            return self._guarded([a, b], lambda r: f"{r[0]} {neg} {r[1]}")
        if op == "call":
            from fengkong.strategy import functions

            return functions.REGISTRY[n.value].py_source(self, n.args)
        raise AssertionError(op)

    def _guarded(self, ops: list[Node], body: Callable[[list[str]], str]) -> str:
        """``body`` over operands, False when any nullable operand is null."""
        conds: list[str] = []
        refs: list[str] = []
        for o in ops:
            if o.nullable:
                b, r = self._bind(o)
                conds.append(f"{b} is not None")
                refs.append(r)
            else:
                refs.append(self.expr(o))
        return "(" + " and ".join([*conds, body(refs)]) + ")"


# ---------------------------------------------------------------- Polars compilation


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
