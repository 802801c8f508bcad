"""Compiles the declared fraud signals (:mod:`~fengkong.fraud.signal_defs`) to the online function and the offline Polars columns.

Both targets come from one type-checked expression per signal, through the strategy language's own code
generators (``PyGen`` for the decision path, ``PlGen`` for the backfill), so comparisons, thresholds and
null rules cannot differ: a comparison with a null operand is false, a null boolean is false, ``coalesce``
and ``if`` see raw nulls, NaN in a float input counts as null (as in a strategy).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from fengkong.fraud.graph import FEATURES as GRAPH_FEATURES
from fengkong.fraud.signal_defs import CONSTANTS, COUNTS, OFFLINE_INPUTS, SIGNALS, Signal, counted
from fengkong.strategy.errors import StrategyError
from fengkong.strategy.expr import Checker, ExprSyntaxError, Node, Sym, parse
from fengkong.strategy.expr_pl import PlGen
from fengkong.strategy.expr_py import PyGen
from fengkong.strategy.symbols import event_symbols

_PL = {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "str": pl.Utf8}

#: ``graph_*`` features that are booleans (the others are counts).
GRAPH_BOOLS = frozenset({"graph_applicant_known", "graph_device_new_to_applicant", "graph_phone_new_to_applicant",
                         "graph_element_risky"})

#: Kind of every ``graph_*`` feature of the association graph.
GRAPH_KINDS: dict[str, str] = {k: "bool" if k in GRAPH_BOOLS else "int" for k in GRAPH_FEATURES}


class SignalDeclarationError(StrategyError):
    """A declared signal does not parse, type-check, or match its declared kind."""


def _scope() -> dict[str, Sym]:
    scope = {n: s for n, s in event_symbols("application").items() if "." not in n}
    for name, kind in GRAPH_KINDS.items():  # the graph's read always has every feature
        scope[name] = Sym(name, kind, False, name, name, "graph")
    for name, kind in OFFLINE_INPUTS.items():
        scope[name] = Sym(name, kind, True, name, name, "offline")
    return scope


def _inline_constants(n: Node) -> None:
    if n.op == "name" and n.value in CONSTANTS:
        n.op, n.value = "lit", CONSTANTS[n.value]
    for a in n.args:
        _inline_constants(a)


def _check(sig: Signal, scope: Mapping[str, Sym]) -> tuple[Node, dict[str, Sym]]:
    try:
        node = parse(sig.expr)
    except ExprSyntaxError as exc:
        raise SignalDeclarationError(f"signal {sig.name}: syntax error: {exc.msg} (in {sig.expr!r})") from None
    _inline_constants(node)
    ck = Checker(scope, None, sig.expr)
    try:
        ck.check(node)
    except StrategyError as exc:
        raise SignalDeclarationError(f"signal {sig.name}: {exc}") from None
    if node.type != sig.kind and not (sig.kind == "float" and node.type == "int"):
        raise SignalDeclarationError(f"signal {sig.name}: declared {sig.kind}, the expression is {node.type}")
    offline = sorted(s.name for s in ck.used.values() if s.source == "offline")
    if sig.online and offline:
        raise SignalDeclarationError(f"signal {sig.name} is served online but reads offline-only {offline}")
    return node, ck.used


def check_signal(sig: Signal) -> Node:
    """``sig``'s checked expression; raises :class:`SignalDeclarationError` naming it when it is invalid."""
    return _check(sig, _scope())[0]


@functools.cache
def checked() -> tuple[tuple[Signal, Node, dict[str, Sym]], ...]:
    """Every declaration with its checked expression and the symbols it reads (checked once per process)."""
    scope = _scope()
    return tuple((s, *_check(s, scope)) for s in SIGNALS)


def online_kinds() -> dict[str, str]:
    """Name → kind of every signal the online provider serves, the counts last."""
    return {**{s.name: s.kind for s in SIGNALS if s.online}, **dict.fromkeys(COUNTS, "int")}


# ---------------------------------------------------------------- online: one generated function


@functools.cache
def online_function() -> Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]:
    """``f(event, graph_features) -> {signal: value}`` for every online signal and count (generated once)."""
    g = PyGen()
    lines = ["def _signals(e, gf):"]
    loaded: set[str] = set()
    body: list[str] = []
    out: dict[str, str] = {}
    for sig, node, used in checked():
        if not sig.online:
            continue
        for s in used.values():
            v = g.var(s)
            if v in loaded:
                continue
            loaded.add(v)
            lines.append(f"    {v} = {'e' if s.source == 'event' else 'gf'}.get({s.column!r})")
            if s.type == "float":  # NaN is missing, as in a strategy
                lines.append(f"    if {v} is not None and {v} != {v}: {v} = None")
        r = g.local("signal", sig.name)
        body.append(f"    {r} = {g.bool_(node) if sig.kind == 'bool' else g.expr(node)}")
        out[sig.name] = r
    for count in COUNTS:
        out[count] = "(0 + " + " + ".join(out[n] for n in counted(count)) + ")"
    items = ", ".join(f"{name!r}: {src}" for name, src in out.items())
    src = "\n".join([*lines, *body, f"    return {{{items}}}", ""])
    ns = dict(g.consts)
    exec(compile(src, "<fraud signals>", "exec"), ns)
    return ns["_signals"]


# ---------------------------------------------------------------- offline: Polars columns


def _inputs(frame: pl.DataFrame) -> list[pl.Expr]:
    """Columns the declarations read, cast as the strategy does: a missing column is a typed null, NaN is null."""
    out = []
    syms = {s.column: s for _, _, used in checked() for s in used.values()}
    for col, s in syms.items():
        dtype = _PL.get(s.type)
        if col not in frame.columns:
            out.append(pl.lit(None, dtype=dtype).alias(col))
        elif s.type == "float":
            out.append(pl.col(col).cast(pl.Float64).fill_nan(None))
    return out


def offline_signals(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (applications with their event fields, ``graph_*`` features and :data:`OFFLINE_INPUTS`) plus one
    column per declared signal and count; a declared input the frame lacks is null."""
    g = PlGen()
    sigs = [(g.bool_(node) if sig.kind == "bool" else g.expr(node)).cast(_PL[sig.kind]).alias(sig.name)
            for sig, node, _ in checked()]
    counts = [pl.sum_horizontal([pl.col(n).cast(pl.Int64) for n in counted(c)]).alias(c) for c in COUNTS]
    out = (frame.lazy().with_columns(_inputs(frame)).select(sigs).with_columns(counts).collect())
    return frame.hstack(out.get_columns())
