"""Building each node of a strategy from its YAML, every expression type-checked against the scope."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fengkong.strategy.expr import NUMERIC, Node, Sym, compile_expr, unify
from fengkong.strategy.located import LDict, Loc
from fengkong.strategy.nodes import (
    ACTIONS,
    Assign,
    Bin,
    Cell,
    Characteristic,
    Model,
    Rule,
    RuleSet,
    Scorecard,
    Table,
)
from fengkong.strategy.parse_ctx import ParseContext, key_loc

#: Largest LightGBM model artifact a strategy may name (bytes).
MAX_ARTIFACT_BYTES = 64 << 20


def check_expr(
    cx: ParseContext,
    text: Any,
    loc: Loc,
    scope: Mapping[str, Sym],
    used: dict[str, Sym],
    want: str | None = None,
) -> Node:
    """Compile one expression against ``scope``, recording the names it uses in ``used``."""
    n, u = compile_expr(text, scope, loc, want=want)
    used.update(u)
    return n


def build_node(
    cx: ParseContext,
    nd: LDict,
    scope: dict[str, Sym],
    used: dict[str, Sym],
    conditional: bool,
    base_dir: Path | None,
    art_in: Mapping[str, str],
    art_out: dict[str, str],
) -> tuple[Any, dict[str, Sym]]:
    """One node of the strategy (ruleset, table, scorecard, model, assign) and the names it adds to the scope;
    model artifacts come from ``art_in`` or ``base_dir`` and are recorded in ``art_out``."""
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
            cond = check_expr(cx, r["when"], r.locs["when"], scope, used, want="bool")
            code = cx.opt(r, "reason_code", str, f"rule {rid!r}", rid)
            rules.append(Rule(rid, cond, action, code, cx.opt(r, "reason", str, f"rule {rid!r}", code), nid))
        syms[f"{nid}.hit"] = Sym(f"{nid}.hit", "bool", False, f"o_{nid}__hit", f"{nid}.hit", "node", nid)
        syms[f"{nid}.action"] = Sym(
            f"{nid}.action", "str", False, f"o_{nid}__action", f"{nid}.action", "node", nid
        )
        return RuleSet(nid, hp, rules), syms

    if ntype == "assign":
        cx.keys(nd, {"id", "type", "values", "description"}, what)
        values = cx.need(nd, "values", dict, what)
        local = dict(scope)
        out: dict[str, Node] = {}
        for k, v in values.items():
            n = check_expr(cx, v, values.locs[k], local, used)
            out[k] = n
            sym(k, n.type if n.type != "null" else "float", n.nullable)
            local[k] = syms[k]
        return Assign(nid, out), syms

    if ntype == "table":
        return _build_table(cx, nd, scope, used, sym, syms, what)

    if ntype == "scorecard":
        return _build_scorecard(cx, nd, scope, used, sym, syms, what)

    # model
    cx.keys(
        nd, {"id", "type", "format", "artifact", "inputs", "output", "intercept", "coef", "description"}, what
    )
    fmt = cx.need(nd, "format", str, what)
    inputs_raw = cx.need(nd, "inputs", dict, what)
    for k in inputs_raw:
        cx.ident(k, key_loc(inputs_raw, k), f"{what}: input")
    inputs = {
        k: check_expr(cx, v, inputs_raw.locs[k], scope, used, want="num") for k, v in inputs_raw.items()
    }
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
        node = Model(
            nid,
            fmt,
            inputs,
            output,
            intercept=float(cx.opt(nd, "intercept", (int, float), what, 0.0)),
            coef={k: float(v) for k, v in coef_raw.items()},
        )
    elif fmt == "lightgbm":
        art = cx.need(nd, "artifact", str, what)
        if art in art_in:
            text = art_in[art]
        else:
            p = (base_dir or Path(".")) / art
            try:
                if p.is_file() and p.stat().st_size > MAX_ARTIFACT_BYTES:
                    raise cx.err(
                        f"{what}: model artifact {str(p)!r} is {p.stat().st_size} bytes (at most "
                        f"{MAX_ARTIFACT_BYTES})",
                        nd.locs["artifact"],
                    )
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise cx.err(
                    f"{what}: model artifact {str(p)!r} is not UTF-8 text", nd.locs["artifact"]
                ) from None
            except OSError as exc:
                raise cx.err(
                    f"{what}: cannot read model artifact {str(p)!r}: {exc.strerror}", nd.locs["artifact"]
                ) from None
        art_out[art] = text
        node = Model(nid, fmt, inputs, output, artifact=art, artifact_text=text, where=nd.locs["artifact"])
    else:
        raise cx.err(f"{what}: format must be 'lightgbm' or 'logistic'", nd.locs["format"])
    sym(output, "float", True)
    return node, syms


def _num(cx: ParseContext, v: Any, loc: Loc, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise cx.err(f"{what} must be a number", loc)
    return v


def _build_table(cx, nd, scope, used, sym, syms, what):
    cx.keys(
        nd,
        {"id", "type", "hit_policy", "aggregate", "inputs", "outputs", "rows", "default", "description"},
        what,
    )
    hp = cx.opt(nd, "hit_policy", str, what, "first")
    if hp not in ("first", "collect"):
        raise cx.err(f"{what}: hit_policy must be 'first' or 'collect'", nd.locs["hit_policy"])
    agg = cx.opt(nd, "aggregate", str, what, "sum" if hp == "collect" else None)
    if hp == "collect" and agg not in ("sum", "count", "min", "max"):
        raise cx.err(f"{what}: aggregate must be sum, count, min or max", nd.locs["aggregate"])
    inputs_raw = cx.need(nd, "inputs", dict, what)
    for k in inputs_raw:
        cx.ident(k, key_loc(inputs_raw, k), f"{what}: input")
    inputs = {k: check_expr(cx, v, inputs_raw.locs[k], scope, used) for k, v in inputs_raw.items()}
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
                raise cx.err(
                    f"{what}: row {i + 1} has column {k!r} that is neither an input nor an output", loc
                )
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


def _value_type(cx: ParseContext, v: Any, loc: Loc, what: str) -> str:
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


def _cell(cx: ParseContext, v: Any, loc: Loc, in_type: str, what: str) -> Cell:
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
        raise cx.err(
            f"{what}: a cell is a value, '-', {{in: [...]}}, {{not_in: [...]}}, {{missing: true}} or "
            f"a range {{ge, gt, le, lt}}",
            loc,
        )
    t = _value_type(cx, v, loc, what)
    if not _compatible(t, in_type):
        raise cx.err(f"{what}: value {v!r} ({t}) cannot match input of type {in_type}", loc)
    return Cell("eq", (v,))


def _compatible(t: str, in_type: str) -> bool:
    return t == in_type or (t in NUMERIC and in_type in NUMERIC) or in_type == "null"


def _build_scorecard(cx, nd, scope, used, sym, syms, what):
    cx.keys(
        nd,
        {
            "id",
            "type",
            "output",
            "offset",
            "scaling",
            "pd_output",
            "reasons",
            "characteristics",
            "description",
        },
        what,
    )
    output = cx.need(nd, "output", str, what)
    offset = float(_num(cx, nd.get("offset", 0.0), nd.locs.get("offset", nd.loc), f"{what} offset"))
    scaling = nd.get("scaling")
    if scaling is not None:
        cx.keys(scaling, {"base_score", "base_odds", "pdo"}, f"{what} scaling")
        scaling = {
            k: float(
                _num(
                    cx,
                    cx.need(scaling, k, (int, float), f"{what} scaling"),
                    scaling.locs[k],
                    f"{what} scaling {k}",
                )
            )
            for k in ("base_score", "base_odds", "pdo")
        }
    pd_output = cx.opt(nd, "pd_output", str, what)
    if pd_output and scaling is None:
        raise cx.err(f"{what}: pd_output needs scaling", nd.locs["pd_output"])
    chars_raw = cx.need(nd, "characteristics", list, what)
    chars: list[Characteristic] = []
    for i, c in enumerate(chars_raw):
        if not isinstance(c, LDict):
            raise cx.err(f"{what}: a characteristic must be a mapping", chars_raw.locs[i])
        cx.keys(c, {"name", "input", "reason_code", "bins", "description"}, f"{what} characteristic")
        cname = cx.ident(
            cx.need(c, "name", str, f"{what} characteristic"), c.locs["name"], f"{what}: characteristic name"
        )
        inp = check_expr(cx, c.get("input", cname), c.locs.get("input", c.locs["name"]), scope, used)
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
            raise cx.err(
                f"characteristic {cname!r}: the last bin must be {{else: true, points: …}}", c.locs["bins"]
            )
        chars.append(Characteristic(cname, inp, cx.opt(c, "reason_code", str, what, cname.upper()), bins))
    reasons = int(cx.opt(nd, "reasons", int, what, 0))
    sym(output, "float", False)
    if pd_output:
        sym(pd_output, "float", False)
    return Scorecard(nd["id"], output, offset, scaling, pd_output, reasons, chars), syms
