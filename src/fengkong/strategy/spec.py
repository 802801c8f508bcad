"""Strategy files: parse the YAML into typed node specs and type-check every expression.

A strategy is one YAML file per event type (and optionally product) with ``name`` and
``version``, a list of ``nodes`` (ruleset, table, scorecard, model, assign) and a ``flow``
(step order with optional ``when`` branches, the outcome policy and the outputs).
"""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengkong.strategy.errors import StrategyError
from fengkong.strategy.expr import KEYWORDS, NUMERIC, Node, Sym, compile_expr, unify
from fengkong.strategy.located import LDict, Loc, load_located

ACTIONS = ("reject", "review", "flag", "allow")
ACTION_RANK = {"": 0, "allow": 1, "flag": 2, "review": 3, "reject": 4}
OUTCOMES = ("approve", "allow", "reject", "review")
POLICY_FLAGS = ("any_reject", "any_review", "any_flag", "any_allow")
NODE_TYPES = ("ruleset", "table", "scorecard", "model", "assign")
#: Node ids, rule ids and node output names: plain identifiers (they name variables and columns).
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Largest LightGBM model artifact a strategy may name (bytes).
MAX_ARTIFACT_BYTES = 64 << 20
#: Strategy names, versions and products: they name deployments, files and URLs (no spaces, no quotes).
SLUG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
#: Names a node output may not take: built-ins of the outcome policy and columns of evaluate_frame.
RESERVED = frozenset({*POLICY_FLAGS, "outcome", "reason_codes", "rules_hit", "event", "feature"})


@dataclass
class Rule:
    id: str
    when: Node
    action: str
    reason_code: str
    reason: str
    node: str
    index: int = 0


@dataclass
class RuleSet:
    id: str
    hit_policy: str
    rules: list[Rule]
    type: str = "ruleset"


@dataclass
class Cell:
    """One decision-table cell: a test of one input value."""

    kind: str  # any | eq | in | not_in | range | missing
    values: tuple = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None


@dataclass
class Table:
    id: str
    hit_policy: str  # first | collect
    aggregate: str | None  # collect: sum | count | min | max
    inputs: dict[str, Node]
    outputs: list[str]
    rows: list[tuple[dict[str, Cell], dict[str, Any]]]
    default: dict[str, Any]
    out_types: dict[str, str]
    type: str = "table"


@dataclass
class Bin:
    kind: str  # missing | in | range | else
    points: float
    values: tuple = ()
    ge: float | None = None
    lt: float | None = None


@dataclass
class Characteristic:
    name: str
    input: Node
    reason_code: str
    bins: list[Bin]


@dataclass
class Scorecard:
    id: str
    output: str
    offset: float
    scaling: dict[str, float] | None
    pd_output: str | None
    reasons: int
    characteristics: list[Characteristic]
    type: str = "scorecard"


@dataclass
class Model:
    id: str
    format: str  # lightgbm | logistic
    inputs: dict[str, Node]
    output: str
    artifact: str | None = None
    artifact_text: str | None = None
    intercept: float = 0.0
    coef: dict[str, float] = field(default_factory=dict)
    type: str = "model"
    where: Loc | None = None  # where the artifact is named (for errors when it does not load)


@dataclass
class Assign:
    id: str
    values: dict[str, Node]
    type: str = "assign"


@dataclass
class Step:
    node: str
    when: Node | None


@dataclass
class OutcomeRule:
    when: Node | None
    outcome: str
    reason_code: str | None
    reason: str | None


@dataclass
class StrategySpec:
    """A loaded, type-checked strategy (not yet compiled)."""

    name: str
    version: str
    event_type: str
    product: str | None
    description: str
    fallback: str
    nodes: dict[str, Any]
    steps: list[Step]
    outcome_rules: list[OutcomeRule]
    outputs: dict[str, Node]
    rules: list[Rule]
    symbols: dict[str, Sym]
    used: dict[str, Sym]
    source: str
    file: str
    artifacts: dict[str, str]

    @property
    def sha256(self) -> str:
        h = hashlib.sha256(self.source.encode())
        for k in sorted(self.artifacts):
            h.update(k.encode())
            h.update(self.artifacts[k].encode())
        return h.hexdigest()

    @property
    def used_event_fields(self) -> list[str]:
        return sorted({s.column for s in self.used.values() if s.source == "event"})

    @property
    def used_features(self) -> list[str]:
        return sorted({s.name.removeprefix("feature.") for s in self.used.values() if s.source == "feature"})

    @property
    def scores(self) -> list[str]:
        out: list[str] = []
        for nid in (s.node for s in self.steps):
            n = self.nodes[nid]
            if isinstance(n, Scorecard):
                out += [n.output] + ([n.pd_output] if n.pd_output else [])
            elif isinstance(n, Model):
                out.append(n.output)
        return out


# ---------------------------------------------------------------- helpers


class _Ctx:
    def __init__(self, file: str):
        self.file = file

    def err(self, msg: str, loc: Loc | None) -> StrategyError:
        return StrategyError(msg, self.file, loc.line if loc else None, loc.col if loc else None)

    def need(self, d: LDict, key: str, types: type | tuple[type, ...], what: str) -> Any:
        if not isinstance(d, dict) or key not in d:
            raise self.err(f"{what}: missing required key {key!r}", getattr(d, "loc", None))
        v = d[key]
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in _as_tuple(types)):
            raise self.err(f"{what}: {key!r} must be {_tname(types)}", d.locs[key])
        return v

    def opt(self, d: LDict, key: str, types: type | tuple[type, ...], what: str, default: Any = None) -> Any:
        if key not in d or d[key] is None:
            return default
        return self.need(d, key, types, what)

    def ident(self, name: Any, loc: Loc | None, what: str) -> str:
        """``name`` if it is a plain identifier that is no keyword and no reserved name; else an error."""
        if not isinstance(name, str) or not IDENT.fullmatch(name):
            raise self.err(f"{what} {name!r} must be an identifier (letters, digits and _, not starting "
                           f"with a digit)", loc)
        if keyword.iskeyword(name) or name in KEYWORDS:
            raise self.err(f"{what} {name!r} is a keyword", loc)
        if name.startswith("__") or name in RESERVED:
            raise self.err(f"{what} {name!r} is reserved (names starting with '__' and "
                           f"{', '.join(sorted(RESERVED))} are built in)", loc)
        return name

    def slug(self, value: Any, loc: Loc | None, what: str) -> str:
        """``value`` if it is a plain name (letters, digits, ``_ . -``; at most 128 characters)."""
        if not isinstance(value, str) or not SLUG.fullmatch(value):
            raise self.err(f"{what} {value!r} must be 1–128 letters, digits, '_', '.' or '-' (not starting "
                           f"with '.' or '-')", loc)
        return value

    def keys(self, d: Any, allowed: set[str], what: str) -> None:
        if not isinstance(d, dict):
            raise self.err(f"{what} must be a mapping", getattr(d, "loc", None))
        for k in d:
            if k not in allowed:
                raise self.err(f"{what}: unknown key {k!r} (allowed: {', '.join(sorted(allowed))})",
                               d.locs.get(k, d.loc))


def _kloc(d: Any, key: Any) -> Loc | None:
    """Where a mapping key is written (or the mapping, when positions are not known)."""
    klocs = getattr(d, "klocs", None) or {}
    return klocs.get(key, getattr(d, "loc", None))


def _as_tuple(t: Any) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def _tname(t: Any) -> str:
    names = {str: "text", int: "an integer", float: "a number", bool: "true/false", dict: "a mapping",
             list: "a list"}
    return " or ".join(names.get(x, x.__name__) for x in _as_tuple(t))


def event_symbols(event_type: str) -> dict[str, Sym]:
    from fengkong.events import fields_of

    out: dict[str, Sym] = {}
    for f in fields_of(event_type):
        kind = f.kind
        s = Sym(f.name, kind, not f.required, f"e_{f.name}", f.name, "event")
        out[f.name] = s
        out[f"event.{f.name}"] = Sym(f"event.{f.name}", kind, not f.required, f"e_{f.name}", f.name, "event")
    return out


def feature_symbols(kinds: Mapping[str, str], events: Mapping[str, Sym]) -> dict[str, Sym]:
    out: dict[str, Sym] = {}
    for name, kind in kinds.items():
        s = Sym(f"feature.{name}", kind, True, f"f_{name}", f"__f.{name}", "feature")
        out[f"feature.{name}"] = s
        if name not in events:
            out[name] = s
    return out


def default_feature_kinds() -> dict[str, str]:
    """Kinds of the shipped feature library plus the registered feature providers' (see
    :mod:`fengkong.features.providers`), or {} when the feature engine is not installed."""
    try:
        from fengkong.features import load_features
        from fengkong.features.providers import combined_kinds
    except ImportError:
        return {}
    return combined_kinds(load_features().kinds)


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
    cx = _Ctx(file)
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
        if ntype not in NODE_TYPES:
            raise cx.err(f"node {nid!r}: unknown type {ntype!r} (one of {', '.join(NODE_TYPES)})", nd.locs["type"])
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
        node, new_syms = _build_node(cx, nd, scope, used, conditional, base_dir, art_in, art_out)
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
        cx.ident(k, _kloc(oraw, k), "flow output")
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


def _declared_outputs(cx: _Ctx, nd: LDict, ntype: str, nid: str) -> list[tuple[str, Loc]]:
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


def _referenced_names(cx: _Ctx, nd: LDict, when: tuple[Any, Loc] | None) -> set[str]:
    from fengkong.strategy.expr import ExprSyntaxError, tokenize

    names: set[str] = set()
    texts = _strings(nd) + ([(when[0], when[1])] if when and isinstance(when[0], str) else [])
    for t, _ in texts:
        try:
            names |= {v for k, v, _ in tokenize(t) if k == "name"}
        except ExprSyntaxError:
            continue
    return names


def _toposort(cx: _Ctx, seq: list[str], deps: dict[str, set[str]], raw: dict[str, LDict]) -> list[str]:
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


def _check(cx: _Ctx, text: Any, loc: Loc, scope: Mapping[str, Sym], used: dict[str, Sym],
           want: str | None = None) -> Node:
    n, u = compile_expr(text, scope, loc, want=want)
    used.update(u)
    return n


def _build_node(cx: _Ctx, nd: LDict, scope: dict[str, Sym], used: dict[str, Sym], conditional: bool,
                base_dir: Path | None, art_in: Mapping[str, str], art_out: dict[str, str],
                ) -> tuple[Any, dict[str, Sym]]:
    nid, ntype = nd["id"], nd["type"]
    what = f"{ntype} {nid!r}"
    syms: dict[str, Sym] = {}

    def sym(name: str, t: str, nullable: bool) -> None:
        col = name
        syms[name] = Sym(name, t, nullable or conditional, "o_" + name.replace(".", "__"), col, "node", nid)

    if ntype == "ruleset":
        cx.keys(nd, {"id", "type", "hit_policy", "rules", "description"}, what)
        hp = cx.opt(nd, "hit_policy", str, what, "all")
        if hp not in ("all", "first"):
            raise cx.err(f"{what}: hit_policy must be 'all' or 'first'", nd.locs["hit_policy"])
        rules_raw = cx.need(nd, "rules", list, what)
        rules: list[Rule] = []
        for i, r in enumerate(rules_raw):
            if not isinstance(r, LDict):
                raise cx.err(f"{what}: a rule must be a mapping", rules_raw.locs[i])
            cx.keys(r, {"id", "when", "action", "reason_code", "reason", "description"}, f"{what} rule")
            rid = cx.ident(cx.need(r, "id", str, f"{what} rule"), r.locs["id"], "rule id")
            action = cx.need(r, "action", str, f"rule {rid!r}")
            if action not in ACTIONS:
                raise cx.err(f"rule {rid!r}: action must be one of {', '.join(ACTIONS)}", r.locs["action"])
            if "when" not in r:
                raise cx.err(f"rule {rid!r}: missing required key 'when'", r.loc)
            cond = _check(cx, r["when"], r.locs["when"], scope, used, want="bool")
            code = cx.opt(r, "reason_code", str, f"rule {rid!r}", rid)
            rules.append(Rule(rid, cond, action, code, cx.opt(r, "reason", str, f"rule {rid!r}", code), nid))
        syms[f"{nid}.hit"] = Sym(f"{nid}.hit", "bool", False, f"o_{nid}__hit", f"{nid}.hit", "node", nid)
        syms[f"{nid}.action"] = Sym(f"{nid}.action", "str", False, f"o_{nid}__action", f"{nid}.action", "node",
                                    nid)
        return RuleSet(nid, hp, rules), syms

    if ntype == "assign":
        cx.keys(nd, {"id", "type", "values", "description"}, what)
        values = cx.need(nd, "values", dict, what)
        local = dict(scope)
        out: dict[str, Node] = {}
        for k, v in values.items():
            n = _check(cx, v, values.locs[k], local, used)
            out[k] = n
            sym(k, n.type if n.type != "null" else "float", n.nullable)
            local[k] = syms[k]
        return Assign(nid, out), syms

    if ntype == "table":
        return _build_table(cx, nd, scope, used, sym, syms, what)

    if ntype == "scorecard":
        return _build_scorecard(cx, nd, scope, used, sym, syms, what)

    # model
    cx.keys(nd, {"id", "type", "format", "artifact", "inputs", "output", "intercept", "coef", "description"}, what)
    fmt = cx.need(nd, "format", str, what)
    inputs_raw = cx.need(nd, "inputs", dict, what)
    for k in inputs_raw:
        cx.ident(k, _kloc(inputs_raw, k), f"{what}: input")
    inputs = {k: _check(cx, v, inputs_raw.locs[k], scope, used, want="num") for k, v in inputs_raw.items()}
    output = cx.need(nd, "output", str, what)
    if fmt == "logistic":
        coef_raw = cx.need(nd, "coef", dict, what)
        for k in coef_raw:
            if k not in inputs:
                raise cx.err(f"{what}: coefficient for unknown input {k!r}", coef_raw.locs[k])
            _num(cx, coef_raw[k], coef_raw.locs[k], f"{what}: coefficient {k!r}")
        for k in inputs:
            if k not in coef_raw:
                raise cx.err(f"{what}: input {k!r} has no coefficient", inputs_raw.locs[k])
        node = Model(nid, fmt, inputs, output, intercept=float(cx.opt(nd, "intercept", (int, float), what, 0.0)),
                     coef={k: float(v) for k, v in coef_raw.items()})
    elif fmt == "lightgbm":
        art = cx.need(nd, "artifact", str, what)
        if art in art_in:
            text = art_in[art]
        else:
            p = (base_dir or Path(".")) / art
            try:
                if p.is_file() and p.stat().st_size > MAX_ARTIFACT_BYTES:
                    raise cx.err(f"{what}: model artifact {str(p)!r} is {p.stat().st_size} bytes (at most "
                                 f"{MAX_ARTIFACT_BYTES})", nd.locs["artifact"])
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise cx.err(f"{what}: model artifact {str(p)!r} is not UTF-8 text", nd.locs["artifact"]) from None
            except OSError as exc:
                raise cx.err(f"{what}: cannot read model artifact {str(p)!r}: {exc.strerror}", nd.locs["artifact"]) from None
        art_out[art] = text
        node = Model(nid, fmt, inputs, output, artifact=art, artifact_text=text, where=nd.locs["artifact"])
    else:
        raise cx.err(f"{what}: format must be 'lightgbm' or 'logistic'", nd.locs["format"])
    sym(output, "float", True)
    return node, syms


def _num(cx: _Ctx, v: Any, loc: Loc, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise cx.err(f"{what} must be a number", loc)
    return v


def _build_table(cx, nd, scope, used, sym, syms, what):
    cx.keys(nd, {"id", "type", "hit_policy", "aggregate", "inputs", "outputs", "rows", "default", "description"},
            what)
    hp = cx.opt(nd, "hit_policy", str, what, "first")
    if hp not in ("first", "collect"):
        raise cx.err(f"{what}: hit_policy must be 'first' or 'collect'", nd.locs["hit_policy"])
    agg = cx.opt(nd, "aggregate", str, what, "sum" if hp == "collect" else None)
    if hp == "collect" and agg not in ("sum", "count", "min", "max"):
        raise cx.err(f"{what}: aggregate must be sum, count, min or max", nd.locs["aggregate"])
    inputs_raw = cx.need(nd, "inputs", dict, what)
    for k in inputs_raw:
        cx.ident(k, _kloc(inputs_raw, k), f"{what}: input")
    inputs = {k: _check(cx, v, inputs_raw.locs[k], scope, used) for k, v in inputs_raw.items()}
    outputs = [str(o) for o in cx.need(nd, "outputs", list, what)]
    rows_raw = cx.need(nd, "rows", list, what)
    out_types: dict[str, str] = dict.fromkeys(outputs, "null")
    rows = []
    for i, row in enumerate(rows_raw):
        if not isinstance(row, LDict):
            raise cx.err(f"{what}: a row must be a mapping", rows_raw.locs[i])
        conds: dict[str, Cell] = {}
        vals: dict[str, Any] = {}
        for k, v in row.items():
            loc = row.locs[k]
            if k in inputs:
                conds[k] = _cell(cx, v, loc, inputs[k].type, f"{what} row {i + 1} column {k!r}")
            elif k in outputs:
                vals[k] = v
                t = _value_type(cx, v, loc, f"{what} row {i + 1} output {k!r}")
                u = unify(out_types[k], t)
                if u is None:
                    raise cx.err(f"{what}: output {k!r} mixes {out_types[k]} and {t}", loc)
                out_types[k] = u
            else:
                raise cx.err(f"{what}: row {i + 1} has column {k!r} that is neither an input nor an output", loc)
        for o in outputs:
            if o not in vals and hp == "first":
                raise cx.err(f"{what}: row {i + 1} has no value for output {o!r}", row.loc)
        rows.append((conds, vals))
    default_raw = nd.get("default") or {}
    default = {k: default_raw[k] for k in default_raw}
    for k, v in default.items():
        if k not in outputs:
            raise cx.err(f"{what}: default for unknown output {k!r}", default_raw.locs[k])
        _value_type(cx, v, default_raw.locs[k], f"{what} default {k!r}")
    for o in outputs:
        t = out_types[o]
        if hp == "collect":
            t = "int" if agg == "count" else t
            if agg != "count" and t not in (*NUMERIC, "null"):
                raise cx.err(f"{what}: collect/{agg} needs numeric outputs, {o!r} is {t}", nd.loc)
        if t == "null":
            t = "float"
        out_types[o] = t
        nullable = not (o in default or (hp == "collect" and agg in ("sum", "count")))
        sym(o, t, nullable)
    return Table(nd["id"], hp, agg, inputs, outputs, rows, default, out_types), syms


def _value_type(cx: _Ctx, v: Any, loc: Loc, what: str) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if v is None:
        return "null"
    raise cx.err(f"{what}: a value must be a number, text or true/false", loc)


def _cell(cx: _Ctx, v: Any, loc: Loc, in_type: str, what: str) -> Cell:
    if v is None or v == "-" or v == "any":
        return Cell("any")
    if isinstance(v, dict):
        keys = set(v)
        if keys == {"missing"}:
            return Cell("missing")
        if keys <= {"in"} or keys <= {"not_in"}:
            vals = v.get("in", v.get("not_in"))
            if not isinstance(vals, list):
                raise cx.err(f"{what}: 'in' needs a list", loc)
            for x in vals:
                t = _value_type(cx, x, loc, what)
                if not _compatible(t, in_type):
                    raise cx.err(f"{what}: value {x!r} ({t}) cannot match input of type {in_type}", loc)
            return Cell("in" if "in" in v else "not_in", tuple(vals))
        if keys and keys <= {"ge", "gt", "le", "lt"}:
            if in_type not in NUMERIC:
                raise cx.err(f"{what}: ranges need a numeric input, got {in_type}", loc)
            b = {k: _num(cx, v[k], loc, f"{what} {k}") for k in keys}
            return Cell("range", ge=b.get("ge"), gt=b.get("gt"), le=b.get("le"), lt=b.get("lt"))
        raise cx.err(f"{what}: a cell is a value, '-', {{in: [...]}}, {{not_in: [...]}}, {{missing: true}} or "
                     f"a range {{ge, gt, le, lt}}", loc)
    t = _value_type(cx, v, loc, what)
    if not _compatible(t, in_type):
        raise cx.err(f"{what}: value {v!r} ({t}) cannot match input of type {in_type}", loc)
    return Cell("eq", (v,))


def _compatible(t: str, in_type: str) -> bool:
    return t == in_type or (t in NUMERIC and in_type in NUMERIC) or in_type == "null"


def _build_scorecard(cx, nd, scope, used, sym, syms, what):
    cx.keys(nd, {"id", "type", "output", "offset", "scaling", "pd_output", "reasons", "characteristics",
                 "description"}, what)
    output = cx.need(nd, "output", str, what)
    offset = float(_num(cx, nd.get("offset", 0.0), nd.locs.get("offset", nd.loc), f"{what} offset"))
    scaling = nd.get("scaling")
    if scaling is not None:
        cx.keys(scaling, {"base_score", "base_odds", "pdo"}, f"{what} scaling")
        scaling = {k: float(_num(cx, cx.need(scaling, k, (int, float), f"{what} scaling"), scaling.locs[k],
                                 f"{what} scaling {k}")) for k in ("base_score", "base_odds", "pdo")}
    pd_output = cx.opt(nd, "pd_output", str, what)
    if pd_output and scaling is None:
        raise cx.err(f"{what}: pd_output needs scaling", nd.locs["pd_output"])
    chars_raw = cx.need(nd, "characteristics", list, what)
    chars: list[Characteristic] = []
    for i, c in enumerate(chars_raw):
        if not isinstance(c, LDict):
            raise cx.err(f"{what}: a characteristic must be a mapping", chars_raw.locs[i])
        cx.keys(c, {"name", "input", "reason_code", "bins", "description"}, f"{what} characteristic")
        cname = cx.ident(cx.need(c, "name", str, f"{what} characteristic"), c.locs["name"],
                         f"{what}: characteristic name")
        inp = _check(cx, c.get("input", cname), c.locs.get("input", c.locs["name"]), scope, used)
        bins_raw = cx.need(c, "bins", list, f"characteristic {cname!r}")
        bins: list[Bin] = []
        for j, b in enumerate(bins_raw):
            bw = f"characteristic {cname!r} bin {j + 1}"
            bl = bins_raw.locs[j]
            if not isinstance(b, LDict) or "points" not in b:
                raise cx.err(f"{bw}: a bin is a mapping with 'points'", bl)
            pts = float(_num(cx, b["points"], b.locs["points"], f"{bw} points"))
            keys = set(b) - {"points"}
            if keys == {"missing"}:
                bins.append(Bin("missing", pts))
            elif keys == {"else"}:
                bins.append(Bin("else", pts))
            elif keys == {"in"}:
                vals = b["in"]
                if not isinstance(vals, list):
                    raise cx.err(f"{bw}: 'in' needs a list", b.locs["in"])
                for x in vals:
                    if not _compatible(_value_type(cx, x, b.locs["in"], bw), inp.type):
                        raise cx.err(f"{bw}: value {x!r} cannot match input of type {inp.type}", b.locs["in"])
                bins.append(Bin("in", pts, tuple(vals)))
            elif keys and keys <= {"ge", "lt"}:
                if inp.type not in NUMERIC:
                    raise cx.err(f"{bw}: ranges need a numeric input, got {inp.type}", bl)
                bins.append(Bin("range", pts, ge=b.get("ge"), lt=b.get("lt")))
                for k in keys:
                    _num(cx, b[k], b.locs[k], f"{bw} {k}")
            else:
                raise cx.err(f"{bw}: use one of missing / in / ge+lt / else", bl)
        if not bins or bins[-1].kind != "else":
            raise cx.err(f"characteristic {cname!r}: the last bin must be {{else: true, points: …}}", c.locs["bins"])
        chars.append(Characteristic(cname, inp, cx.opt(c, "reason_code", str, what, cname.upper()), bins))
    reasons = int(cx.opt(nd, "reasons", int, what, 0))
    sym(output, "float", False)
    if pd_output:
        sym(pd_output, "float", False)
    return Scorecard(nd["id"], output, offset, scaling, pd_output, reasons, chars), syms
