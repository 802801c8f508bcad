"""Vectorised evaluation of a checked strategy over a frame of events with Polars expressions.

Same semantics as :mod:`fengkong.strategy.pycode`, column by column: one ``with_columns`` stage per
node in flow order, then the outcome policy, outputs, reason codes and rule hits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from fengkong.strategy.expr_pl import PlGen, isin
from fengkong.strategy.nodes import ACTION_RANK, Assign, Cell, Model, RuleSet, Scorecard, StrategySpec, Table
from fengkong.strategy.pycode import ACTION_BY_RANK

_PL = {"int": pl.Int64, "float": pl.Float64, "str": pl.Utf8, "bool": pl.Boolean}


def _cell(c: Cell, x: pl.Expr, in_type: str) -> pl.Expr:
    if c.kind == "any":
        return pl.lit(True)
    if c.kind == "missing":
        return x.is_null()
    if c.kind == "eq":
        return (x == pl.lit(c.values[0])).fill_null(False)
    if c.kind in ("in", "not_in"):
        e = isin(x, list(c.values), in_type).fill_null(False)
        return (~e & x.is_not_null()) if c.kind == "not_in" else e
    e = pl.lit(True)
    if c.ge is not None:
        e = e & (x >= c.ge)
    if c.gt is not None:
        e = e & (x > c.gt)
    if c.le is not None:
        e = e & (x <= c.le)
    if c.lt is not None:
        e = e & (x < c.lt)
    return e.fill_null(False)


def _gate(when: pl.Expr | None, e: pl.Expr) -> pl.Expr:
    return e if when is None else pl.when(when).then(e).otherwise(None)


def prepare(spec: StrategySpec, frame: pl.DataFrame) -> pl.LazyFrame:
    """Cast the used event/feature columns to 64-bit types (missing ones become null columns, NaN in a
    float column becomes null)."""
    lf = frame.lazy()
    cols = set(frame.columns)
    exprs = []
    for s in {s.column: s for s in spec.used.values() if s.source in ("event", "feature")}.values():
        dtype = _PL.get(s.type)
        if s.column not in cols:
            if s.type == "datetime":
                from fengkong.events import TS_DTYPE

                dtype = TS_DTYPE
            elif s.type == "list":
                dtype = pl.List(pl.Utf8)
            elif s.type == "date":
                dtype = pl.Date
            exprs.append(pl.lit(None, dtype=dtype).alias(s.column))
            continue
        e = pl.col(s.column)
        if dtype is not None and frame.schema[s.column] != dtype:
            e = e.cast(dtype)
        if s.type == "float":  # NaN is missing: the same null semantics as the Python side
            e = e.fill_nan(None)
        if dtype is not None and (s.type == "float" or frame.schema[s.column] != dtype):
            exprs.append(e)
    return lf.with_columns(exprs) if exprs else lf


def evaluate_frame(spec: StrategySpec, frame: pl.DataFrame, lists: Mapping[str, Any] | None = None,
                   pyfuncs: Mapping[str, Any] | None = None) -> pl.DataFrame:
    """Evaluate every row; returns event_id (if present), outcome, reason_codes, rules_hit, outputs, scores,
    and one boolean ``hit.<rule id>`` column per rule."""
    g = PlGen({"lists": lists or {}})
    lf = prepare(spec, frame)
    hit_cols: dict[int, str] = {}
    models = pyfuncs or {}
    for step in spec.steps:
        node = spec.nodes[step.node]
        when = g.bool_(step.when) if step.when is not None else None
        if when is not None:
            lf = lf.with_columns(when.alias(f"__when.{node.id}"))
            when = pl.col(f"__when.{node.id}")
        if isinstance(node, RuleSet):
            conds = []
            for r in node.rules:
                c = g.bool_(r.when)
                c = c if when is None else (when & c)
                name = f"__c.{r.index}" if node.hit_policy == "first" else f"hit.{r.id}"
                conds.append(c.alias(name))
                hit_cols[r.index] = f"hit.{r.id}"
            lf = lf.with_columns(conds) if conds else lf
            if node.hit_policy == "first" and node.rules:
                hits = []
                for i, r in enumerate(node.rules):
                    c = pl.col(f"__c.{r.index}")
                    if i:
                        c = c & ~pl.any_horizontal([pl.col(f"__c.{x.index}") for x in node.rules[:i]])
                    hits.append(c.alias(f"hit.{r.id}"))
                lf = lf.with_columns(hits)
            extra = []
            if f"{node.id}.hit" in spec.used:
                extra.append((pl.any_horizontal([pl.col(hit_cols[r.index]) for r in node.rules])
                              if node.rules else pl.lit(False)).alias(f"{node.id}.hit"))
            if f"{node.id}.action" in spec.used:
                rank = pl.max_horizontal([pl.when(pl.col(hit_cols[r.index])).then(ACTION_RANK[r.action])
                                          .otherwise(0) for r in node.rules]) if node.rules else pl.lit(0)
                extra.append(rank.replace_strict(list(range(5)), list(ACTION_BY_RANK), return_dtype=pl.Utf8)
                             .alias(f"{node.id}.action"))
            lf = lf.with_columns(extra) if extra else lf
        elif isinstance(node, Assign):
            for name, n in node.values.items():
                t = spec.symbols[name].type
                e = g.expr(n)
                if t in _PL:
                    e = e.cast(_PL[t])
                lf = lf.with_columns(_gate(when, e).alias(spec.symbols[name].column))
        elif isinstance(node, Table):
            lf = lf.with_columns([g.expr(n).alias(f"__ti.{node.id}.{k}") for k, n in node.inputs.items()])
            outs = []
            for o in node.outputs:
                dt = _PL.get(node.out_types[o], pl.Float64)

                def row_cond(conds: dict[str, Cell], nid: str = node.id,
                             types: dict[str, str] = {k: n.type for k, n in node.inputs.items()}) -> pl.Expr:  # noqa: B006
                    e = pl.lit(True)
                    for k, c in conds.items():
                        e = e & _cell(c, pl.col(f"__ti.{nid}.{k}"), types[k])
                    return e

                if node.hit_policy == "first":
                    e: Any = None
                    for conds, vals in node.rows:
                        v = pl.lit(vals[o]).cast(dt)
                        e = pl.when(row_cond(conds)).then(v) if e is None else e.when(row_cond(conds)).then(v)
                    dflt = pl.lit(node.default.get(o)).cast(dt)
                    e = e.otherwise(dflt) if e is not None else dflt
                else:
                    parts = []
                    for conds, vals in node.rows:
                        if node.aggregate == "count":
                            parts.append(row_cond(conds).cast(pl.Int64))
                        elif o in vals:
                            parts.append(pl.when(row_cond(conds)).then(pl.lit(vals[o]).cast(dt)))
                    if node.aggregate == "count":
                        e = pl.sum_horizontal(parts) if parts else pl.lit(0, dtype=pl.Int64)
                    elif node.aggregate == "sum":
                        e = pl.sum_horizontal([p.fill_null(0) for p in parts]).cast(dt) if parts else pl.lit(0).cast(dt)
                    else:
                        fn = pl.min_horizontal if node.aggregate == "min" else pl.max_horizontal
                        e = fn(parts) if parts else pl.lit(None).cast(dt)
                        if o in node.default:
                            e = e.fill_null(pl.lit(node.default[o]).cast(dt))
                outs.append(_gate(when, e.cast(dt)).alias(spec.symbols[o].column))
            lf = lf.with_columns(outs)
        elif isinstance(node, Scorecard):
            lf = lf.with_columns([g.expr(ch.input).alias(f"__x.{node.id}.{i}")
                                  for i, ch in enumerate(node.characteristics)])
            pts = []
            for i, ch in enumerate(node.characteristics):
                x = pl.col(f"__x.{node.id}.{i}")
                e = None
                for b in ch.bins:
                    if b.kind == "else":
                        e = pl.lit(b.points) if e is None else e.otherwise(pl.lit(b.points))
                        break
                    if b.kind == "missing":
                        c = x.is_null()
                    elif b.kind == "in":
                        c = isin(x, list(b.values), ch.input.type).fill_null(False)
                    else:
                        c = pl.lit(True)
                        if b.ge is not None:
                            c = c & (x >= b.ge)
                        if b.lt is not None:
                            c = c & (x < b.lt)
                        c = c.fill_null(False)
                    e = pl.when(c).then(pl.lit(b.points)) if e is None else e.when(c).then(pl.lit(b.points))
                pts.append(e.cast(pl.Float64).alias(f"__pts.{node.id}.{i}"))
            lf = lf.with_columns(pts)
            score = pl.lit(node.offset, dtype=pl.Float64)
            for i in range(len(node.characteristics)):
                score = score + pl.col(f"__pts.{node.id}.{i}")
            lf = lf.with_columns(_gate(when, score).alias(spec.symbols[node.output].column))
            if node.pd_output:
                s = node.scaling
                sc = pl.col(spec.symbols[node.output].column)
                pdv = 1.0 / (1.0 + s["base_odds"] * pl.lit(2.0).pow((sc - s["base_score"]) / s["pdo"]))
                lf = lf.with_columns(pdv.alias(spec.symbols[node.pd_output].column))
        elif isinstance(node, Model):
            col = spec.symbols[node.output].column
            if node.format == "logistic":
                z = pl.lit(node.intercept, dtype=pl.Float64)
                for k, n in node.inputs.items():
                    z = z + pl.lit(node.coef[k], dtype=pl.Float64) * g.expr(n)
                e = 1.0 / (1.0 + (-z).exp())
            else:
                pred = models.get(node.id)
                if pred is None:
                    from fengkong.strategy.pycode import LightGBMPredictor

                    pred = LightGBMPredictor(node.artifact_text or "", len(node.inputs))
                names = list(node.inputs)
                struct = pl.struct([g.expr(n).cast(pl.Float64).alias(k) for k, n in node.inputs.items()])
                e = struct.map_batches(
                    lambda s, pred=pred, names=names: pl.Series(
                        pred.predict_matrix(s.struct.unnest().select(names).to_numpy()), dtype=pl.Float64),
                    return_dtype=pl.Float64)
            lf = lf.with_columns(_gate(when, e).alias(col))

    # policy flags
    flags = []
    for action in ("reject", "review", "flag", "allow"):
        cols = [pl.col(hit_cols[r.index]) for r in spec.rules if r.action == action]
        flags.append((pl.any_horizontal(cols) if cols else pl.lit(False)).alias(f"__any_{action}"))
    lf = lf.with_columns(flags)
    oc: Any = None
    pr: Any = None
    for i, orule in enumerate(spec.outcome_rules):
        if orule.when is None:
            oc = pl.lit(orule.outcome) if oc is None else oc.otherwise(pl.lit(orule.outcome))
            pr = pl.lit(i) if pr is None else pr.otherwise(pl.lit(i))
            break
        c = g.bool_(orule.when)
        oc = pl.when(c).then(pl.lit(orule.outcome)) if oc is None else oc.when(c).then(pl.lit(orule.outcome))
        pr = pl.when(c).then(pl.lit(i)) if pr is None else pr.when(c).then(pl.lit(i))
    lf = lf.with_columns(oc.alias("outcome"), pr.cast(pl.Int32).alias("__pr"))
    outs = []
    for name, n in spec.outputs.items():
        outs.append(g.expr(n).alias(f"out.{name}"))
    lf = lf.with_columns(outs) if outs else lf
    # reason codes and rule hits: one bitmask per 62 rules, decoded once per distinct combination
    masks = []
    for k in range(0, max(len(spec.rules), 1), 62):
        chunk = spec.rules[k:k + 62]
        m = pl.lit(0, dtype=pl.Int64)
        for j, r in enumerate(chunk):
            m = m + pl.col(hit_cols[r.index]).cast(pl.Int64) * (1 << j)
        masks.append(m.alias(f"__mask{k // 62}"))
    keys = ["__pr", *[f"__mask{k}" for k in range(len(masks))]]
    keep = (["event_id"] if "event_id" in frame.columns else []) + ["outcome"]
    keep += [f"out.{k}" for k in spec.outputs] + [spec.symbols[s].column for s in spec.scores]
    keep += [hit_cols[r.index] for r in spec.rules]
    df = lf.with_columns(masks).select([*keep, *keys]).collect()
    lut = _decode(spec, df.select(keys).unique(), keys)
    df = df.join(lut, on=keys, how="left", maintain_order="left")
    keep[keep.index("outcome") + 1:keep.index("outcome") + 1] = ["reason_codes", "rules_hit"]
    return df.select(keep)


def _decode(spec: StrategySpec, combos: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Reason codes and rule ids for each distinct (policy rule, hit masks) — the same ordering as
    :meth:`fengkong.strategy.compiled.Strategy.evaluate`."""
    sortkey = {r.index: (4 - ACTION_RANK[r.action]) * 1_000_000 + r.index for r in spec.rules}
    codes_out: list[list[str]] = []
    hits_out: list[list[str]] = []
    for row in combos.iter_rows():
        pr, masks = row[0], row[1:]
        hits = [r for k, m in enumerate(masks) for j, r in enumerate(spec.rules[k * 62:(k + 1) * 62]) if m >> j & 1]
        codes: list[str] = []
        pcode = spec.outcome_rules[pr].reason_code
        if pcode:
            codes.append(pcode)
        for r in sorted(hits, key=lambda r: sortkey[r.index]):
            if r.reason_code not in codes:
                codes.append(r.reason_code)
        codes_out.append(codes)
        hits_out.append([r.id for r in hits])
    return combos.with_columns(pl.Series("reason_codes", codes_out, dtype=pl.List(pl.Utf8)),
                               pl.Series("rules_hit", hits_out, dtype=pl.List(pl.Utf8)))
