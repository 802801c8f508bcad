"""The declared fraud signals: online (provider.row_signals) equals offline (signal_compile.offline_signals) for
every declared online signal, on generated applications with nulls, NaN, missing fields and values exactly at
every threshold of the declaration table (hypothesis); offline-only signals cannot reach a strategy."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengkong.events import EVENT_SCHEMA, TZ, fields_of
from fengkong.events.model import int_bounds
from fengkong.fraud.provider import FEATURE_KINDS, FraudFeatures, row_signals
from fengkong.fraud.signal_compile import (
    GRAPH_KINDS,
    SignalDeclarationError,
    check_signal,
    checked,
    offline_signals,
    online_kinds,
)
from fengkong.fraud.signal_defs import CONSTANTS, IDT_CORE, IDT_SIGNALS, SIGNALS, Signal
from fengkong.fraud.signals import application_features
from fengkong.strategy import StrategyError, strategy_from_text

FIELDS = {f.name: f for f in fields_of("application")}
#: The event fields the declarations read (``ts`` is required and always present).
READ = sorted({s.column for _, _, used in checked() for s in used.values() if s.source == "event"})
OPTIONAL = [n for n in READ if not FIELDS[n].required]
ONLINE = online_kinds()
INTS = sorted({v for v in CONSTANTS.values() if isinstance(v, int)})
FLOATS = sorted({v for v in CONSTANTS.values() if isinstance(v, float)})


def _int_values(name: str) -> st.SearchStrategy:
    f = FIELDS[name]
    lo, hi = max(int_bounds(f)[0], int(f.min) if f.min is not None else 0), min(int_bounds(f)[1], 10**8)
    edges = sorted({x for c in INTS for x in (c - 1, c, c + 1)} | {lo, 0, 1})
    return st.one_of(st.sampled_from([x for x in edges if lo <= x <= hi]), st.integers(lo, hi))


def _float_values() -> st.SearchStrategy:
    edges = [x for c in FLOATS for x in (math.nextafter(c, 0.0), c, math.nextafter(c, 1.0))]
    return st.one_of(st.sampled_from([0.0, 1.0, math.nan, *edges]), st.floats(0.0, 1.0))


def _values(name: str) -> st.SearchStrategy:
    kind = FIELDS[name].kind
    if kind == "int":
        v = _int_values(name)
    elif kind == "float":
        v = _float_values()
    elif kind == "bool":
        v = st.booleans()
    else:
        v = st.sampled_from(["", "北京", "上海", "广东"])
    return st.one_of(st.none(), v)


_T0 = dt.datetime(2026, 3, 1, tzinfo=TZ)


def _at(day: int, hms: int, utc: bool) -> dt.datetime:
    t = _T0 + dt.timedelta(days=day, seconds=hms)
    return t.astimezone(dt.UTC) if utc else t


#: Local times around midnight and the night boundary, sometimes given in UTC (same instant, other offset).
times = st.builds(
    _at, st.integers(0, 30),
    st.one_of(st.sampled_from([0, 1, 3599, 5 * 3600 + 3599, 6 * 3600, 6 * 3600 + 1, 86399]),
              st.integers(0, 86399)),
    st.booleans())

graphs = st.fixed_dictionaries({k: st.booleans() if kind == "bool" else st.integers(0, 3)
                                for k, kind in GRAPH_KINDS.items()})
apps = st.fixed_dictionaries({"ts": times, "graph": graphs, **{n: _values(n) for n in OPTIONAL}})


def _frame(rows: list[dict], dropped: set[str]) -> pl.DataFrame:
    cols = {"event_id": pl.Utf8, **{n: EVENT_SCHEMA[n] for n in READ if n not in dropped},
            **{k: (pl.Boolean if kind == "bool" else pl.Int64) for k, kind in GRAPH_KINDS.items()}}
    data = [{c: r.get(c, r["graph"].get(c)) for c in cols} for r in rows]
    return pl.DataFrame(data, schema=cols)


def _same(kind: str, a, b) -> bool:
    if kind == "float":
        return (a is None and b is None) or (a is not None and b is not None and a == b)
    return a == b and type(a) is {"bool": bool, "int": int}[kind]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(apps, min_size=1, max_size=25), dropped=st.sets(st.sampled_from(OPTIONAL)))
def test_every_declared_signal_is_the_same_online_and_offline(rows, dropped):
    for i, r in enumerate(rows):
        r["event_id"] = f"a{i}"
        for n in dropped:
            r.pop(n, None)  # missing from the event and from the frame
    off = offline_signals(_frame(rows, dropped))
    assert set(ONLINE) <= set(off.columns)
    for r, o in zip(rows, off.iter_rows(named=True), strict=True):
        ev = {k: v for k, v in r.items() if k != "graph"}
        on = row_signals(ev, r["graph"])
        assert set(on) == set(ONLINE)
        for name, kind in ONLINE.items():
            assert _same(kind, on[name], o[name]), (name, on[name], o[name], ev)


#: Applications of a few customers sharing a few devices and phones, so the graph-based signals vary too.
linked = st.fixed_dictionaries({"ts": times, "customer_id": st.sampled_from(["c1", "c2", "c3", "c4"]),
                                "device_id": st.sampled_from(["d1", "d2", None]),
                                "phone_token": st.sampled_from(["p1", "p2", "p3", None]),
                                **{n: _values(n) for n in OPTIONAL}})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(linked, min_size=1, max_size=12), dropped=st.sets(st.sampled_from(OPTIONAL)))
def test_provider_and_backfill_agree_on_every_declared_signal(rows, dropped):
    """The same through the production entry points: ``FraudFeatures.read_update`` event by event against
    ``signals.application_features`` (what ``provider.backfill`` returns) over the frame."""
    events = []
    for i, r in enumerate(rows):
        ev = {"event_type": "application", "event_id": f"a{i:03d}", "product": "cash_loan", "amount_fen": 500_000,
              "term_months": 12, **{k: v for k, v in r.items() if k not in dropped}}
        events.append(ev)
    frame = pl.DataFrame([{n: e.get(n) for n in EVENT_SCHEMA if n not in dropped} for e in events],
                         schema={n: t for n, t in EVENT_SCHEMA.items() if n not in dropped})
    off = {o["event_id"]: o for o in application_features(frame).iter_rows(named=True)}
    ff = FraudFeatures()
    for ev in sorted(events, key=lambda e: (e["ts"], e["event_id"])):
        on = ff.read_update(ev)
        for name, kind in ONLINE.items():
            assert _same(kind, on[name], off[ev["event_id"]][name]), (name, on[name], off[ev["event_id"]][name], ev)


def test_counts_derive_from_the_table_groups():
    assert len(IDT_SIGNALS) == 10 and set(IDT_CORE) < set(IDT_SIGNALS)
    ev = {"ts": _T0.replace(hour=2), "liveness_score": 0.1, "is_rooted": True, "phone_tenure_months": 0,
          "form_fill_seconds": 5, "phone_name_match": False, "ip_province": "北京", "province": "上海"}
    g = {k: (kind == "bool") or 1 for k, kind in GRAPH_KINDS.items()}
    out = row_signals(ev, g)
    assert out["idt_signal_count"] == 10 and out["idt_core_count"] == 6
    at = {"ts": _T0.replace(hour=CONSTANTS["NIGHT_END_HOUR"]), "liveness_score": CONSTANTS["SCORE_MIN"],
          "phone_tenure_months": CONSTANTS["PHONE_NEW_MONTHS"], "form_fill_seconds": CONSTANTS["FAST_FORM_SECONDS"]}
    assert row_signals(at, dict.fromkeys(GRAPH_KINDS, 0))["idt_signal_count"] == 0  # at a threshold: not fired


def test_offline_only_signals_are_not_features_and_strategies_cannot_read_them():
    offline_only = [s.name for s in SIGNALS if not s.online]
    assert offline_only == ["fr_income_to_inflow"]
    assert not set(offline_only) & set(FEATURE_KINDS)
    assert set(ONLINE) <= set(FEATURE_KINDS)
    text = ("name: t\nversion: 1\nevent_type: application\nnodes:\n  - id: rs\n    type: ruleset\n"
            "    rules:\n      - {id: R1, when: \"fr_income_to_inflow > 3\", action: review}\n")
    with pytest.raises(StrategyError, match="unknown name 'fr_income_to_inflow'"):
        strategy_from_text(text, "s.yaml")


@pytest.mark.parametrize("sig,msg", [
    (Signal("x", "bool", "inflow_monthly_fen > 0", ""), "served online but reads offline-only"),
    (Signal("x", "int", "phone_tenure_months < PHONE_NEW_MONTHS", ""), "declared int, the expression is bool"),
    (Signal("x", "bool", "phone_tenure_months < NO_SUCH_CONSTANT", ""), "unknown name 'NO_SUCH_CONSTANT'"),
    (Signal("x", "bool", "phone_tenure_months <", ""), "syntax error"),
])
def test_a_bad_declaration_is_refused(sig, msg):
    with pytest.raises(SignalDeclarationError, match=msg):
        check_signal(sig)
