"""The generated per-type validators give exactly what the generic field-by-field path gives (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.events import EVENT_TYPES, EventValidationError, validate_event
from fengkong.events.model import _check_range, _coerce, fields_of


def reference(record: dict, et: str) -> dict:
    """The generic path, field by field (what validate_event did before it was generated)."""
    out = {}
    for f in fields_of(et):
        value = record.get(f.name)
        if value is None or (isinstance(value, str) and value == "" and f.kind != "str"):
            if f.name == "event_type":
                value = et
            elif f.required:
                raise EventValidationError(f.name, "required field is missing")
            else:
                out[f.name] = None
                continue
        value = _coerce(f, value)
        if f.kind in ("int", "float", "str"):
            _check_range(f, value)
        out[f.name] = value
    return out


def _valid(f):
    """A value the field accepts (so a record gets past its required fields to the drawn ones)."""
    if f.choices:
        return f.choices[0]
    return {"str": "x", "int": int(f.min or 1), "float": float(f.min or 1.0), "bool": True,
            "datetime": "2026-03-01T08:00:00+08:00", "date": "2026-03-01", "list": ["a"]}[f.kind]


EDGES = st.sampled_from([2**15, -2**15 - 1, 2**31, 2**63, -2**63 - 1, 10**15 + 1, float("inf"), float("-inf"),
                         float("nan"), 121, 1e300])
VALUES = st.one_of(
    EDGES, EDGES, EDGES, st.none(), st.just(""), st.just(" "), st.booleans(), st.integers(-2**70, 2**70), st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.sampled_from(EVENT_TYPES),
    st.sampled_from(["true", "0", "12", "-3", "2026-03-01", "2026-03-01T08:00:00+08:00", "x\x00y", "a" * 130]),
    st.datetimes(min_value=dt.datetime(1960, 1, 1), max_value=dt.datetime(2110, 1, 1),
                 timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=8))])),
    st.dates(), st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
)


@st.composite
def records(draw):
    et = draw(st.sampled_from(EVENT_TYPES))
    fields = fields_of(et)
    rec = {f.name: _valid(f) for f in fields if f.required or draw(st.booleans())}
    rec["event_type"] = et
    others = [f for f in fields if f.name != "event_type"]  # the type is chosen before the fields are checked
    for f in draw(st.lists(st.sampled_from(others), max_size=3, unique_by=lambda f: f.name)):
        rec[f.name] = draw(VALUES)
    if draw(st.booleans()):
        del rec["event_type"]  # given as the argument instead
    return rec, et


def outcome(fn, rec, et):
    try:
        return "ok", fn(rec, et)
    except EventValidationError as exc:
        return "error", (exc.field, exc.reason)


@settings(max_examples=1500, deadline=None)
@given(records())
def test_generated_validator_equals_the_generic_path(case):
    rec, et = case
    want = outcome(reference, rec, et)
    got = outcome(lambda r, t: validate_event(r, t), rec, et)
    assert got[0] == want[0], (got, want)
    if want[0] == "ok":
        assert list(got[1]) == list(want[1])
        for k, v in want[1].items():
            assert got[1][k] == v and type(got[1][k]) is type(v), k
            assert repr(got[1][k]) == repr(v), k  # same zone, not only the same instant
    else:
        assert got == want
