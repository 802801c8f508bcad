"""Python source for checked expressions: the code generator of the one-event path."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fengkong.strategy.expr import Node, Sym

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
