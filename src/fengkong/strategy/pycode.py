"""Compile a checked strategy into one generated Python function for single-event evaluation.

The generated source contains only names we create (``_v*`` locals for event fields, features and node
outputs, ``_t*`` temporaries, ``_k*``/``_fn*`` constants passed in as globals): user text (node ids,
output names, field names) never reaches ``exec`` except as ``repr`` literals of already-parsed values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fengkong.strategy.errors import NodeError
from fengkong.strategy.expr_py import PyGen
from fengkong.strategy.nodes import (
    ACTION_RANK,
    Assign,
    Cell,
    Model,
    RuleSet,
    Scorecard,
    StrategySpec,
    Table,
)

ACTION_BY_RANK = ("", "allow", "flag", "review", "reject")
_FLAG = {"reject": "_any_reject", "review": "_any_review", "flag": "_any_flag", "allow": "_any_allow"}


def _sigmoid(z: float) -> float:
    try:
        return 1.0 / (1.0 + math.exp(-z))
    except OverflowError:
        return 0.0


def _pd_from_score(score: float, base_score: float, base_odds: float, pdo: float) -> float:
    try:
        return 1.0 / (1.0 + base_odds * 2.0 ** ((score - base_score) / pdo))
    except OverflowError:
        return 0.0


class LightGBMPredictor:
    """Loads a LightGBM Booster from its text on first use (a bad file fails the node, not the load)."""

    def __init__(self, text: str, n_inputs: int):
        self.text = text
        self.n_inputs = n_inputs
        self._booster: Any = None

    @property
    def booster(self) -> Any:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.text)
        return self._booster

    def __call__(self, *xs: Any) -> float:
        import numpy as np

        row = np.array([[np.nan if x is None else float(x) for x in xs]], dtype=np.float64)
        return float(self.booster.predict(row)[0])

    def predict_matrix(self, matrix: Any) -> Any:
        return self.booster.predict(matrix)


def _cell_src(c: Cell, v: str, nullable: bool, g: PyGen) -> str:
    nn = f"{v} is not None and " if nullable else ""
    if c.kind == "any":
        return "True"
    if c.kind == "missing":
        return f"{v} is None" if nullable else "False"
    if c.kind == "eq":
        return f"({nn}{v} == {g.lit(c.values[0])})"
    if c.kind in ("in", "not_in"):
        k = g.const(frozenset(c.values))
        return f"({nn}{v} {'in' if c.kind == 'in' else 'not in'} {k})"
    parts = []
    if c.ge is not None:
        parts.append(f"{v} >= {g.lit(c.ge)}")
    if c.gt is not None:
        parts.append(f"{v} > {g.lit(c.gt)}")
    if c.le is not None:
        parts.append(f"{v} <= {g.lit(c.le)}")
    if c.lt is not None:
        parts.append(f"{v} < {g.lit(c.lt)}")
    return f"({nn}{' and '.join(parts)})"


def generate(spec: StrategySpec) -> tuple[str, dict[str, Any]]:
    """Python source of ``_run(ev, ft, L)`` and the globals it needs."""
    g = PyGen()
    L: list[str] = []

    def emit(line: str, depth: int) -> None:
        L.append("    " * depth + line)

    emit("def _run(ev, ft, L):", 0)
    emit("_node = None", 1)
    emit("hits = []", 1)
    emit("_any_reject = _any_review = _any_flag = _any_allow = False", 1)
    emit("try:", 1)
    d = 2
    seen: set[str] = set()
    for s in spec.used.values():
        if s.source not in ("event", "feature"):
            continue
        v = g.var(s)
        if v in seen:
            continue
        seen.add(v)
        key = s.column if s.source == "event" else s.name.removeprefix("feature.")
        emit(f"{v} = {'ev' if s.source == 'event' else 'ft'}.get({key!r})", d)
        if s.type == "float":  # NaN is missing: the same null semantics as the Polars side
            emit(f"if {v} is not None and {v} != {v}: {v} = None", d)
    score_vars: list[str] = []
    points_vars: list[tuple[str, str]] = []
    for step in spec.steps:
        node = spec.nodes[step.node]
        emit(f"_node = {node.id!r}", d)
        outs = [g.var(sym) for sym in spec.symbols.values() if sym.node == node.id and sym.source == "node"]
        outs = list(dict.fromkeys(outs))
        if isinstance(node, RuleSet):
            hv = g.var(spec.symbols[f"{node.id}.hit"])
            av = g.var(spec.symbols[f"{node.id}.action"])
            rk = g.local("rank", node.id)
            emit(f"{hv} = False", d)
            emit(f"{rk} = 0", d)
        dd = d
        if step.when is not None:
            emit(f"if {g.bool_(step.when)}:", d)
            dd = d + 1
        if isinstance(node, RuleSet):
            for i, r in enumerate(node.rules):
                kw = "elif" if node.hit_policy == "first" and i else "if"
                emit(f"{kw} {g.bool_(r.when)}:", dd)
                rank = ACTION_RANK[r.action]
                emit(f"hits.append({int(r.index)})", dd + 1)
                emit(f"{hv} = True", dd + 1)
                emit(f"{_FLAG[r.action]} = True", dd + 1)
                emit(f"if {rk} < {rank}: {rk} = {rank}", dd + 1)
            if not node.rules:
                emit("pass", dd)
            emit(f"{av} = _ACT[{rk}]", d)
            continue
        pv = g.local("points", node.id)
        if isinstance(node, Assign):
            for name, n in node.values.items():
                emit(f"{g.var(spec.symbols[name])} = {g.expr(n)}", dd)
        elif isinstance(node, Table):
            _gen_table(g, node, spec, emit, dd)
        elif isinstance(node, Scorecard):
            _gen_scorecard(g, node, spec, emit, dd, pv)
            points_vars.append((node.id, pv))
        elif isinstance(node, Model):
            _gen_model(g, node, spec, emit, dd)
        if step.when is not None:
            emit("else:", d)
            for o in outs:
                emit(f"{o} = None", d + 1)
            if isinstance(node, Scorecard):
                emit(f"{pv} = None", d + 1)
    for name in spec.scores:
        score_vars.append(g.var(spec.symbols[name]))
    emit("_node = 'outcome policy'", d)
    for i, orule in enumerate(spec.outcome_rules):
        if orule.when is None:
            emit("else:" if i else "if True:", d)
        else:
            emit(f"{'elif' if i else 'if'} {g.bool_(orule.when)}:", d)
        emit(f"_outcome = {g.lit(orule.outcome)}", d + 1)
        emit(f"_pr = {i}", d + 1)
    emit("_node = 'outputs'", d)
    outs_src = ", ".join(g.expr(n) for n in spec.outputs.values())
    emit(f"_outs = ({outs_src}{',' if len(spec.outputs) == 1 else ''})", d)
    emit(f"_scores = ({', '.join(score_vars)}{',' if len(score_vars) == 1 else ''})", d)
    emit(f"_pts = ({', '.join(v for _, v in points_vars)}{',' if len(points_vars) == 1 else ''})", d)
    emit("except Exception as _exc:", 1)
    emit("raise _NodeError(_node or 'strategy', _exc) from _exc", 2)
    emit("return _outcome, _pr, hits, _outs, _scores, _pts", 1)
    glb: dict[str, Any] = dict(g.consts)
    glb.update({"_ACT": ACTION_BY_RANK, "_NodeError": NodeError, "_EMPTY": frozenset(), "_sigmoid": _sigmoid,
                "_pdscore": _pd_from_score})
    return "\n".join(L) + "\n", glb


def _gen_table(g: PyGen, node: Table, spec: StrategySpec, emit: Callable, d: int) -> None:
    tv = {}
    for k, n in node.inputs.items():
        g._n += 1
        v = f"_ti{g._n}"
        emit(f"{v} = {g.expr(n)}", d)
        tv[k] = (v, n.nullable)
    ov = {o: g.var(spec.symbols[o]) for o in node.outputs}
    if node.hit_policy == "first":
        for o in node.outputs:
            emit(f"{ov[o]} = {g.lit(node.default.get(o))}", d)
        for i, (conds, vals) in enumerate(node.rows):
            cond = " and ".join(_cell_src(c, tv[k][0], tv[k][1], g) for k, c in conds.items()) or "True"
            emit(f"{'elif' if i else 'if'} {cond}:", d)
            for o in node.outputs:
                emit(f"{ov[o]} = {g.lit(vals[o])}", d + 1)
        return
    for o in node.outputs:
        emit(f"{ov[o]} = {0 if node.aggregate in ('sum', 'count') else None!r}", d)
    for conds, vals in node.rows:
        cond = " and ".join(_cell_src(c, tv[k][0], tv[k][1], g) for k, c in conds.items()) or "True"
        emit(f"if {cond}:", d)
        emitted = False
        for o in node.outputs:
            if node.aggregate == "count":
                emit(f"{ov[o]} += 1", d + 1)
                emitted = True
            elif o in vals:
                v = g.lit(vals[o])
                if node.aggregate == "sum":
                    emit(f"{ov[o]} += {v}", d + 1)
                else:
                    cmp = "<" if node.aggregate == "min" else ">"
                    emit(f"if {ov[o]} is None or {v} {cmp} {ov[o]}: {ov[o]} = {v}", d + 1)
                emitted = True
        if not emitted:
            emit("pass", d + 1)
    if node.aggregate in ("min", "max"):
        for o in node.outputs:
            if o in node.default:
                emit(f"if {ov[o]} is None: {ov[o]} = {g.lit(node.default[o])}", d)


def _gen_scorecard(g: PyGen, node: Scorecard, spec: StrategySpec, emit: Callable, d: int, pv: str) -> None:
    pts = []
    for ci, ch in enumerate(node.characteristics):
        g._n += 1
        x = f"_x{g._n}"
        p = f"_p{g._n}"
        pts.append(p)
        emit(f"{x} = {g.expr(ch.input)}", d)
        nullable = ch.input.nullable
        nn = f"{x} is not None and " if nullable else ""
        first = True
        for b in ch.bins:
            if b.kind == "else":
                emit("else:" if not first else "if True:", d)
            else:
                if b.kind == "missing":
                    cond = f"{x} is None" if nullable else "False"
                elif b.kind == "in":
                    cond = f"{nn}{x} in {g.const(frozenset(b.values))}"
                else:
                    parts = ([f"{x} >= {g.lit(b.ge)}"] if b.ge is not None else []) + (
                        [f"{x} < {g.lit(b.lt)}"] if b.lt is not None else [])
                    cond = nn + " and ".join(parts)
                emit(f"{'if' if first else 'elif'} {cond}:", d)
            emit(f"{p} = {g.lit(b.points)}", d + 1)
            first = False
        del ci
    sv = g.var(spec.symbols[node.output])
    emit(f"{sv} = {' + '.join([g.lit(node.offset), *pts])}", d)
    if node.pd_output:
        s = node.scaling
        emit(f"{g.var(spec.symbols[node.pd_output])} = _pdscore({sv}, {g.lit(s['base_score'])}, "
             f"{g.lit(s['base_odds'])}, {g.lit(s['pdo'])})", d)
    emit(f"{pv} = ({', '.join(pts)},)", d)


def _gen_model(g: PyGen, node: Model, spec: StrategySpec, emit: Callable, d: int) -> None:
    ov = g.var(spec.symbols[node.output])
    if node.format == "logistic":
        vs = []
        for k, n in node.inputs.items():
            g._n += 1
            v = f"_m{g._n}"
            emit(f"{v} = {g.expr(n)}", d)
            vs.append((v, node.coef[k], n.nullable))
        terms = " + ".join([g.lit(node.intercept)] + [f"{g.lit(c)} * {v}" for v, c, _ in vs])
        nulls = [f"{v} is None" for v, _, nb in vs if nb]
        if nulls:
            emit(f"{ov} = None if {' or '.join(nulls)} else _sigmoid({terms})", d)
        else:
            emit(f"{ov} = _sigmoid({terms})", d)
        return
    pred = g.const(LightGBMPredictor(node.artifact_text or "", len(node.inputs)), "_mdl")
    emit(f"{ov} = {pred}({', '.join(g.expr(n) for n in node.inputs.values())})", d)


def build(spec: StrategySpec) -> tuple[Callable, str, dict[str, Any]]:
    """Compile the strategy; returns (function, source, globals)."""
    src, glb = generate(spec)
    code = compile(src, f"<strategy {spec.name}@{spec.version}>", "exec")
    ns = dict(glb)
    exec(code, ns)
    return ns["_run"], src, glb
