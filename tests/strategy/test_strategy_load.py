"""Loading strategies: errors name file:line:column; every node type evaluates; Python equals Polars."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest

from fengkong.events import TZ
from fengkong.strategy import StrategyError, load_strategy, strategy_from_text

DATA = Path(__file__).parent / "data"
FEATS = {"apps_7d": "int"}


def _err(text: str) -> StrategyError:
    with pytest.raises(StrategyError) as ei:
        strategy_from_text(text, "bad.yaml", features=FEATS)
    return ei.value


BASE = """name: t
version: 1
event_type: application
nodes:
  - id: rs
    type: ruleset
    rules:
      - {id: R1, when: "%s", action: reject}
"""


def test_unknown_field_reports_file_line_column():
    e = _err(BASE % "agee < 18")
    assert (e.file, e.line, e.col) == ("bad.yaml", 8, 25)
    assert "unknown name 'agee'" in str(e) and str(e).startswith("bad.yaml:8:25:")


def test_type_mismatch_reports_position_of_operator():
    e = _err(BASE % "age < 'x'")
    assert e.line == 8 and e.col == 29 and "cannot compare int with str" in str(e)


def test_condition_must_be_boolean():
    assert "must be boolean" in str(_err(BASE % "age + 1"))


def test_cycle_between_nodes_is_an_error():
    text = """name: t
version: 1
event_type: application
nodes:
  - id: a
    type: assign
    values: {x: "y + 1"}
  - id: b
    type: assign
    values: {y: "x + 1"}
"""
    e = _err(text)
    assert "cycle between nodes" in str(e) and e.line == 5


def test_wrong_explicit_order_is_an_error():
    text = """name: t
version: 1
event_type: application
nodes:
  - id: a
    type: assign
    values: {x: "age + 1"}
  - id: b
    type: assign
    values: {y: "x + 1"}
flow:
  steps: [b, a]
"""
    assert "runs later" in str(_err(text))


@pytest.mark.parametrize("snippet,msg", [
    ("nodes: []", "at least one node"),
    ("nodes:\n  - {id: x, type: magic}", "unknown type 'magic'"),
    ("nodes:\n  - {id: x, type: ruleset, rules: [{id: R, when: 'true', action: boom}]}", "action must be one of"),
    ("nodes:\n  - {id: x, type: scorecard, output: s, characteristics: [{name: age, bins: [{lt: 3, points: 1}]}]}",
     "last bin must be"),
    ("nodes:\n  - {id: x, type: assign, values: {age: '1'}}", "clashes with an event field"),
    ("nodes:\n  - {id: x, type: table, inputs: {a: channel}, outputs: [m], rows: [{a: {ge: 3}, m: 1}]}",
     "ranges need a numeric input"),
])
def test_node_errors(snippet, msg):
    text = "name: t\nversion: 1\nevent_type: application\n" + snippet + "\n"
    assert msg in str(_err(text))


def test_bad_yaml_has_position():
    e = _err("name: t\nversion: [1\n")
    assert e.line is not None and "invalid YAML" in str(e)


def _event(rng: random.Random, i: int) -> dict:
    def maybe(v):
        return None if rng.random() < 0.1 else v

    return {
        "event_id": f"e{i}", "event_type": "application",
        "ts": dt.datetime(2025, 1, 1, tzinfo=TZ) + dt.timedelta(minutes=rng.randint(0, 100000)),
        "customer_id": f"c{i}", "age": maybe(rng.randint(16, 70)), "is_emulator": maybe(rng.random() < 0.05),
        "id_token": f"t{rng.randint(0, 50)}", "ip_province": maybe(rng.choice(["GD", "BJ"])),
        "province": rng.choice(["GD", "BJ"]), "declared_income_fen": maybe(rng.randint(0, 3_000_000)),
        "monthly_debt_payment_fen": maybe(rng.randint(0, 1_000_000)), "amount_fen": rng.randint(100, 5_000_000),
        "channel": maybe(rng.choice(["app", "h5", "partner"])),
    }


def test_python_and_polars_decide_identically_on_random_events():
    s = load_strategy(DATA / "small_app.yaml", features=FEATS)
    rng = random.Random(7)
    events = [_event(rng, i) for i in range(3000)]
    feats = [{"apps_7d": None if rng.random() < 0.1 else rng.randint(0, 5)} for _ in events]
    lists = {"blacklist_id": frozenset({"t1", "t2", "t3"})}
    online = [s.evaluate(e, f, lists) for e, f in zip(events, feats, strict=True)]
    from fengkong.events import EVENT_SCHEMA

    frame = pl.DataFrame(events, schema={k: EVENT_SCHEMA[k] for k in events[0]}).with_columns(
        pl.Series("__f.apps_7d", [f["apps_7d"] for f in feats], dtype=pl.Int64))
    off = s.evaluate_frame(frame, {k: sorted(v) for k, v in lists.items()})
    assert off.height == len(events)
    outcomes = {o.outcome for o in online}
    assert {"approve", "reject", "review"} <= outcomes
    for o, row in zip(online, off.iter_rows(named=True), strict=True):
        assert o.outcome == row["outcome"]
        assert o.rules_hit == row["rules_hit"]
        assert o.reason_codes == row["reason_codes"]
        assert o.outputs["limit"] == row["out.limit"]
        assert o.scores["score"] == row["score"]
        assert o.scores["pd"] == pytest.approx(row["pd"], rel=1e-12)


def test_every_node_type_and_hit_policy():
    text = (DATA / "all_nodes.yaml").read_text()
    s = strategy_from_text(text, "all_nodes.yaml", features=FEATS)
    ev = {"event_id": "e1", "event_type": "application", "ts": dt.datetime(2025, 1, 1, 3, tzinfo=TZ),
          "customer_id": "c1", "age": 30, "declared_income_fen": 1_000_000, "amount_fen": 3_000_000,
          "channel": "app", "bureau_score": 720, "is_emulator": False}
    r = s.evaluate(ev, {"apps_7d": 2})
    # ruleset 'first': only the first matching rule of the set fires
    assert r.rules_hit == ["F1", "N1"]
    assert r.outputs["points"] == 15  # table collect/sum over two matching rows
    assert r.outputs["tier"] == "B"
    assert r.scores["pd_lr"] == pytest.approx(1 / (1 + 2.718281828459045 ** -(-2.0 + 0.01 * 30)))
    assert r.outcome == "review"
    assert r.reason_codes == ["NIGHT", "FIRST"]
    off = s.evaluate_frame(pl.DataFrame([ev]).with_columns(pl.lit(2).alias("__f.apps_7d")))
    row = off.row(0, named=True)
    assert row["out.points"] == 15 and row["out.tier"] == "B" and row["outcome"] == "review"
    assert row["rules_hit"] == r.rules_hit


# ---------------------------------------------------------------- positions inside every YAML scalar style

HEAD = "name: t\nversion: 1\nevent_type: application\nnodes:\n  - id: rs\n    type: ruleset\n    rules:\n"


def _pos_of(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the only occurrence of ``needle`` in ``text``."""
    assert text.count(needle) == 1, needle
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


@pytest.mark.parametrize("style,rule,needle", [
    ("plain", "      - {id: A, when: age > 3 and agee > 4, action: reject}\n", "agee"),
    ("plain multi-line",
     "      - id: A\n        when: age > 3\n          and\n\n          agee > 4\n        action: reject\n", "agee"),
    ("single-quoted", "      - {id: A, when: 'channel == ''x'' or agee > 4', action: reject}\n", "agee"),
    ("single-quoted folded",
     "      - id: A\n        when: 'channel == ''x''\n          or agee > 4'\n        action: reject\n", "agee"),
    ("double-quoted escapes", '      - {id: A, when: "channel == \\"x\\" or \\u0061gee > 4", action: reject}\n',
     "\\u0061gee"),
    ("double-quoted tab escape", '      - {id: A, when: "channel == \\"\\t\\" or agee > 4", action: reject}\n', "agee"),
    ("double-quoted escaped line break",
     '      - id: A\n        when: "channel == \\"x\\" or ag\\\n          ee2 > 4"\n        action: reject\n', "ag\\"),
    ("literal block",
     "      - id: A\n        when: |\n          channel == 'x'\n            or agee > 4\n        action: reject\n", "agee"),
    ("folded block",
     "      - id: A\n        when: >-\n          channel == 'x'\n          or\n          agee > 4\n        action: reject\n",
     "agee"),
    ("folded block keep + blank lines",
     "      - id: A\n        when: >+\n          channel == 'x'\n\n          or agee > 4\n\n        action: reject\n",
     "agee"),
    ("folded block indentation indicator",
     "      - id: A\n        when: >2\n            channel == 'x'\n          or agee > 4\n        action: reject\n",
     "agee"),
    ("tagged block", "      - id: A\n        when: !!str >\n          channel == 'x' or\n          agee > 4\n"
                     "        action: reject\n", "agee"),
])
def test_error_position_in_every_scalar_style(style, rule, needle):
    text = HEAD + rule
    e = _err(text)
    assert "unknown name 'agee" in e.message, (style, e)
    assert (e.line, e.col) == _pos_of(text, needle), (style, str(e))


def test_error_position_of_an_operator_in_a_multi_line_condition():
    """The shape of the shipped application.yaml: a `>-` block with the bad comparison on its 2nd line."""
    text = HEAD + "      - id: A\n        when: >-\n          age > 3\n          and channel > 5\n        action: reject\n"
    e = _err(text)
    assert "cannot compare str with int" in e.message
    assert (e.line, e.col) == _pos_of(text, "> 5")


def test_error_at_end_of_a_block_expression():
    text = HEAD + "      - id: A\n        when: >-\n          age > 3\n          and\n        action: reject\n"
    e = _err(text)
    assert "unexpected end of expression" in e.message
    assert (e.line, e.col) == (11, 14)  # just after 'and'


@pytest.mark.parametrize("pattern,problem", [
    ("(?<=a)b", "look-around"),
    ("a(?!b)", "look-around"),
    (r"(a)\\1", "backreferences"),  # the expression literal '(a)\\1' is the regex (a)\1
])
def test_regex_polars_cannot_compile_is_rejected_at_load(pattern, problem):
    text = HEAD + f"      - id: A\n        when: >-\n          matches(channel, '{pattern}')\n        action: review\n"
    e = _err(text)
    assert "bad regular expression" in e.message and problem in e.message and "not supported" in e.message
    assert (e.line, e.col) == _pos_of(text, f"'{pattern}'")


def test_regex_both_engines_compile_is_accepted_and_agrees():
    s = strategy_from_text(HEAD + "      - {id: A, when: \"matches(channel, '^(ap+|h5)$')\", action: review}\n",
                           "ok.yaml", features=FEATS)
    evs = [{"event_id": f"e{i}", "event_type": "application", "ts": dt.datetime(2025, 1, 1, tzinfo=TZ),
            "customer_id": "c", "channel": c} for i, c in enumerate(["app", "h5", "partner", None])]
    online = [s.evaluate(e).outcome for e in evs]
    off = s.evaluate_frame(pl.DataFrame(evs))["outcome"].to_list()
    assert online == off == ["review", "review", "approve", "approve"]
