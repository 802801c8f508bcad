"""Untrusted strategy files cannot hang or exhaust the decision service (issue 20, item 6): linear-time
regular expressions with one dialect online (RE2) and offline (Polars), capped YAML and expressions, and
identifier names everywhere."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest

from fengkong.events import TZ
from fengkong.strategy import StrategyError, strategy_from_text

FEATS = {"apps_7d": "int"}
HEAD = "name: t\nversion: 1\nevent_type: application\nnodes:\n  - id: r\n    type: ruleset\n    rules:\n"


def _rule(when: str) -> str:
    return HEAD + f"      - id: A\n        when: >-\n          {when}\n        action: review\n"


def _event(i: int = 0, **kw):
    return {"event_id": f"e{i}", "event_type": "application", "ts": dt.datetime(2025, 1, 1, 3, tzinfo=TZ),
            "customer_id": "c1", "age": 30, **kw}


def _err(text: str, file: str = "bad.yaml") -> StrategyError:
    with pytest.raises(StrategyError) as ei:
        strategy_from_text(text, file, features=FEATS)
    return ei.value


# ---------------------------------------------------------------- matches(): linear time, one dialect


def test_catastrophic_backtracking_pattern_decides_quickly():
    """`(a+)+$` on 'a'*55+'b' ran for > 10 min with Python `re`; RE2 answers at once (the subprocess
    timeout is generous: this is a hang test, not a benchmark)."""
    code = textwrap.dedent(f"""
        import datetime as dt
        from fengkong.events import TZ
        from fengkong.strategy import strategy_from_text
        s = strategy_from_text({_rule("matches(city, '(a+)+$')")!r}, "evil.yaml", features={{}})
        ev = {{"event_id": "e", "event_type": "application", "ts": dt.datetime(2025, 1, 1, tzinfo=TZ),
              "customer_id": "c", "city": "a" * 55 + "b"}}
        print(s.evaluate(ev).outcome, s.evaluate({{**ev, "city": "a" * 55}}).outcome)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["approve", "review"]


PATTERNS = [r"(a+)+$", r"^1[3-9]\d{9}$", r"\bfoo\b", r"(?i)^shen\s*zhen", r"[\w.]+@\w+\.com", r"[^\d]",
            r"\p{Han}+", r"[\D]x", r"\W", r"[\S]x", r"\Bb", r"^(ap+|h5)$", r"(?i)k"]
TEXTS = ["a" * 55 + "b", "13812345678", "١٣٨١٢٣٤٥٦٧٨", "é foo", "éfoo", "ShenZhen", "SHEN\u3000ZHEN",
         "a.b@x.com", "é@x.com", "深圳", "٣x", "\vx", " x", "ab", "éb", "app", "\u212a", ""]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matches_online_and_offline_agree(pattern):
    """Python (RE2) and Polars (Rust regex) give the same answer, including on non-ASCII digits, letters
    and spaces (\\d \\w \\s \\b are ASCII in both)."""
    lit = pattern.replace("\\", "\\\\")
    s = strategy_from_text(_rule(f"matches(city, '{lit}')"), "p.yaml", features={})
    evs = [_event(i, city=t) for i, t in enumerate([*TEXTS, None])]
    online = [s.evaluate(e).outcome for e in evs]
    offline = s.evaluate_frame(pl.DataFrame(evs))["outcome"].to_list()
    assert online == offline
    assert online[-1] == "approve"  # null never matches


def test_ascii_classes_are_ascii_on_both_paths():
    s = strategy_from_text(_rule(r"matches(city, '^\\d+$')"), "p.yaml", features={})
    evs = [_event(0, city="123"), _event(1, city="١٢٣")]
    assert [s.evaluate(e).outcome for e in evs] == ["review", "approve"]
    assert s.evaluate_frame(pl.DataFrame(evs))["outcome"].to_list() == ["review", "approve"]


@pytest.mark.parametrize("pattern,problem", [
    (r"(a)\\1", "backreferences"),
    ("(?=a)b", "look-around"),
    ("a(?<!b)", "look-around"),
    (r"\\<x", "unsupported escape"),
    (r"\\b{start}x", "not supported"),
    ("[a[b]]", "must be escaped"),
    ("[a&&b]", "not supported"),
    ("[a~~b]", "not supported"),
    ("x{,3}", "Polars/Rust"),
    (r"\\Qa\\E", "unsupported escape"),
    ("a{1001}", "RE2"),
    ("(?x)a b", "RE2"),
])
def test_patterns_either_engine_rejects_or_reads_differently_fail_at_load(pattern, problem):
    text = _rule(f"matches(city, '{pattern}')")
    e = _err(text)
    assert "bad regular expression" in e.message and problem in e.message, e.message
    assert e.file == "bad.yaml" and e.line == 10
    assert e.col == text.splitlines()[9].index("'") + 1
    assert "\n" not in str(e)


def test_overlong_pattern_is_rejected():
    e = _err(_rule(f"matches(city, '{'a' * 1001}')"))
    assert "at most 1000" in e.message


# ---------------------------------------------------------------- YAML limits


def _timed_err(text: str) -> tuple[StrategyError, float]:
    t0 = time.perf_counter()
    e = _err(text)
    return e, time.perf_counter() - t0


def test_billion_laughs_fails_fast_with_position():
    lol = "name: &a [lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    e, took = _timed_err(lol)
    assert "expands to more than" in e.message
    assert (e.line, e.col) > (1, 1)
    assert took < 10


@pytest.mark.parametrize("text,msg,pos", [
    ("name: &a [*a]\n", "recursive YAML alias", (1, 7)),
    ("name: x\nlist: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64", (2, 70)),  # the 65th level (the root mapping is the 1st)
    ("name: x\nversion: 1\x00\n", "U+0000 is not allowed", (2, 11)),
    ("name: x\nversion: " + "9" * 5000 + "\n", "integer of 5000 characters", (2, 10)),
    ("a: &a x\nb: [" + ", ".join(["*a"] * 200) + "]\n", "too many YAML aliases", None),
])
def test_yaml_beyond_limits_is_one_line_error(text, msg, pos):
    e, took = _timed_err(text)
    assert msg in e.message
    if pos:
        assert (e.line, e.col) == pos
    assert "\n" not in str(e)
    assert took < 10


def test_oversized_yaml_file_is_refused_before_parsing(tmp_path):
    from fengkong.strategy import load_strategy

    p = tmp_path / "big.yaml"
    p.write_text("name: x\n# " + "x" * 1_000_001 + "\n")
    with pytest.raises(StrategyError, match=r"big\.yaml: YAML file is \d+ bytes \(at most 1000000\)"):
        load_strategy(p, features=FEATS)


def test_feature_files_use_the_same_caps(tmp_path):
    from fengkong.features import load_features
    from fengkong.features.spec import FeatureSpecError

    p = tmp_path / "f.yaml"
    p.write_text("features: &a [*a]\n")
    with pytest.raises(FeatureSpecError, match="recursive YAML alias"):
        load_features(p)


# ---------------------------------------------------------------- expression limits


@pytest.mark.parametrize("expr,msg", [
    ("(" * 3000 + "age > 1" + ")" * 3000, "nested more than 32 levels"),
    ("not " * 40 + "true", "nested more than 32 levels"),
    ("- " * 40 + "age > 1", "nested more than 32 levels"),
    ("+".join(["age"] * 40) + " > 1", "nested more than 32 levels"),
    ("abs(" * 40 + "age" + ")" * 40 + " > 1", "nested more than 32 levels"),
    ("9" * 5000 + " > 1", "out of the 64-bit range"),
    ("age > 9223372036854775808", "out of the 64-bit range"),
    ("contains(city, '" + "x" * 1001 + "')", "string literal is 1001 characters"),
    ("city in [" + ",".join(["'a'"] * 1001) + "]", "more than 1000 items"),
    (" or ".join(["age > 1"] * 1500), "at most 10000"),
    ("round(age / 3, 99) > 1", "between 0 and 15"),
])
def test_expressions_beyond_limits_are_one_line_errors(expr, msg):
    e = _err(_rule(expr))
    assert msg in e.message, e.message
    assert e.file == "bad.yaml" and e.line == 10 and e.col is not None
    assert len(str(e)) < 400 and "\n" not in str(e)


def test_expressions_at_the_limits_compile_and_agree():
    d = 31
    for expr in ["(" * d + "apps_7d > 1" + ")" * d, "+".join(["apps_7d"] * d) + " > 1",
                 "coalesce(" * (d - 1) + "apps_7d" + ", 1)" * (d - 1) + " > 1",
                 " or ".join(["apps_7d > 5"] * 300) + " or apps_7d > 1"]:
        s = strategy_from_text(_rule(expr), "ok.yaml", features=FEATS)
        assert s.evaluate(_event(), {"apps_7d": 3}).outcome == "review"
        assert s.evaluate_frame(pl.DataFrame([{**_event(), "__f.apps_7d": 3}]))["outcome"].to_list() == ["review"]


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("doc,needle,msg", [
    (HEAD + "      - {id: A, when: 'true', action: flag}\nflow:\n  outputs:\n    'x; import os': '1'\n",
     "'x; import os'", "flow output 'x; import os' must be an identifier"),
    (HEAD + "      - {id: A, when: 'true', action: flag}\nflow:\n  outputs:\n    class: '1'\n",
     "class:", "flow output 'class' is a keyword"),
    ("name: t\nversion: 1\nevent_type: application\nnodes:\n  - {id: t, type: table, inputs: {'a b': age}, "
     "outputs: [m], rows: []}\n", "'a b'", "input 'a b' must be an identifier"),
    ("name: t\nversion: 1\nevent_type: application\nnodes:\n  - {id: m, type: model, format: logistic, "
     "inputs: {'a-b': age}, coef: {'a-b': 0.1}, output: p}\n", "'a-b'", "input 'a-b' must be an identifier"),
    ("name: t\nversion: 1\nevent_type: application\nnodes:\n  - {id: s, type: scorecard, output: s, "
     "characteristics: [{name: 'x y', input: age, bins: [{else: true, points: 1}]}]}\n", "'x y'",
     "characteristic name 'x y' must be an identifier"),
    ("name: 'a b'\nversion: 1\nevent_type: application\nnodes:\n  - {id: a, type: assign, values: {x: '1'}}\n",
     "'a b'", "strategy name 'a b' must be"),
    ("name: t\nversion: '1; rm'\nevent_type: application\nnodes:\n  - {id: a, type: assign, values: {x: '1'}}\n",
     "'1; rm'", "strategy version '1; rm' must be"),
])
def test_names_are_checked_everywhere(doc, needle, msg):
    e = _err(doc)
    assert msg in e.message, e.message
    line = next(i for i, ln in enumerate(doc.splitlines(), 1) if needle in ln)
    assert (e.line, e.col) == (line, doc.splitlines()[line - 1].index(needle) + 1)


def test_feature_names_may_not_end_in_a_newline():
    """``re.match('^…$')`` let 'abc\\n' through; feature names are matched in full."""
    from fengkong.features.spec import FeatureSpecError, feature

    with pytest.raises(FeatureSpecError, match="lower_snake_case"):
        feature("apps_7d\n", key="ip", events="application")


def test_oversized_or_binary_model_artifact_is_refused(tmp_path, monkeypatch):
    from fengkong.strategy import load_strategy, node_build

    (tmp_path / "s.yaml").write_text(
        "name: t\nversion: 1\nevent_type: application\nnodes:\n"
        "  - {id: m, type: model, format: lightgbm, artifact: m.txt, inputs: {a: age}, output: p}\n")
    (tmp_path / "m.txt").write_text("x" * 2000)
    monkeypatch.setattr(node_build, "MAX_ARTIFACT_BYTES", 1000)
    with pytest.raises(StrategyError, match=r"s\.yaml:5:.*is 2000 bytes \(at most 1000\)"):
        load_strategy(tmp_path / "s.yaml", features=FEATS)
    (tmp_path / "m.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StrategyError, match="is not UTF-8 text"):
        load_strategy(tmp_path / "s.yaml", features=FEATS)
