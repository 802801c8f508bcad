"""Strategy files: parse the YAML into typed node specs and type-check every expression.

A strategy is one YAML file per event type (and optionally product) with ``name`` and
``version``, a list of ``nodes`` (ruleset, table, scorecard, model, assign, or a type a pack contributes,
:mod:`fengkong.strategy.node_types`) and a ``flow``
(step order with optional ``when`` branches, the outcome policy and the outputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fengkong.strategy.errors import StrategyError
from fengkong.strategy.expr import Node, Sym, compile_expr
from fengkong.strategy.located import LDict, Loc, load_located
from fengkong.strategy.node_build import build_node
from fengkong.strategy.node_types import lower
from fengkong.strategy.nodes import (
    ACTION_RANK,
    ACTIONS,
    NODE_TYPES,
    OUTCOMES,
    POLICY_FLAGS,
    RESERVED,
    Assign,
    Bin,
    Cell,
    Characteristic,
    Model,
    OutcomeRule,
    Rule,
    RuleSet,
    Scorecard,
    Step,
    StrategySpec,
    Table,
)
from fengkong.strategy.parse_ctx import ParseContext, key_loc
from fengkong.strategy.symbols import default_feature_kinds, event_symbols, feature_symbols

# the parsed form (nodes.py), the expression scope (symbols.py) and the node builders (node_build.py) are
# parts of their own; their public names are also importable from here, where strategies are loaded
__all__ = [
    "ACTIONS", "ACTION_RANK", "NODE_TYPES", "OUTCOMES", "POLICY_FLAGS", "RESERVED", "Assign", "Bin", "Cell",
    "Characteristic", "Model", "OutcomeRule", "Rule", "RuleSet", "Scorecard", "Step", "StrategySpec", "Table",
    "default_feature_kinds", "event_symbols", "feature_symbols", "load_spec", "parse_spec",
]


# ---------------------------------------------------------------- loading


def load_spec(path: str | Path, features: Mapping[str, str] | None = None) -> StrategySpec:
    """Load and type-check a strategy file. ``features``: name → kind (default: the shipped library)."""
    from fengkong.safeyaml import YAMLInputError, read_text

    p = Path(path)
    try:
        text = read_text(p)
    except OSError as exc:
        raise StrategyError(f"cannot read strategy file: {exc.strerror}", str(p)) from None
    except YAMLInputError as exc:
        raise StrategyError(exc.message, str(p)) from None
    except UnicodeDecodeError as exc:
        raise StrategyError(f"not UTF-8 text (byte {exc.start})", str(p)) from None
    return parse_spec(text, str(p), features=features, base_dir=p.parent)


def parse_spec(text: str, file: str = "<strategy>", features: Mapping[str, str] | None = None,
               base_dir: Path | None = None, artifacts: Mapping[str, str] | None = None) -> StrategySpec:
    """Parse strategy YAML text. Model artifacts come from ``artifacts`` (path → text) or ``base_dir``."""
    cx = ParseContext(file)
    doc = load_located(text, file)
    if not isinstance(doc, LDict):
        raise cx.err("a strategy file must be a mapping", getattr(doc, "loc", Loc(file, 1, 1)))
    cx.keys(doc, {"name", "version", "event_type", "product", "description", "fallback", "nodes", "flow"},
            "strategy")
    name = cx.slug(cx.need(doc, "name", str, "strategy"), doc.locs["name"], "strategy name")
    version = cx.slug(str(cx.need(doc, "version", (str, int, float), "strategy")), doc.locs["version"],
                      "strategy version")
    event_type = cx.need(doc, "event_type", str, "strategy")
    from fengkong.events import EVENT_TYPES

    if event_type not in EVENT_TYPES:
        raise cx.err(f"unknown event_type {event_type!r} (one of {', '.join(EVENT_TYPES)})", doc.locs["event_type"])
    product = cx.opt(doc, "product", str, "strategy")
    if product is not None:
        cx.slug(product, doc.locs["product"], "strategy product")
    fallback = cx.opt(doc, "fallback", str, "strategy", "review")
    if fallback not in OUTCOMES:
        raise cx.err(f"fallback must be one of {', '.join(OUTCOMES)}", doc.locs["fallback"])
    ev = event_symbols(event_type)
    feats = feature_symbols(default_feature_kinds() if features is None else features, ev)
    base_scope: dict[str, Sym] = {**ev, **feats}
    nodes_raw = cx.need(doc, "nodes", list, "strategy")
    if not nodes_raw:
        raise cx.err("a strategy needs at least one node", doc.locs["nodes"])
    art_in = dict(artifacts or {})
    art_out: dict[str, str] = {}

    # pass 1: node ids and the names they output (so references can be ordered / cycles found)
    producers: dict[str, tuple[str, str, Loc]] = {}  # output name -> (node id, type placeholder, loc)
    order: list[str] = []
    raw_by_id: dict[str, LDict] = {}
    for i, nd in enumerate(nodes_raw):
        loc = nodes_raw.locs[i]
        if not isinstance(nd, LDict):
            raise cx.err("a node must be a mapping", loc)
        nid = cx.ident(cx.need(nd, "id", str, "node"), nd.locs["id"], "node id")
        ntype = cx.need(nd, "type", str, f"node {nid!r}")
        if ntype not in NODE_TYPES:  # a pack's node type: the core node it lowers to (node_types.py)
            nd = lower(cx, nd, ntype, nid)
            ntype = nd["type"]
        if nid in raw_by_id:
            raise cx.err(f"duplicate node id {nid!r}", nd.locs["id"])
        raw_by_id[nid] = nd
        order.append(nid)
        for out, oloc in _declared_outputs(cx, nd, ntype, nid):
            if out in base_scope:
                raise cx.err(f"node {nid!r}: output {out!r} clashes with an event field or feature", oloc)
            if out in producers:
                raise cx.err(f"node {nid!r}: output {out!r} is already produced by node {producers[out][0]!r}",
                             oloc)
            producers[out] = (nid, "", oloc)

    # flow steps
    flow = doc.get("flow") or LDict()
    if not isinstance(flow, dict):
        raise cx.err("flow must be a mapping", doc.locs["flow"])
    if not hasattr(flow, "loc"):
        flow.loc, flow.locs = doc.loc, {}
    cx.keys(flow, {"steps", "outcome", "outputs", "default"}, "flow")
    steps_raw = flow.get("steps")
    step_when_raw: dict[str, tuple[Any, Loc]] = {}
    if steps_raw is not None:
        if not isinstance(steps_raw, list):
            raise cx.err("flow.steps must be a list", flow.locs["steps"])
        seq: list[str] = []
        for i, st in enumerate(steps_raw):
            loc = steps_raw.locs[i]
            if isinstance(st, str):
                nid = st
            elif isinstance(st, LDict):
                cx.keys(st, {"node", "when"}, "flow step")
                nid = cx.need(st, "node", str, "flow step")
                if "when" in st:
                    step_when_raw[nid] = (st["when"], st.locs["when"])
                loc = st.locs["node"]
            else:
                raise cx.err("a flow step is a node id or {node, when}", loc)
            if nid not in raw_by_id:
                raise cx.err(f"flow step names unknown node {nid!r}", loc)
            if nid in seq:
                raise cx.err(f"node {nid!r} appears twice in flow.steps", loc)
            seq.append(nid)
        missing = [n for n in order if n not in seq]
        if missing:
            raise cx.err(f"node(s) {', '.join(missing)} are not in flow.steps", flow.locs["steps"])
        explicit = True
    else:
        seq = order
        explicit = False

    # dependency analysis (names referenced by each node and its step condition)
    deps = {nid: _referenced_names(cx, raw_by_id[nid], step_when_raw.get(nid)) for nid in seq}
    node_deps = {nid: {producers[r][0] for r in refs if r in producers and producers[r][0] != nid}
                 for nid, refs in deps.items()}
    if explicit:
        done: set[str] = set()
        for nid in seq:
            for d in node_deps[nid]:
                if d not in done:
                    raise cx.err(f"node {nid!r} uses an output of node {d!r}, which runs later "
                                 f"(a cycle or a wrong flow.steps order)", raw_by_id[nid].loc)
            done.add(nid)
    else:
        seq = _toposort(cx, seq, node_deps, raw_by_id)

    # pass 2: build and type-check nodes in execution order
    scope = dict(base_scope)
    used: dict[str, Sym] = {}
    nodes: dict[str, Any] = {}
    steps: list[Step] = []
    rules: list[Rule] = []
    for nid in seq:
        nd = raw_by_id[nid]
        when = None
        if nid in step_when_raw:
            w, wl = step_when_raw[nid]
            when, u = compile_expr(w, scope, wl, want="bool")
            used.update(u)
        conditional = when is not None
        node, new_syms = build_node(cx, nd, scope, used, conditional, base_dir, art_in, art_out)
        if isinstance(node, RuleSet):
            for r in node.rules:
                r.index = len(rules)
                if any(x.id == r.id for x in rules):
                    raise cx.err(f"duplicate rule id {r.id!r}", nd.loc)
                rules.append(r)
        nodes[nid] = node
        steps.append(Step(nid, when))
        scope.update(new_syms)

    # outcome policy
    pol_scope = dict(scope)
    for f in POLICY_FLAGS:
        pol_scope[f] = Sym(f, "bool", False, f"_{f}", f"__{f}", "builtin")
    outcome_rules: list[OutcomeRule] = []
    oraw = flow.get("outcome")
    if oraw is None:
        outcome_rules = _default_policy(pol_scope)
    else:
        if not isinstance(oraw, list) or not oraw:
            raise cx.err("flow.outcome must be a non-empty list", flow.locs["outcome"])
        for i, o in enumerate(oraw):
            if not isinstance(o, LDict):
                raise cx.err("an outcome rule is a mapping {when, outcome, reason_code, reason}", oraw.locs[i])
            cx.keys(o, {"when", "outcome", "reason_code", "reason"}, "outcome rule")
            oc = cx.need(o, "outcome", str, "outcome rule")
            if oc not in OUTCOMES:
                raise cx.err(f"outcome must be one of {', '.join(OUTCOMES)}", o.locs["outcome"])
            w = None
            if "when" in o:
                w, u = compile_expr(o["when"], pol_scope, o.locs["when"], want="bool")
                used.update(u)
            elif i != len(oraw) - 1:
                raise cx.err("only the last outcome rule may omit 'when'", o.loc)
            outcome_rules.append(OutcomeRule(w, oc, cx.opt(o, "reason_code", str, "outcome rule"),
                                             cx.opt(o, "reason", str, "outcome rule")))
        if outcome_rules[-1].when is not None:
            default = flow.get("default", "approve")
            if default not in OUTCOMES:
                raise cx.err(f"flow.default must be one of {', '.join(OUTCOMES)}", flow.locs["default"])
            outcome_rules.append(OutcomeRule(None, default, None, None))

    out_scope = dict(pol_scope)
    out_scope["outcome"] = Sym("outcome", "str", False, "_outcome", "outcome", "builtin")
    outputs: dict[str, Node] = {}
    oraw = flow.get("outputs") or {}
    if not isinstance(oraw, dict):
        raise cx.err("flow.outputs must be a mapping name: expression", flow.locs["outputs"])
    for k, v in oraw.items():
        cx.ident(k, key_loc(oraw, k), "flow output")
        n, u = compile_expr(v, out_scope, oraw.locs[k])
        used.update(u)
        outputs[k] = n
    return StrategySpec(name, version, event_type, product, str(doc.get("description") or ""), fallback, nodes,
                        steps, outcome_rules, outputs, rules, scope, used, text, file, art_out)


def _default_policy(scope: Mapping[str, Sym]) -> list[OutcomeRule]:
    out = []
    for flag, oc in (("any_reject", "reject"), ("any_review", "review")):
        n, _ = compile_expr(flag, scope, None, want="bool")
        out.append(OutcomeRule(n, oc, None, None))
    out.append(OutcomeRule(None, "approve", None, None))
    return out


def _declared_outputs(cx: ParseContext, nd: LDict, ntype: str, nid: str) -> list[tuple[str, Loc]]:
    """(name, where it is written) of every value the node outputs; names must be identifiers."""
    what = f"{ntype} {nid!r}"
    if ntype == "ruleset":
        return [(f"{nid}.hit", nd.locs["id"]), (f"{nid}.action", nd.locs["id"])]
    if ntype == "table":
        outs = cx.need(nd, "outputs", list, what)
        return [(cx.ident(o, outs.locs[i], f"{what}: output"), outs.locs[i]) for i, o in enumerate(outs)]
    if ntype in ("scorecard", "model"):
        out = [(cx.ident(cx.need(nd, "output", str, what), nd.locs["output"], f"{what}: output"),
                nd.locs["output"])]
        if ntype == "scorecard" and nd.get("pd_output") is not None:
            pdo = cx.need(nd, "pd_output", str, what)
            out.append((cx.ident(pdo, nd.locs["pd_output"], f"{what}: pd_output"), nd.locs["pd_output"]))
        return out
    values = cx.need(nd, "values", dict, what)
    return [(cx.ident(k, values.klocs[k], f"{what}: value name"), values.klocs[k]) for k in values]


def _strings(obj: Any, locs: Any = None) -> list[tuple[str, Loc | None]]:
    """Every string anywhere inside a node (candidates for expressions) with its location."""
    out: list[tuple[str, Loc | None]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, str):
                out.append((v, obj.locs.get(k) if hasattr(obj, "locs") else None))
            else:
                out += _strings(v)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, str):
                out.append((v, obj.locs[i] if hasattr(obj, "locs") else None))
            else:
                out += _strings(v)
    return out


def _referenced_names(cx: ParseContext, nd: LDict, when: tuple[Any, Loc] | None) -> set[str]:
    from fengkong.strategy.expr import ExprSyntaxError, tokenize

    names: set[str] = set()
    texts = _strings(nd) + ([(when[0], when[1])] if when and isinstance(when[0], str) else [])
    for t, _ in texts:
        try:
            names |= {v for k, v, _ in tokenize(t) if k == "name"}
        except ExprSyntaxError:
            continue
    return names


def _toposort(cx: ParseContext, seq: list[str], deps: dict[str, set[str]], raw: dict[str, LDict]) -> list[str]:
    out: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cyc = [*path[path.index(n):], n]
            raise cx.err(f"cycle between nodes: {' → '.join(cyc)}", raw[n].loc)
        state[n] = 1
        for d in sorted(deps[n], key=seq.index):
            visit(d, [*path, n])
        state[n] = 2
        out.append(n)

    for n in seq:
        visit(n, [])
    return out


