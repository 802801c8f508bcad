"""Names that reach compiled code (node ids, rule ids, output names) are identifiers, and the code
generator never splices a user string into the generated source."""

from __future__ import annotations

import datetime as dt

import pytest

from fengkong.events import TZ
from fengkong.strategy import StrategyError, strategy_from_text

FEATS = {"apps_7d": "int"}
EV = {"event_id": "e1", "event_type": "application", "ts": dt.datetime(2025, 1, 1, 3, tzinfo=TZ),
      "customer_id": "c1", "age": 30}


def _inject(sentinel) -> str:
    payload = f"open({str(sentinel)!r}, 'w').write('pwned')"
    return f'''name: x
version: 1
event_type: application
nodes:
  - id: a
    type: assign
    values:
      "v = 0; {payload}; w": "1"
'''


def test_injected_assign_key_is_rejected_with_position(tmp_path):
    sentinel = tmp_path / "PWNED"
    with pytest.raises(StrategyError) as ei:
        strategy_from_text(_inject(sentinel), "inject.yaml", features=FEATS)
    e = ei.value
    assert (e.file, e.line, e.col) == ("inject.yaml", 8, 7)  # the key itself
    assert "must be an identifier" in e.message
    assert not sentinel.exists()


def test_the_audit_repro_file_is_rejected(tmp_path):
    from fengkong.strategy import load_strategy

    src = tmp_path / "inject.yaml"
    src.write_text(_inject(tmp_path / "PWNED"))
    with pytest.raises(StrategyError, match=r"inject\.yaml:8:7: .*must be an identifier"):
        load_strategy(src, features=FEATS)


NODE = "name: t\nversion: 1\nevent_type: application\nnodes:\n"


@pytest.mark.parametrize("snippet,at,msg", [
    # node ids (ruleset ids become <id>.hit / <id>.action)
    ('  - {id: "a b", type: assign, values: {x: "1"}}', '"a b"', "node id 'a b' must be an identifier"),
    ('  - {id: "r)", type: ruleset, rules: []}', '"r)"', "must be an identifier"),
    ("  - {id: 9lives, type: assign, values: {x: '1'}}", "9lives", "must be an identifier"),
    ("  - {id: class, type: assign, values: {x: '1'}}", "class", "'class' is a keyword"),
    ("  - {id: __init__, type: assign, values: {x: '1'}}", "__init__", "is reserved"),
    # rule ids
    ('  - {id: r, type: ruleset, rules: [{id: "R-1", when: "true", action: flag}]}', '"R-1"',
     "rule id 'R-1' must be an identifier"),
    ("  - {id: r, type: ruleset, rules: [{id: 7, when: 'true', action: flag}]}", "7,", "must be text"),
    # output names of every node type
    ('  - {id: a, type: assign, values: {"x.y": "1"}}', '"x.y"', "value name 'x.y' must be an identifier"),
    ("  - {id: a, type: assign, values: {None: '1'}}", "None", "'None' is a keyword"),
    ("  - {id: a, type: assign, values: {and: '1'}}", "and", "'and' is a keyword"),
    ("  - {id: a, type: assign, values: {any_reject: 'true'}}", "any_reject", "is reserved"),
    ("  - {id: a, type: assign, values: {__pr: '1'}}", "__pr", "is reserved"),
    ("  - {id: a, type: assign, values: {outcome: '1'}}", "outcome", "is reserved"),
    ('  - {id: t, type: table, inputs: {a: age}, outputs: ["m; x"], rows: []}', '"m; x"',
     "output 'm; x' must be an identifier"),
    ('  - {id: s, type: scorecard, output: "s s", characteristics: []}', '"s s"', "must be an identifier"),
    ('  - {id: s, type: scorecard, output: s, pd_output: "p-d", scaling: {base_score: 600, base_odds: 50, pdo: 20},'
     ' characteristics: []}', '"p-d"', "pd_output 'p-d' must be an identifier"),
    ('  - {id: m, type: model, format: logistic, inputs: {a: age}, coef: {a: 0.1}, output: "p\'"}', '"p\'"',
     "must be an identifier"),
    ("  - {id: m, type: model, format: logistic, inputs: {a: age}, coef: {a: x}, output: p}", "x}",
     "coefficient 'a' must be a number"),
])
def test_odd_names_are_strategy_errors_not_syntax_errors(snippet, at, msg):
    with pytest.raises(StrategyError) as ei:
        strategy_from_text(NODE + snippet + "\n", "odd.yaml", features=FEATS)
    e = ei.value
    assert msg in e.message, e
    assert (e.file, e.line, e.col) == ("odd.yaml", 5, snippet.index(at) + 1), e


def test_underscore_and_digit_names_are_fine():
    s = strategy_from_text(NODE + "  - {id: step_2, type: assign, values: {_x1: '1', limit_2: '_x1 + 1'}}\n"
                           "flow: {outputs: {limit: limit_2}}\n", "ok.yaml", features=FEATS)
    assert s.evaluate(EV).outputs == {"limit": 2}


def test_generator_never_splices_user_names(tmp_path, monkeypatch):
    """With the name check switched off, hostile names still only ever appear as repr'd literals."""
    from fengkong.strategy.parse_ctx import ParseContext

    monkeypatch.setattr(ParseContext, "ident", lambda self, name, loc, what: name)
    sentinel = tmp_path / "PWNED"
    text = _inject(sentinel).replace('values:\n', 'values:\n      "x\\"); import os; (\\"": "2"\n') + (
        '  - id: "r; import os"\n    type: ruleset\n    rules:\n'
        '      - {id: "R\\n1", when: "age > 1", action: review}\n'
        '  - {id: t, type: table, inputs: {a: age}, outputs: ["o)\\n"], rows: [{a: {ge: 0}, "o)\\n": 3}]}\n')
    s = strategy_from_text(text, "hostile.yaml", features=FEATS)
    r = s.evaluate(EV)
    assert not sentinel.exists()
    assert r.outcome == "review" and r.rules_hit == ["R\n1"]
    # every user string in the source is inside a repr'd literal: the only free names are generated ones
    import ast

    names = {n.id for n in ast.walk(ast.parse(s.source)) if isinstance(n, ast.Name)}
    allowed = {"ev", "ft", "L", "hits", "Exception", "_node", "_outcome", "_pr", "_outs", "_scores", "_pts", "_exc", "_ACT",
               "_NodeError", "_EMPTY", "_sigmoid", "_pdscore", "_any_reject", "_any_review", "_any_flag",
               "_any_allow"}
    assert all(n in allowed or n[:2] in ("_v", "_t", "_k") or n.startswith(("_fn", "_re", "_mdl", "_ti", "_x",
                                                                              "_p", "_m")) for n in names), names
    off = s.evaluate_frame(__import__("polars").DataFrame([EV]))
    assert off["outcome"].to_list() == ["review"]
