"""Feature declarations: YAML/Python parsing, validation errors, expressions, FeatureSet API."""

from __future__ import annotations

import pytest

from fengkong.features import FeatureSet, FeatureSpecError, derived, feature, from_dicts, load_features
from fengkong.features.expr import compile_expr


def test_standard_library_loads_with_enough_windowed_features():
    fs = load_features()
    windowed = [f for f in fs.features if f.kind == "window" and f.window_us is not None]
    assert len(windowed) >= 20
    assert fs.names[:4] == ["app_cnt_id_1h", "app_cnt_id_24h", "app_cnt_id_7d", "app_cnt_id_30d"]
    assert fs.kinds["app_cnt_id_1h"] == "int"
    assert fs.kinds["contacts_overdue_share"] == "float"
    assert fs.kinds["shared_applicants_30d"] == "int"
    assert fs.kinds["loan_amount"] == "int"
    assert set(fs.kinds.values()) <= {"int", "float", "bool", "str"}
    assert len(set(fs.names)) == len(fs.names)


def test_windows_template_expands_in_order():
    fs = from_dicts([{"name": "n_{window}", "windows": ["1h", "lifetime"], "key": "ip", "events": ["application"]}])
    assert fs.names == ["n_1h", "n_lifetime"]
    assert fs.by_name["n_1h"].window_us == 3_600_000_000
    assert fs.by_name["n_lifetime"].window_us is None


@pytest.mark.parametrize("item, message", [
    ({"name": "x", "key": "nope"}, "key field 'nope'"),
    ({"name": "x", "key": "ip", "window": "3 weeks"}, "window '3 weeks'"),
    ({"name": "x", "key": "ip", "agg": "median"}, "agg 'median'"),
    ({"name": "x", "key": "ip", "agg": "sum"}, "needs a value"),
    ({"name": "x", "key": "ip", "agg": "sum", "value": "gps_lat"}, "integer or boolean"),
    ({"name": "x", "key": "ip", "filter": "amount_fen >"}, "cannot parse"),
    ({"name": "x", "key": "ip", "filter": "bogus == 1"}, "unknown event field 'bogus'"),
    ({"name": "x", "key": "ip", "events": ["loan"]}, "unknown event type 'loan'"),
    ({"name": "x", "key": "contact_tokens", "agg": "first", "value": "ip"}, "agg must be one of"),
    ({"name": "x", "key": "ip", "colour": "red"}, "unknown option 'colour'"),
    ({"name": "x", "ratio": ["a", "b"]}, "input 'a' is not declared"),
    ({"name": "x", "key": "merchant_id", "applies_to": ["application"]}, "has no key field 'merchant_id'"),
    ({"name": "x", "cross": "shared_applicants"}, "finite window"),
])
def test_invalid_declarations_name_feature_and_field(item, message):
    with pytest.raises(FeatureSpecError, match="'x'") as exc:
        from_dicts([item])
    assert message in str(exc.value)


def test_duplicates_and_cycles_are_rejected():
    a = feature("a", key="ip", events="application")
    with pytest.raises(FeatureSpecError, match="declared twice"):
        FeatureSet([a, a])
    with pytest.raises(FeatureSpecError, match="cycle"):
        FeatureSet([derived("p", "ratio", "q", "q"), derived("q", "diff", "p", "p")])


def test_merged_keeps_order_and_rejects_conflicts():
    a = FeatureSet([feature("a", key="ip", events="application")])
    b = FeatureSet([feature("a", key="ip", events="application"), feature("b", key="device_id")])
    assert a.merged(b).names == ["a", "b"]
    c = FeatureSet([feature("a", key="ip", events="purchase")])
    with pytest.raises(FeatureSpecError, match="declared differently"):
        a.merged(c)


def test_load_features_reports_bad_files(tmp_path):
    p = tmp_path / "f.yaml"
    p.write_text("features: [name: x\n")
    with pytest.raises(FeatureSpecError, match="not valid YAML"):
        load_features(p)
    p.write_text("feature: []\n")
    with pytest.raises(FeatureSpecError, match="top-level 'features:'"):
        load_features(p)
    with pytest.raises(FeatureSpecError, match="cannot read"):
        load_features(tmp_path / "missing.yaml")


@pytest.mark.parametrize("src, event, expected", [
    ("amount_fen % 10000 == 0", {"amount_fen": 20000}, True),
    ("amount_fen % 10000 == 0", {"amount_fen": 20001}, False),
    ("amount_fen % 10000 == 0", {"amount_fen": None}, None),
    ("not is_refund or is_null(is_refund)", {"is_refund": None}, True),
    ("not is_refund or is_null(is_refund)", {"is_refund": True}, False),
    ("direction == 'in' and dpd > 0", {"direction": "out", "dpd": None}, False),
    ("direction == 'in' and dpd > 0", {"direction": "in", "dpd": None}, None),
    ("dpd > 0 or direction == 'in'", {"direction": "in", "dpd": None}, True),
    ("merchant_category not in ['gambling', 'crypto']", {"merchant_category": "crypto"}, False),
    ("-dpd < -3", {"dpd": 5}, True),
])
def test_expressions_agree_in_python_and_polars(src, event, expected):
    import polars as pl

    from fengkong.events import EVENT_SCHEMA

    c = compile_expr(src, "test")
    assert c.python(event) == expected
    row = {k: event.get(k) for k in c.fields}
    frame = pl.DataFrame([row], schema={k: EVENT_SCHEMA[k] for k in c.fields})
    assert frame.select(c.polars.alias("x"))["x"][0] == expected


def test_merged_accepts_the_same_definition_with_other_doc_and_reparsed_filter():
    a = FeatureSet([feature("a", key="ip", events="application", filter="amount_fen > 5", doc="one")])
    b = FeatureSet([feature("a", key="ip", events="application", filter="amount_fen > 5", doc="two")])
    assert a.merged(b).names == ["a"]
