"""The expression language: tokenise, parse and type-check (code generation: :mod:`~fengkong.strategy.expr_py`,
:mod:`~fengkong.strategy.expr_pl`).

Safe by construction: the grammar has no attribute access, no indexing and no calls except to
functions in the registry (:mod:`fengkong.strategy.functions`). Null semantics: arithmetic and
functions propagate null; a comparison, ``in`` or ``between`` with a null operand is *false*; a
null boolean is false wherever a condition is needed. ``is_null`` and ``coalesce`` see raw nulls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fengkong.errors import InputError
from fengkong.strategy.errors import StrategyError
from fengkong.strategy.located import Loc
from fengkong.strategy.valuetypes import NUMERIC, comparable, unify

KEYWORDS = {"and", "or", "not", "in", "between", "true", "false", "null"}

#: Load-time limits of one expression (see docs/strategies.md, "Limits"): they bound what a single
#: expression can cost to check, compile and evaluate.
MAX_EXPR_CHARS = 10_000
MAX_EXPR_DEPTH = 32  # nesting of parentheses, calls, lists, operators
MAX_STRING_CHARS = 1_000
MAX_LIST_ITEMS = 1_000
INT_RANGE = (-(2**63), 2**63 - 1)  # integer literals are 64-bit, as in Polars

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


class ExprLimitError(ExprSyntaxError, InputError):
    """An expression beyond one of the load-time limits (length, nesting, literal sizes)."""


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s[1:-1])


def tokenize(text: str) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    i = 0
    n = len(text)
    if n > MAX_EXPR_CHARS:
        raise ExprLimitError(f"expression is {n} characters long (at most {MAX_EXPR_CHARS})", 0)
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
            is_float = any(c in tok for c in ".eE")
            if not is_float and (len(tok) > 19 or int(tok) > INT_RANGE[1]):
                raise ExprLimitError(f"integer literal {tok[:25]}{'…' if len(tok) > 25 else ''} is out of the "
                                     f"64-bit range", start)
            out.append(("num", float(tok) if is_float else int(tok), start))
        elif kind == "str":
            if len(tok) - 2 > MAX_STRING_CHARS:
                raise ExprLimitError(f"string literal is {len(tok) - 2} characters long (at most "
                                     f"{MAX_STRING_CHARS})", start)
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
        self.depth = 0

    def nest(self, pos: int) -> None:
        """Enter one more level of nesting (parenthesis, call, list, prefix operator)."""
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            raise ExprLimitError(f"expression is nested more than {MAX_EXPR_DEPTH} levels deep", pos)

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
        if (t := self.accept("kw", "or")) is None:
            return left
        out = Node("or", [left, self.and_()], pos=t[2])  # one n-ary node: long chains do not nest
        while self.accept("kw", "or") is not None:
            out.args.append(self.and_())
        return out

    def and_(self) -> Node:
        left = self.not_()
        if (t := self.accept("kw", "and")) is None:
            return left
        out = Node("and", [left, self.not_()], pos=t[2])
        while self.accept("kw", "and") is not None:
            out.args.append(self.not_())
        return out

    def not_(self) -> Node:
        t = self.accept("kw", "not")
        if t is not None:
            self.nest(t[2])
            inner = self.not_()
            self.depth -= 1
            return Node("not", [inner], pos=t[2])
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
            self.nest(t[2])
            inner = self.unary()
            self.depth -= 1
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
                self.nest(pos)
                args: list[Node] = []
                if not self.accept("op", ")"):
                    args.append(self.or_())
                    while self.accept("op", ","):
                        args.append(self.or_())
                    self.expect("op", ")")
                self.depth -= 1
                return Node("call", args, value=val, pos=pos)
            if kind == "kw":
                raise ExprSyntaxError("unexpected 'in'", pos)
            return Node("name", value=val, pos=pos)
        if (kind, val) == ("op", "("):
            self.nest(pos)
            inner = self.or_()
            self.expect("op", ")")
            self.depth -= 1
            return inner
        if (kind, val) == ("op", "["):
            self.nest(pos)
            items: list[Node] = []
            if not self.accept("op", "]"):
                items.append(self.unary())
                while self.accept("op", ","):
                    items.append(self.unary())
                    if len(items) > MAX_LIST_ITEMS:
                        raise ExprLimitError(f"list has more than {MAX_LIST_ITEMS} items", pos)
                self.expect("op", "]")
            self.depth -= 1
            for it in items:
                if it.op != "lit":
                    raise ExprSyntaxError("list items must be literals", it.pos)
            return Node("list", items, pos=pos)
        if kind == "end":
            raise ExprSyntaxError("unexpected end of expression", pos)
        raise ExprSyntaxError(f"unexpected {val!r}", pos)


def parse(text: str) -> Node:
    """Parse an expression (raises ExprSyntaxError with a character offset)."""
    node = _Parser(text).parse()
    _check_depth(node)
    return node


def _check_depth(root: Node) -> None:
    """Reject trees deeper than MAX_EXPR_DEPTH (chains of arithmetic nest without parentheses)."""
    stack = [(root, 1)]
    while stack:
        n, d = stack.pop()
        if d > MAX_EXPR_DEPTH:
            raise ExprLimitError(f"expression is nested more than {MAX_EXPR_DEPTH} levels deep", n.pos)
        stack.extend((a, d + 1) for a in n.args)


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
        shown = self.text if len(self.text) <= 120 else self.text[:100] + "…"
        if self.where is None:
            return StrategyError(f"{msg} (in {shown!r})")
        line, col = self.where.at(pos)
        return StrategyError(f"{msg} (in {shown!r})", self.where.file, line, col)

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
    except ExprLimitError as exc:
        raise ck.error(f"expression too large: {exc.msg}", exc.pos) from None
    except ExprSyntaxError as exc:
        raise ck.error(f"syntax error: {exc.msg}", exc.pos) from None
    ck.check(node)
    if want == "bool" and node.type not in ("bool", "null"):
        raise ck.error(f"a condition must be boolean, got {node.type}", 0)
    if want == "num" and node.type not in (*NUMERIC, "null"):
        raise ck.error(f"expected a number, got {node.type}", 0)
    return node, ck.used
