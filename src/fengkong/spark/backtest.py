"""Backtest and batch decisions on Spark: a strategy over a Spark DataFrame of events.

The decisions are computed where the data is, by one of two targets: ``columns`` (default) compiles the
strategy to Spark column expressions (:mod:`fengkong.spark.stcode`) that Spark's optimiser plans with the
rest of the job; ``arrow`` runs each partition's Arrow batches through the compiled Polars target
(``fengkong.strategy.plcode``, the code ``fengkong backtest`` runs) in ``mapInArrow``. Both decide as the
Polars backtest, decision for decision. The summaries (outcome mix, rule hits, bad rates, swap set) are
Spark aggregations; only those small tables reach the driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fengkong.strategy.backtest import APPROVING, BacktestResult
from fengkong.strategy.compiled import Strategy


def prepare_frame(events: Any, strategy: Strategy, fs: Any = None, features: Any = None,
                  extra_features: Any = None) -> Any:
    """Spark twin of ``backtest.prepare_frame``: the strategy's events with ``__f.<name>`` feature columns.

    ``features``: a computed backfill (Spark DataFrame, event_id + features), else the used features are
    backfilled on Spark from ``fs`` (default: the standard library) and the providers' Spark twins;
    ``extra_features``: a further table (e.g. a provider's Polars backfill) joined by event_id.
    """
    from pyspark.sql import functions as F

    used = list(strategy.used_features)
    mine = events.filter(F.col("event_type") == strategy.event_type)
    if strategy.product:
        mine = mine.filter(F.col("product") == strategy.product)
    if not used:
        return mine
    have = set(extra_features.columns) if extra_features is not None else set()
    if features is None and not set(used) <= have:
        from fengkong.spark.backfill import backfill_all

        need = {n for n in used if n not in have}
        keep_fs = feature_set(strategy, fs, need)
        features = backfill_all(events, keep_fs, names=need - set(keep_fs.names))
    tables = [t for t in (features, extra_features) if t is not None]
    found: set[str] = set()
    for t in tables:
        cols = [c for c in used if c in t.columns and c not in found]
        found.update(cols)
        if cols:
            mine = mine.join(t.select("event_id", *[F.col(c).alias(f"__f.{c}") for c in cols]), "event_id", "left")
    missing = sorted(set(used) - found)
    if missing:
        raise ValueError(f"the feature backfill has no column(s) {', '.join(missing)}")
    return mine


def feature_set(strategy: Strategy, fs: Any = None, names: set[str] | None = None) -> Any:
    """The features of ``fs`` (default: the standard library) that ``strategy`` reads, with their inputs.

    ``names``: only these of the strategy's features. Provider features are not in it (see ``backfill_all``).
    """
    from fengkong.features import FeatureSet, load_features

    fs = fs if fs is not None else load_features()
    own = _closure(fs, set(strategy.used_features) if names is None else names)
    return FeatureSet([f for f in fs.features if f.name in own])


def _closure(fs: Any, names: set[str]) -> set[str]:
    out: set[str] = set()
    todo = [n for n in names if n in fs.by_name]
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo.extend(fs.by_name[n].inputs)
    return out


def _arrow_target(schema: Any) -> Any:
    """The Arrow schema Spark accepts back: plain (not large) strings and lists."""
    import pyarrow as pa

    from fengkong.spark.stexpr import plain_type

    return pa.schema([pa.field(f.name, plain_type(f.type)) for f in schema])


_DOT = "__dot__"


def _safe(schema: Any) -> Any:
    import pyarrow as pa

    return pa.schema([f.with_name(f.name.replace(".", _DOT)) for f in schema])


TARGETS = ("columns", "arrow")


def decide(frame: Any, strategy: Strategy, lists: Mapping[str, Any] | None = None, target: str = "columns",
           udfs: list[str] | None = None) -> Any:
    """Spark DataFrame of decisions (``evaluate_frame``'s columns) for every row of a prepared frame.

    ``target``: ``columns`` (Spark column expressions; ``udfs`` receives the constructs run as Arrow UDFs)
    or ``arrow`` (the Polars target per Arrow batch).
    """
    if target == "columns":
        from fengkong.spark.stcode import decide as decide_columns

        return decide_columns(frame, strategy.spec, lists, udfs)
    if target != "arrow":
        raise ValueError(f"Spark backtest target {target!r} is not one of {', '.join(TARGETS)}")
    return _decide_arrow(frame, strategy, lists)


def _decide_arrow(frame: Any, strategy: Strategy, lists: Mapping[str, Any] | None) -> Any:
    import polars as pl
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    spec = strategy.spec
    lst = {k: sorted(v) for k, v in (lists or {}).items()}
    names = frame.columns
    empty = pl.from_arrow(pa.Table.from_batches([], schema=frame.limit(0).toArrow().schema))
    target = _arrow_target(strategy.evaluate_frame(empty, lst).to_arrow().schema)
    safe_target = _safe(target)
    # Spark resolves dotted names as struct fields: carry ``__f.x`` / ``hit.x`` columns with the dot encoded
    frame = frame.toDF(*[c.replace(".", _DOT) for c in names])

    def run(batches: Any) -> Any:
        from fengkong.strategy.plcode import evaluate_frame

        for b in batches:
            if b.num_rows == 0:
                continue
            df = pl.from_arrow(pa.Table.from_batches([b])).rename(dict(zip(b.schema.names, names, strict=True)))
            out = evaluate_frame(spec, df, lst).to_arrow().cast(target)
            yield from out.rename_columns(safe_target.names).to_batches()

    out = frame.mapInArrow(run, from_arrow_schema(safe_target))
    return out.toDF(*target.names)


@dataclass
class SparkBacktestResult(BacktestResult):
    """A :class:`BacktestResult` whose ``decisions`` is a Spark DataFrame (written, never collected)."""

    approved: int = 0
    target: str = "columns"
    udfs: tuple[str, ...] = ()

    @property
    def approval_rate(self) -> float:
        return self.approved / self.n if self.n else 0.0

    def summary(self) -> dict[str, Any]:
        """``BacktestResult.summary`` plus the decision target and the constructs it ran as Arrow UDFs."""
        return {**super().summary(), "engine": "spark", "target": self.target, "arrow_udfs": list(self.udfs)}


def run(strategy: Strategy, frame: Any, labels: Any = None, against: Strategy | None = None,
        lists: Mapping[str, Any] | None = None, target: str = "columns") -> SparkBacktestResult:
    """Spark twin of ``backtest.run`` over a prepared Spark frame; ``labels``: Spark DataFrame event_id + bad.

    ``target``: how the decisions are computed (see :func:`decide`).
    """
    import polars as pl
    from pyspark.sql import functions as F

    udfs: list[str] = []
    dec = decide(frame, strategy, lists, target, udfs)
    if labels is not None:
        dec = dec.join(labels.select("event_id", F.col("bad").cast("byte")), "event_id", "left")
    if against is not None:
        other = decide(frame, against, lists, target, udfs).select("event_id", F.col("outcome").alias("outcome_b"))
        dec = dec.join(other, "event_id", "left")
    dec = dec.cache()
    rules = strategy.rules
    aggs = [F.count(F.lit(1)).alias("n")]
    aggs += [F.sum(F.col(f"`hit.{r.id}`").cast("long")).alias(f"h{i}") for i, r in enumerate(rules)]
    has_bad = labels is not None
    if has_bad:
        aggs += [F.count("bad").alias("labelled")]
        aggs += [F.avg(F.when(F.col(f"`hit.{r.id}`"), F.col("bad").cast("double"))).alias(f"b{i}")
                 for i, r in enumerate(rules)]
    tot = dec.agg(*aggs).first()
    n = int(tot["n"])
    mix = pl.from_arrow(dec.groupBy("outcome").agg(F.count(F.lit(1)).alias("n")).toArrow())
    mix = mix.with_columns(pl.col("n").cast(pl.UInt32), (pl.col("n") / max(n, 1)).alias("share")).sort(
        ["n", "outcome"], descending=[True, False])
    hits = pl.DataFrame({"rule": [r.id for r in rules], "action": [r.action for r in rules],
                         "reason_code": [r.reason_code for r in rules],
                         "hits": [int(tot[f"h{i}"] or 0) for i in range(len(rules))]},
                        schema={"rule": pl.Utf8, "action": pl.Utf8, "reason_code": pl.Utf8, "hits": pl.Int64})
    hits = hits.with_columns((pl.col("hits") / max(n, 1)).alias("hit_rate"))
    approved = int(mix.filter(pl.col("outcome").is_in(list(APPROVING)))["n"].sum())
    res = SparkBacktestResult(strategy.name, strategy.version, n, dec, mix, hits, approved=approved, target=target,
                              udfs=tuple(dict.fromkeys(udfs)))
    if has_bad and int(tot["labelled"]):
        res.bad_by_outcome = _bad_by(dec, ["outcome"])
        if rules:
            res.rule_hits = hits.with_columns(pl.Series("bad_rate", [tot[f"b{i}"] for i in range(len(rules))],
                                                        dtype=pl.Float64))
    if against is not None:
        res.against = f"{against.name}@{against.version}"
        by = ["outcome", "outcome_b"]
        sw = _bad_by(dec, by) if has_bad else pl.from_arrow(
            dec.groupBy(*by).agg(F.count(F.lit(1)).alias("n")).toArrow()).with_columns(
            pl.col("n").cast(pl.UInt32)).sort(by)
        res.swap = sw.with_columns((pl.col("outcome") != pl.col("outcome_b")).alias("flipped"))
    return res


def _bad_by(dec: Any, by: list[str]) -> Any:
    import polars as pl
    from pyspark.sql import functions as F

    t = dec.groupBy(*by).agg(F.count(F.lit(1)).alias("n"), F.count("bad").alias("labelled"),
                             F.avg(F.col("bad").cast("double")).alias("bad_rate"))
    return pl.from_arrow(t.toArrow()).with_columns(pl.col("n").cast(pl.UInt32),
                                                   pl.col("labelled").cast(pl.UInt32)).sort(by)


def load_labels(spark: Any, path: str) -> Any:
    """Spark twin of ``backtest.load_labels`` (Parquet or CSV with event_id/application_id and bad)."""
    from pyspark.sql import functions as F

    df = spark.read.parquet(path) if path.endswith(".parquet") else spark.read.option("header", True).csv(path)
    if "event_id" not in df.columns and "application_id" in df.columns:
        df = df.withColumnRenamed("application_id", "event_id")
    if "bad" not in df.columns or "event_id" not in df.columns:
        raise ValueError(f"{path}: a label file needs the columns event_id and bad")
    if "observed" in df.columns:
        df = df.withColumn("bad", F.when(F.col("observed"), F.col("bad")))
    return df.select("event_id", "bad")
