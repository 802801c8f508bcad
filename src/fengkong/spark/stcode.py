"""Strategies compiled to Spark column expressions: the Spark twin of :mod:`fengkong.strategy.plcode`.

Node for node the same semantics as the Polars target (a comparison with a null operand is false, a null
condition is false, ÷0 is null, NaN in a float input is missing), emitted as Spark ``Column`` expressions
so that Spark's optimiser plans the whole backtest: one projection per node in flow order, then the
outcome policy, outputs, reason codes and rule hits as array expressions.

Functions and nodes with no exact Spark builtin twin run as vectorised Arrow UDFs that evaluate the node's
own Polars compilation, so their dialect and engine are the Polars backtest's: ``matches()`` (Java's
backtracking regex reads ``\\b``, ``$``, ``\\v`` and ``(?i)`` otherwise than RE2/Rust and is not
linear-time), the packs' registered functions, LightGBM models and, unless ``jvm_math=True``, ``exp``,
``log`` and ``2**x`` (scorecard PD, logistic models: the JVM's math and Polars'
differ in the last bit on about a third of the inputs). :func:`udf_constructs` names them.
A function whose Polars compilation cannot be built is refused when the strategy is compiled
(:class:`fengkong.spark.SparkUnsupportedError` naming it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fengkong.spark.stexpr import (
    CAST_TYPES,
    SPARK_TYPES,
    SparkGen,
    any_of,
    col,
    fill_false,
    isin,
    least_greatest,
    lit,
    pl_col,
    polars_udf,
    reduce_all,
)
from fengkong.strategy.expr import Node
from fengkong.strategy.expr_pl import PlGen
from fengkong.strategy.pycode import ACTION_BY_RANK
from fengkong.strategy.spec import ACTION_RANK, Assign, Cell, Model, RuleSet, Scorecard, StrategySpec, Table


def _cell(c: Cell, x: Any, in_type: str) -> Any:
    from pyspark.sql import functions as F

    if c.kind == "any":
        return F.lit(True)
    if c.kind == "missing":
        return x.isNull()
    if c.kind == "eq":
        return fill_false(x == lit(c.values[0]))
    if c.kind in ("in", "not_in"):
        e = fill_false(isin(x, list(c.values), in_type))
        return (~e & x.isNotNull()) if c.kind == "not_in" else e
    e = F.lit(True)
    for bound, op in ((c.ge, "ge"), (c.gt, "gt"), (c.le, "le"), (c.lt, "lt")):
        if bound is not None:
            e = e & {"ge": x >= bound, "gt": x > bound, "le": x <= bound, "lt": x < bound}[op]
    return fill_false(e)


def _gate(when: Any, e: Any) -> Any:
    from pyspark.sql import functions as F

    return e if when is None else F.when(when, e)


def prepare(spec: StrategySpec, frame: Any) -> Any:
    """Cast the used event/feature columns to 64-bit types (missing ones become typed nulls; NaN → null)."""
    from pyspark.sql import functions as F

    have = set(frame.columns)
    cols: dict[str, Any] = {}
    for s in {s.column: s for s in spec.used.values() if s.source in ("event", "feature")}.values():
        t = SPARK_TYPES.get(s.type)
        if s.column not in have:
            cols[s.column] = F.lit(None).cast(t or "string")
            continue
        e = col(s.column)
        if s.type in CAST_TYPES:
            e = e.cast(CAST_TYPES[s.type])
        if s.type == "float":
            e = F.when(~F.isnan(e), e)
        cols[s.column] = e
    return frame.withColumns(cols) if cols else frame


def decide(
    frame: Any,
    spec: StrategySpec,
    lists: Mapping[str, Any] | None = None,
    udfs: list[str] | None = None,
    jvm_math: bool = False,
) -> Any:
    """Spark DataFrame of decisions (``plcode.evaluate_frame``'s columns) for every row of ``frame``.

    ``udfs``: if given, receives the constructs that run as Arrow UDFs (see the module doc);
    ``jvm_math``: ``exp``/``log``/``2**x`` by the JVM (no UDF, may differ from Polars in the last bit).
    """
    from pyspark.sql import functions as F

    g = SparkGen(lists, where=f"strategy {spec.name}@{spec.version}", jvm_math=jvm_math)
    df = prepare(spec, frame)
    hit_cols: dict[int, str] = {}
    for step in spec.steps:
        node = spec.nodes[step.node]
        when = None
        if step.when is not None:
            df = df.withColumn(f"__when.{node.id}", g.bool_(step.when))
            when = col(f"__when.{node.id}")
        if isinstance(node, RuleSet):
            df = _ruleset(g, spec, node, when, df, hit_cols)
        elif isinstance(node, Assign):
            for name, n in node.values.items():
                t = spec.symbols[name].type
                e = g.expr(n)
                df = df.withColumn(
                    spec.symbols[name].column, _gate(when, e.cast(CAST_TYPES[t]) if t in CAST_TYPES else e)
                )
        elif isinstance(node, Table):
            df = _table(g, spec, node, when, df)
        elif isinstance(node, Scorecard):
            df = _scorecard(g, spec, node, when, df)
        elif isinstance(node, Model):
            df = df.withColumn(spec.symbols[node.output].column, _gate(when, _model(g, node)))
    flags = {}
    for action in ("reject", "review", "flag", "allow"):
        flags[f"__any_{action}"] = any_of([col(hit_cols[r.index]) for r in spec.rules if r.action == action])
    df = df.withColumns(flags)
    oc: Any = None
    pr: Any = None
    for i, orule in enumerate(spec.outcome_rules):
        if orule.when is None:
            oc = F.lit(orule.outcome) if oc is None else oc.otherwise(F.lit(orule.outcome))
            pr = F.lit(i) if pr is None else pr.otherwise(F.lit(i))
            break
        c = g.bool_(orule.when)
        oc = F.when(c, F.lit(orule.outcome)) if oc is None else oc.when(c, F.lit(orule.outcome))
        pr = F.when(c, F.lit(i)) if pr is None else pr.when(c, F.lit(i))
    df = df.withColumns(
        {
            "outcome": oc if oc is not None else F.lit(None).cast("string"),
            "__pr": pr if pr is not None else F.lit(None).cast("int"),
        }
    )
    if spec.outputs:
        df = df.withColumns({f"out.{k}": g.expr(n) for k, n in spec.outputs.items()})
    df = df.withColumns(
        {"reason_codes": _reason_codes(spec, hit_cols), "rules_hit": _rules_hit(spec, hit_cols)}
    )
    keep = (["event_id"] if "event_id" in frame.columns else []) + ["outcome", "reason_codes", "rules_hit"]
    keep += [f"out.{k}" for k in spec.outputs] + [spec.symbols[s].column for s in spec.scores]
    keep += [hit_cols[r.index] for r in spec.rules]
    if udfs is not None:
        udfs.extend(g.udfs)
    return df.select(*[col(c) for c in keep])


def _ruleset(
    g: SparkGen, spec: StrategySpec, node: RuleSet, when: Any, df: Any, hit_cols: dict[int, str]
) -> Any:
    from pyspark.sql import functions as F

    conds = {}
    for r in node.rules:
        c = g.bool_(r.when)
        c = c if when is None else (when & c)
        conds[f"__c.{r.index}" if node.hit_policy == "first" else f"hit.{r.id}"] = c
        hit_cols[r.index] = f"hit.{r.id}"
    df = df.withColumns(conds) if conds else df
    if node.hit_policy == "first" and node.rules:
        hits = {}
        for i, r in enumerate(node.rules):
            c = col(f"__c.{r.index}")
            if i:
                c = c & ~any_of([col(f"__c.{x.index}") for x in node.rules[:i]])
            hits[f"hit.{r.id}"] = c
        df = df.withColumns(hits)
    extra = {}
    if f"{node.id}.hit" in spec.used:
        extra[f"{node.id}.hit"] = any_of([col(hit_cols[r.index]) for r in node.rules])
    if f"{node.id}.action" in spec.used:
        ranks = [
            F.when(col(hit_cols[r.index]), F.lit(ACTION_RANK[r.action])).otherwise(F.lit(0))
            for r in node.rules
        ]
        rank = least_greatest("max", ranks) if ranks else F.lit(0)
        names = F.array(*[F.lit(a) for a in ACTION_BY_RANK])
        extra[f"{node.id}.action"] = F.element_at(names, rank + 1)
    return df.withColumns(extra) if extra else df


def _table(g: SparkGen, spec: StrategySpec, node: Table, when: Any, df: Any) -> Any:
    from pyspark.sql import functions as F

    df = df.withColumns({f"__ti.{node.id}.{k}": g.expr(n) for k, n in node.inputs.items()})
    types = {k: n.type for k, n in node.inputs.items()}

    def row_cond(conds: dict[str, Cell]) -> Any:
        e = F.lit(True)
        for k, c in conds.items():
            e = e & _cell(c, col(f"__ti.{node.id}.{k}"), types[k])
        return e

    outs = {}
    for o in node.outputs:
        dt = CAST_TYPES.get(node.out_types[o], "double")
        if node.hit_policy == "first":
            e: Any = None
            for conds, vals in node.rows:
                v = F.lit(vals[o]).cast(dt)
                e = F.when(row_cond(conds), v) if e is None else e.when(row_cond(conds), v)
            dflt = F.lit(node.default.get(o)).cast(dt)
            e = e.otherwise(dflt) if e is not None else dflt
        else:
            parts = []
            for conds, vals in node.rows:
                if node.aggregate == "count":
                    parts.append(row_cond(conds).cast("long"))
                elif o in vals:
                    parts.append(F.when(row_cond(conds), F.lit(vals[o]).cast(dt)))
            if node.aggregate == "count":
                e = reduce_all(lambda a, b: a + b, parts) if parts else F.lit(0).cast("long")
            elif node.aggregate == "sum":
                e = (
                    reduce_all(lambda a, b: a + b, [F.coalesce(p, F.lit(0)) for p in parts]).cast(dt)
                    if parts
                    else F.lit(0).cast(dt)
                )
            else:
                e = least_greatest(node.aggregate, parts) if parts else F.lit(None).cast(dt)
                if o in node.default:
                    e = F.coalesce(e, F.lit(node.default[o]).cast(dt))
        outs[spec.symbols[o].column] = _gate(when, e.cast(dt))
    return df.withColumns(outs)


def _scorecard(g: SparkGen, spec: StrategySpec, node: Scorecard, when: Any, df: Any) -> Any:
    from pyspark.sql import functions as F

    df = df.withColumns({f"__x.{node.id}.{i}": g.expr(ch.input) for i, ch in enumerate(node.characteristics)})
    pts = {}
    for i, ch in enumerate(node.characteristics):
        x = col(f"__x.{node.id}.{i}")
        e: Any = None
        for b in ch.bins:
            p = F.lit(b.points)
            if b.kind == "else":
                e = p if e is None else e.otherwise(p)
                break
            if b.kind == "missing":
                c = x.isNull()
            elif b.kind == "in":
                c = fill_false(isin(x, list(b.values), ch.input.type))
            else:
                c = F.lit(True)
                if b.ge is not None:
                    c = c & (x >= b.ge)
                if b.lt is not None:
                    c = c & (x < b.lt)
                c = fill_false(c)
            e = F.when(c, p) if e is None else e.when(c, p)
        pts[f"__pts.{node.id}.{i}"] = (e if e is not None else F.lit(None)).cast("double")
    df = df.withColumns(pts)
    score = F.lit(float(node.offset))
    for i in range(len(node.characteristics)):
        score = score + col(f"__pts.{node.id}.{i}")
    out = spec.symbols[node.output].column
    df = df.withColumn(out, _gate(when, score))
    if node.pd_output:
        s = node.scaling
        if g.jvm_math:
            pdv = 1.0 / (1.0 + s["base_odds"] * F.pow(F.lit(2.0), (col(out) - s["base_score"]) / s["pdo"]))
        else:
            g.udfs.append(f"scorecard {node.id} pd (2**x)")

            def build(_: PlGen, s: dict = s) -> Any:
                import polars as pl

                return 1.0 / (
                    1.0 + s["base_odds"] * pl.lit(2.0).pow((pl.col("a0") - s["base_score"]) / s["pdo"])
                )

            pdv = polars_udf(build, "double", {})(col(out))
        df = df.withColumn(spec.symbols[node.pd_output].column, pdv)
    return df


def _model(g: SparkGen, node: Model) -> Any:
    from pyspark.sql import functions as F

    if node.format == "logistic":
        z = F.lit(float(node.intercept))
        for k, n in node.inputs.items():
            z = z + F.lit(float(node.coef[k])) * g.expr(n)
        if g.jvm_math:
            return 1.0 / (1.0 + F.exp(-z))
        g.udfs.append(f"model {node.id} (logistic, exp)")
        return polars_udf(lambda _: 1.0 / (1.0 + (-pl_col("a0")).exp()), "double", {})(z)
    from fengkong.strategy.pycode import LightGBMPredictor

    text, n_in, names = node.artifact_text or "", len(node.inputs), list(node.inputs)
    cols = [g.expr(n).cast("double") for n in node.inputs.values()]
    g.udfs.append(f"model {node.id} (lightgbm)")

    def build(_: PlGen) -> Any:
        import polars as pl

        pred = LightGBMPredictor(text, n_in)
        struct = pl.struct([pl.col(f"a{i}").cast(pl.Float64).alias(k) for i, k in enumerate(names)])
        return struct.map_batches(
            lambda s: pl.Series(
                pred.predict_matrix(s.struct.unnest().select(names).to_numpy()), dtype=pl.Float64
            ),
            return_dtype=pl.Float64,
        )

    return polars_udf(build, "double", {})(*cols)


def _rules_hit(spec: StrategySpec, hit_cols: dict[int, str]) -> Any:
    from pyspark.sql import functions as F

    if not spec.rules:
        return F.array().cast("array<string>")
    arr = F.array(*[F.when(col(hit_cols[r.index]), F.lit(r.id)) for r in spec.rules])
    return F.filter(arr, lambda x: x.isNotNull())


def _reason_codes(spec: StrategySpec, hit_cols: dict[int, str]) -> Any:
    """The policy rule's code, then the hit rules' codes by action severity and rule order, without repeats."""
    from pyspark.sql import functions as F

    pcode: Any = None
    for i, orule in enumerate(spec.outcome_rules):
        if orule.reason_code:
            v = F.lit(orule.reason_code)
            pcode = F.when(col("__pr") == i, v) if pcode is None else pcode.when(col("__pr") == i, v)
    parts = [pcode if pcode is not None else F.lit(None).cast("string")]
    order = sorted(spec.rules, key=lambda r: (4 - ACTION_RANK[r.action]) * 1_000_000 + r.index)
    parts += [F.when(col(hit_cols[r.index]), F.lit(r.reason_code)) for r in order]
    return F.array_distinct(F.filter(F.array(*parts).cast("array<string>"), lambda x: x.isNotNull()))


def udf_constructs(spec: StrategySpec, jvm_math: bool = False) -> list[str]:
    """The constructs of ``spec`` that the Spark target runs as Arrow UDFs (no session needed to call it)."""
    g = SparkGen(jvm_math=jvm_math)
    out: list[str] = []

    def walk(n: Node | None) -> None:
        if n is None:
            return
        types = {a.type for a in n.args}
        if n.op == "call" and (
            not g.native(n.value) or (n.value == "days_between" and "date" in types and types != {"date"})
        ):
            out.append(f"{n.value}()")
        for a in n.args:
            walk(a)

    for step in spec.steps:
        walk(step.when)
        node = spec.nodes[step.node]
        if isinstance(node, RuleSet):
            for r in node.rules:
                walk(r.when)
        elif isinstance(node, Assign | Table | Model):
            for n in (node.values if isinstance(node, Assign) else node.inputs).values():
                walk(n)
        elif isinstance(node, Scorecard):
            for ch in node.characteristics:
                walk(ch.input)
            if node.pd_output and not jvm_math:
                out.append(f"scorecard {node.id} pd (2**x)")
        if isinstance(node, Model) and (node.format != "logistic" or not jvm_math):
            out.append(f"model {node.id} ({node.format}{', exp' if node.format == 'logistic' else ''})")
    for orule in spec.outcome_rules:
        walk(orule.when)
    for n in spec.outputs.values():
        walk(n)
    return list(dict.fromkeys(out))
