"""The Spark column target of the strategy compiler (fengkong.spark.stcode) = the Polars target, construct by
construct: null handling, lists, regex dialect, functions, tables, scorecards, models, flow gates, policy."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from spark_compare import mismatches

from fengkong.strategy.compiled import strategy_from_text

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]  # one worker, one JVM

FEATURES = {"x": "float", "n": "int", "t0": "datetime"}
LISTS = {"bad_device": frozenset({"d1", "d3"}), "empty": frozenset()}

STRATEGY = r"""
name: constructs
version: "1"
event_type: application
fallback: review
nodes:
  - id: checks
    type: ruleset
    hit_policy: all
    rules:
      - {id: CMP_NULL, when: "age > 30", action: flag, reason_code: C_AGE}
      - {id: NOT_CMP_NULL, when: "not (age > 30)", action: flag, reason_code: C_NOT_AGE}
      - {id: KLEENE, when: "(liveness_score < 0.5 or is_emulator) and not is_rooted", action: review,
         reason_code: C_KLEENE}
      - {id: OR_NULL, when: "is_proxy or not is_emulator", action: allow, reason_code: C_OR}
      - {id: BETWEEN, when: "amount_fen between 100000 and 500000", action: allow, reason_code: C_BETWEEN}
      - {id: IN_STR, when: "channel in ['app', 'h5', null]", action: flag, reason_code: C_IN}
      - {id: NOT_IN_STR, when: "channel not in ['app']", action: flag, reason_code: C_IN}
      - {id: IN_NUM, when: "age in [25, 30.0, 41]", action: flag, reason_code: C_IN_NUM}
      - {id: IN_FIELD, when: "'t1' in contact_tokens", action: review, reason_code: C_IN_FIELD}
      - {id: NOT_IN_FIELD, when: "'t2' not in contact_tokens", action: flag, reason_code: C_NOT_IN_FIELD}
      - {id: CONTAINS, when: "contains(contact_tokens, 't3') or contains(city, '州')", action: flag,
         reason_code: C_CONTAINS}
      - {id: LISTED, when: "in_list('bad_device', device_id)", action: reject, reason_code: C_LISTED}
      - {id: LISTED_EMPTY, when: "in_list('empty', device_id) or in_list('absent', device_id)", action: reject,
         reason_code: C_EMPTY}
      - {id: RX_DIGITS, when: "matches(city, '^\\\\d+$')", action: flag, reason_code: C_RX}
      - {id: RX_WORD, when: "matches(city, '\\\\bzhou\\\\b')", action: flag, reason_code: C_RX}
      - {id: RX_CASE_END, when: "matches(city, '(?i)ZHOU$')", action: flag, reason_code: C_RX_CASE}
      - {id: RX_ASCII_W, when: "matches(city, '^\\\\w+$')", action: flag, reason_code: C_RX_W}
      - {id: RX_SPACE, when: "matches(city, '\\\\s') or matches(city, '^[[:alpha:]]+$')", action: flag,
         reason_code: C_RX_S}
      - {id: DIV, when: "amount_fen / declared_income_fen > 2", action: review, reason_code: C_DIV}
      - {id: FEAT, when: "feature.x >= 0.5 and n != 3", action: flag, reason_code: C_FEAT}
      - {id: CMP_STR, when: "city < 'm'", action: flag, reason_code: C_CMP_STR}
  - id: first
    type: ruleset
    hit_policy: first
    rules:
      - {id: F1, when: "age < 25", action: review, reason_code: F_YOUNG}
      - {id: F2, when: "age < 40", action: flag, reason_code: F_MID}
      - {id: F3, when: "true", action: flag, reason_code: F_ANY}
  - id: vals
    type: assign
    values:
      a_floor: "floor(liveness_score * 10)"
      a_ceil: "ceil(-liveness_score * 10)"
      a_log: "log(declared_income_fen)"
      a_exp: "exp(liveness_score * 3)"
      a_round0: "round(x * 8, 0)"
      a_round2: "round(x, 2)"
      a_round_int: "round(age)"
      a_min: "min(age, n, 40)"
      a_max: "max(liveness_score, face_match_score)"
      a_lower: "lower(city)"
      a_len: "length(contact_tokens)"
      a_hour: "hour_of(ts)"
      a_days: "days_between(t0, ts)"
      a_if: "if(age > 30, 1, 2.5)"
      a_coalesce: "coalesce(age, n, 0)"
      a_neg: "-age"
      a_abs: "abs(age - 40)"
      a_arith: "age * 2 + n - 3"
      a_div0: "amount_fen / n"
      a_int_div: "7 / 2"
      a_div_lit: "amount_fen / 100"
      a_div_const: "amount_fen / (3 * 7) + amount_fen / 0 + age / -3"
      a_twice: "twice(x)"
      a_flags: "checks.hit and first.action == 'review'"
      a_lit_rx: "matches('abc', 'b')"
  - id: tbl_first
    type: table
    hit_policy: first
    inputs: {a: age, c: channel, x: x}
    outputs: [grade, weight]
    rows:
      - {a: {missing: true}, c: "-", x: "-", grade: M, weight: 0}
      - {a: {ge: 50}, c: {in: [app, h5]}, x: "-", grade: A, weight: 1.5}
      - {a: {gt: 20, le: 50}, c: {not_in: [branch]}, x: {lt: 0.5}, grade: B, weight: 2}
      - {a: 33, c: "-", x: "-", grade: C, weight: 3}
    default: {grade: Z, weight: -1}
  - id: tbl_sum
    type: table
    hit_policy: collect
    aggregate: sum
    inputs: {a: age, x: x}
    outputs: [pts]
    rows:
      - {a: {lt: 30}, x: "-", pts: 10}
      - {a: "-", x: {ge: 0.25}, pts: 5}
      - {a: {missing: true}, x: "-", pts: 1}
  - id: tbl_count
    type: table
    hit_policy: collect
    aggregate: count
    inputs: {a: age, x: x}
    outputs: [cnt]
    rows:
      - {a: {lt: 30}, x: "-", cnt: 1}
      - {a: "-", x: {ge: 0.25}, cnt: 1}
  - id: tbl_max
    type: table
    hit_policy: collect
    aggregate: max
    inputs: {a: age}
    outputs: [top]
    rows:
      - {a: {lt: 30}, top: 1.5}
      - {a: {lt: 45}, top: 2.5}
    default: {top: 0.0}
  - id: tbl_min
    type: table
    hit_policy: collect
    aggregate: min
    inputs: {a: age}
    outputs: [low]
    rows:
      - {a: {lt: 30}, low: 7}
      - {a: {lt: 45}, low: 3}
  - id: card
    type: scorecard
    output: score
    offset: 300
    scaling: {base_score: 600, base_odds: 50, pdo: 20}
    pd_output: pd
    reasons: 2
    characteristics:
      - name: age
        reason_code: R_AGE
        bins:
          - {missing: true, points: 12}
          - {lt: 25, points: 0}
          - {ge: 25, lt: 40, points: 35.5}
          - {else: true, points: 60}
      - name: channel
        reason_code: R_CHANNEL
        bins:
          - {in: [app, h5], points: 20}
          - {else: true, points: 0}
      - name: income
        input: declared_income_fen
        reason_code: R_INCOME
        bins:
          - {lt: 500000, points: 5}
          - {ge: 500000, lt: 700000, points: 25}
          - {else: true, points: 30}
  - id: lr
    type: model
    format: logistic
    output: p_lr
    intercept: -1.25
    coef: {a: 0.031, x: -2.5}
    inputs: {a: "coalesce(age, 30)", x: "coalesce(x, 0.0)"}
flow:
  steps: [checks, first, {node: vals, when: "amount_fen > 50000"}, tbl_first, tbl_sum, tbl_count, tbl_max, tbl_min,
          {node: card, when: "not checks.hit or age > 20"}, lr]
  outcome:
    - {when: any_reject, outcome: reject, reason_code: P_REJECT}
    - {when: "score < 340", outcome: review, reason_code: C_AGE}
    - {when: any_review, outcome: review}
    - {outcome: approve}
  outputs:
    grade: grade
    limit: "if(outcome == 'reject', 0.0, floor(coalesce(score, 0.0) * weight))"
    cities: "lower(city)"
    pd: pd
    o_a_floor: a_floor
    o_a_ceil: a_ceil
    o_a_log: a_log
    o_a_exp: a_exp
    o_a_round0: a_round0
    o_a_round2: a_round2
    o_a_round_int: a_round_int
    o_a_min: a_min
    o_a_max: a_max
    o_a_lower: a_lower
    o_a_len: a_len
    o_a_hour: a_hour
    o_a_days: a_days
    o_a_if: a_if
    o_a_coalesce: a_coalesce
    o_a_neg: a_neg
    o_a_abs: a_abs
    o_a_arith: a_arith
    o_a_div0: a_div0
    o_a_int_div: a_int_div
    o_a_div_lit: a_div_lit
    o_a_div_const: a_div_const
    o_a_twice: a_twice
    o_a_flags: a_flags
    o_a_lit_rx: a_lit_rx
    o_weight: weight
    o_pts: pts
    o_cnt: cnt
    o_top: top
    o_low: low
"""


def _frame(n: int = 600, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)

    def holes(values: list, share: float = 0.15) -> list:
        return [None if rng.random() < share else v for v in values]

    cities = [
        "hangzhou",
        "Hang Zhou",
        "zhou",
        "杭州",
        "12345",
        "ZHOU",
        "m",
        "abc_1",
        "é",
        "a\nzhou",
        "",
        "Ünïcode",
    ]
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ts = [t0 + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 90 * 86400, n)]
    live = [float(v) for v in rng.uniform(0, 1, n)]
    live[:4] = [float("nan"), 0.45, 0.05, 0.95]  # NaN in a float input is missing
    amount = [int(v) for v in rng.integers(1000, 900_000, n)]
    amount[:4] = [100_000, 500_000, 50_000, 50_001]  # the bounds of the tests
    x = [float(v) for v in np.round(rng.uniform(-1, 1, n), 3)]
    x[4:10] = [0.125, 0.375, -0.125, 0.0625, 1 / 16, -0.5]  # round half to even
    return pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "ts": pl.Series(ts, dtype=pl.Datetime("us", "Asia/Shanghai")),
            "age": pl.Series(holes([int(v) for v in rng.integers(16, 70, n)]), dtype=pl.Int32),
            "amount_fen": amount,
            "declared_income_fen": holes([int(v) for v in rng.choice([0, 100_000, 400_000, 800_000], n)]),
            "liveness_score": holes(live),
            "face_match_score": holes([float(v) for v in rng.uniform(0, 1, n)], 0.3),
            "is_emulator": holes([bool(v) for v in rng.random(n) < 0.3], 0.3),
            "is_rooted": holes([bool(v) for v in rng.random(n) < 0.2], 0.3),
            "is_proxy": holes([bool(v) for v in rng.random(n) < 0.2], 0.3),
            "channel": holes([str(v) for v in rng.choice(["app", "h5", "branch", "partner"], n)]),
            "city": holes([str(v) for v in rng.choice(cities, n)], 0.1),
            "device_id": holes([str(v) for v in rng.choice(["d1", "d2", "d3", "d4"], n)]),
            "contact_tokens": holes(
                [
                    [str(t) for t in rng.choice(["t1", "t2", "t3", "t4"], int(k), replace=False)]
                    for k in rng.integers(0, 3, n)
                ],
                0.2,
            ),
            "__f.x": holes(x),
            "__f.n": holes([int(v) for v in rng.integers(0, 5, n)]),
            "__f.t0": pl.Series(
                holes(
                    [
                        t - dt.timedelta(hours=int(h))
                        for t, h in zip(ts, rng.integers(-50, 2000, n), strict=True)
                    ]
                ),
                dtype=pl.Datetime("us", "Asia/Shanghai"),
            ),
        }
    )


def _strategy(text: str = STRATEGY):
    from fengkong.strategy.functions import REGISTRY, register_function

    if "twice" not in REGISTRY:
        register_function(
            "twice", py=lambda v: 2 * v, pl=lambda e: e * 2, args=("num",), returns="num", doc="test: 2x"
        )
    return strategy_from_text(text, features=FEATURES)


def _compare(spark, strategy, frame: pl.DataFrame, **kw) -> tuple[list[str], list[str]]:
    from fengkong.spark import stcode

    ref = strategy.evaluate_frame(frame, LISTS)
    udfs: list[str] = []
    sdf = spark.createDataFrame(frame.to_arrow())
    got = pl.from_arrow(stcode.decide(sdf, strategy.spec, LISTS, udfs, **kw).toArrow())
    assert got.columns == ref.columns
    got = got.with_columns(
        [pl.col(c).cast(ref.schema[c]) for c in got.columns if got.schema[c] != ref.schema[c]]
    )
    return mismatches(ref, got, [c for c in ref.columns if c != "event_id"]), udfs


def test_every_construct_decides_as_polars(spark):
    from fengkong.spark import stcode

    s = _strategy()
    frame = _frame()
    bad, udfs = _compare(spark, s, frame)
    assert bad == []
    want = {"matches()", "twice()", "log()", "exp()", "scorecard card pd (2**x)", "model lr (logistic, exp)"}
    assert set(udfs) == want == set(stcode.udf_constructs(s.spec))
    ref = s.evaluate_frame(frame, LISTS)
    for c in ("hit.CMP_NULL", "hit.NOT_CMP_NULL", "hit.KLEENE", "hit.RX_WORD", "hit.LISTED", "hit.IN_FIELD"):
        assert 0 < ref[c].sum() < ref.height, (
            c
        )  # each construct splits the rows: the comparison means something
    assert ref["outcome"].n_unique() == 3 and ref["out.grade"].n_unique() >= 4


def test_jvm_math_differs_from_polars_only_in_the_last_bits(spark):
    s = _strategy()
    bad, udfs = _compare(spark, s, _frame(), jvm_math=True)
    assert {"log()", "exp()", "scorecard card pd (2**x)", "model lr (logistic, exp)"}.isdisjoint(udfs)
    assert {b.split(":")[0] for b in bad} <= {"out.o_a_log", "out.o_a_exp", "pd", "out.pd", "p_lr"}


@pytest.mark.parametrize(
    "mutant",
    [
        ("age > 30", "age >= 30"),  # a comparison
        ("not (age > 30)", "not (age > 31)"),
        ("amount_fen between 100000 and 500000", "amount_fen between 100001 and 500000"),
    ],
)
def test_a_changed_strategy_is_caught(spark, mutant):
    """The comparison can fail: the Polars reference of the original against Spark of a mutated strategy."""
    from fengkong.spark import stcode

    frame = _frame()
    ref = _strategy().evaluate_frame(frame, LISTS)
    mutated = _strategy(STRATEGY.replace(mutant[0], mutant[1], 1))
    got = pl.from_arrow(stcode.decide(spark.createDataFrame(frame.to_arrow()), mutated.spec, LISTS).toArrow())
    got = got.with_columns(
        [pl.col(c).cast(ref.schema[c]) for c in got.columns if got.schema[c] != ref.schema[c]]
    )
    assert mismatches(ref, got, [c for c in ref.columns if c != "event_id"])


@pytest.mark.parametrize("mutant", ["no_null_to_false", "inclusive_upper_bound"])
def test_a_mutated_compiler_is_caught(spark, monkeypatch, mutant):
    """Mutants of the compiler itself (null → false dropped; a table range's upper bound inclusive)."""
    from fengkong.spark import stcode, stexpr

    if mutant == "no_null_to_false":
        for module in (stcode, stexpr):
            monkeypatch.setattr(module, "fill_false", lambda e: e)
    else:
        cell = stcode._cell

        def mutated(c, x, in_type):
            if c.kind == "range" and c.lt is not None:
                c = type(c)(c.kind, c.values, c.ge, c.gt, c.lt, None)  # lt → le
            return cell(c, x, in_type)

        monkeypatch.setattr(stcode, "_cell", mutated)
    bad, _ = _compare(spark, _strategy(), _frame())
    assert bad


def test_a_function_without_spark_translation_is_refused_by_name(spark):
    from fengkong.spark import SparkUnsupportedError, stcode
    from fengkong.strategy.functions import REGISTRY, register_function

    def broken(e):
        raise NotImplementedError("no vectorised form")

    if "no_vector" not in REGISTRY:
        register_function("no_vector", py=lambda v: v, pl=broken, args=("num",), returns="num", doc="test")
    text = STRATEGY.replace('a_twice: "twice(x)"', 'a_twice: "no_vector(x)"')
    s = strategy_from_text(text, features=FEATURES)
    with pytest.raises(SparkUnsupportedError, match=r"no_vector\(\).*no Spark translation"):
        stcode.decide(spark.createDataFrame(_frame(20).to_arrow()), s.spec, LISTS)
