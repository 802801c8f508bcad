"""Event model: schema, scalar validation and file loading with quarantine."""

import datetime as dt
import json
import re

import polars as pl
import pytest

from fengkong import events
from fengkong.events import EventValidationError
from fengkong.events import files as eventio


def _app(**kw):
    base = dict(event_id="e1", event_type="application", ts="2026-01-05T10:00:00+08:00", customer_id="c1",
                product="cash_loan", amount_fen=500000, term_months=12)
    base.update(kw)
    return base


def test_union_schema_has_every_field_once():
    for et in events.EVENT_TYPES:
        for f in events.fields_of(et):
            assert events.EVENT_SCHEMA[f.name] == f.dtype


def test_validate_event_normalises_and_names_bad_field():
    ok = events.validate_event(_app(is_emulator="true", contact_tokens=["a", "b"]))
    assert ok["ts"].tzinfo is not None and ok["is_emulator"] is True and ok["contact_tokens"] == ["a", "b"]
    with pytest.raises(EventValidationError, match=r"'amount_fen'.*below the minimum"):
        events.validate_event(_app(amount_fen=0))
    with pytest.raises(EventValidationError, match=r"'ts'.*no timezone"):
        events.validate_event(_app(ts="2026-01-05T10:00:00"))
    with pytest.raises(EventValidationError, match=r"'product'.*not one of"):
        events.validate_event(_app(product="mortgage"))
    with pytest.raises(EventValidationError, match=r"'amout_fen'.*unknown field"):
        events.validate_event(_app(amout_fen=1))
    with pytest.raises(EventValidationError, match=r"'customer_id'.*required"):
        events.validate_event(_app(customer_id=None))


def test_typed_record_round_trip():
    rec = events.record_from_dict(_app())
    assert isinstance(rec, events.Application)
    assert rec.validated()["amount_fen"] == 500000


ROWS = """event_id,ts,customer_id,product,amount_fen,term_months,is_emulator,contact_tokens
e1,2026-01-01T10:00:00+08:00,c1,cash_loan,1000,12,true,a|b
e2,2026-01-01T10:00:00,c1,cash_loan,1000,12,,
e3,2026-01-01T11:00:00+08:00,c1,mortgage,-5,12,maybe,
e1,2026-01-01T12:00:00+08:00,c1,cash_loan,1000,12,,
e4,2026-01-01T13:00:00+08:00,,cash_loan,12.5,x,0,
e5,2026-01-02T09:00:00Z,c2,credit_line,2000000,12,false,"[""t1""]"
"""


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_bad_rows_are_reported_and_quarantined_good_rows_kept(tmp_path, fmt):
    src = tmp_path / "application.csv"
    src.write_text(ROWS)
    path = src
    if fmt == "jsonl":
        path = tmp_path / "application.jsonl"
        frame = pl.read_csv(src, infer_schema=False)
        path.write_text("\n".join(json.dumps(r) for r in frame.to_dicts()) + "\nnot json\n")
    elif fmt == "parquet":
        path = tmp_path / "application.parquet"
        pl.read_csv(src, infer_schema=False).write_parquet(path)
    res = eventio.read_events(path)
    assert res.frame["event_id"].to_list() == ["e1", "e5"]
    assert res.frame["contact_tokens"].to_list() == [["a", "b"], ["t1"]]
    assert res.frame["ts"].dtype == events.TS_DTYPE
    assert res.frame["ts"][1] == dt.datetime(2026, 1, 2, 17, 0, tzinfo=events.TZ)
    got = {(e.row, e.field) for e in res.errors}
    assert {(2, "ts"), (3, "product"), (3, "amount_fen"), (3, "is_emulator"), (4, "event_id"),
            (5, "customer_id"), (5, "amount_fen"), (5, "term_months")} <= got
    quarantined = [json.loads(x) for x in res.quarantine_path.read_text().splitlines()]
    expected_bad = [2, 3, 4, 5] + ([7] if fmt == "jsonl" else [])
    assert [q["_row"] for q in quarantined] == expected_bad
    assert res.frame.height + len(quarantined) == (7 if fmt == "jsonl" else 6)  # nothing silently dropped


def test_unknown_file_type_is_a_clear_error(tmp_path):
    p = tmp_path / "application.xls"
    p.write_text("x")
    with pytest.raises(EventValidationError, match=r"unsupported file type"):
        eventio.read_events(p)


def test_raw_identity_columns_are_tokenised_at_the_boundary(tmp_path):
    from fengkong.events.pii import Tokenizer

    tok = Tokenizer(b"k" * 32)
    p = tmp_path / "customer.csv"
    p.write_text("event_id,ts,customer_id,id_no,phone,name\n"
                 "c1,2026-01-01T10:00:00+08:00,c1,110101199003071233,13812345678,张三\n")
    res = eventio.read_events(p, tokenizer=tok)
    row = res.frame.row(0, named=True)
    assert row["id_token"] == tok.token("id", "110101199003071233")
    assert row["phone_token"] == tok.token("phone", "138 1234 5678")
    assert row["age"] == 35 and row["gender"] == "M"
    assert "110101199003071233" not in str(res.frame.to_dicts())
    with pytest.raises(EventValidationError, match=r"'id_no'.*no tokenisation key"):
        eventio.read_events(p)


def test_cli_validate_exits_nonzero_and_reports(tmp_path):
    from typer.testing import CliRunner

    from fengkong import cli

    cli._register_all()
    p = tmp_path / "application.csv"
    p.write_text(ROWS)
    out = tmp_path / "good.parquet"
    r = CliRunner().invoke(cli.app, ["events", "validate", str(p), "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "row 3: field 'product'" in r.output and "2 good rows, 4 quarantined" in r.output
    assert pl.read_parquet(out).height == 2


def test_csv_with_ragged_rows_and_a_broken_quote_keeps_the_good_rows(tmp_path):
    p = tmp_path / "application.csv"
    p.write_text("event_id,ts,customer_id,product,amount_fen,term_months\n"
                 "e1,2026-01-01T10:00:00+08:00,c1,cash_loan,1000,12\n"
                 "e2,2026-01-01T10:00:00+08:00,c1,cash_loan,1000,12,extra\n"
                 "e3,2026-01-01T11:00:00+08:00,c1,cash_loan,1000,12\n"
                 "e4,2026-01-01T11:00:00+08:00,c1,cash_loan,1000\n"
                 'e5,2026-01-01T12:00:00+08:00,"c1,cash_loan,1000,12\n')
    res = eventio.read_events(p)
    assert res.frame["event_id"].to_list() == ["e1", "e3"]
    bad = {e.row: e.reason for e in res.errors}
    assert "line 3 has 7 fields, the header has 6" in bad[2]
    assert 4 in bad and 5 in bad and "unbalanced quote" in bad[5]
    quarantined = [json.loads(x)["_row"] for x in res.quarantine_path.read_text().splitlines()]
    assert quarantined == [2, 4, 5]


def test_read_world_validates_and_quarantines(tmp_path, caplog):
    from fengkong.simulate import SimConfig, simulate_world

    simulate_world(tmp_path, SimConfig(customers=200, months=3, seed=3))
    clean = eventio.read_world(tmp_path)
    pur = pl.read_parquet(tmp_path / "purchase.parquet")
    first = pur["event_id"][0]
    pur.with_columns(pl.when(pl.col("event_id") == first).then(pl.lit("nope"))
                     .otherwise(pl.col("merchant_category")).alias("merchant_category")
                     ).write_parquet(tmp_path / "purchase.parquet")
    with caplog.at_level("WARNING", logger="fengkong.events.files"):
        got = eventio.read_world(tmp_path)
    assert got.height == clean.height - 1 and first not in got["event_id"].to_list()
    assert "1 bad rows quarantined" in caplog.text and "merchant_category" in caplog.text
    assert (tmp_path / "purchase.parquet.quarantine.jsonl").exists()


def test_docs_events_md_is_current():
    from pathlib import Path

    from fengkong.events.doc import render

    doc = Path(__file__).parents[1] / "docs" / "events.md"
    assert doc.read_text(encoding="utf-8") == render(), "regenerate: fengkong events schema > docs/events.md"


@pytest.mark.parametrize("field,value,msg", [
    ("ts", "9999-12-31T00:00:00+08:00", "outside 1970-01-01 .. 2099-12-31"),
    ("ts", "1900-01-01T00:00:00+08:00", "outside 1970-01-01 .. 2099-12-31"),  # no LMT +08:05:43 offsets
    ("event_id", "", "required field is empty"),
    ("event_id", "x" * 200, "at most 128 printable characters"),
    ("event_id", "a\x00b", "at most 128 printable characters"),
    ("amount_fen", 10**30, "does not fit in Int64"),
    ("amount_fen", 10**16, "above the maximum 1e+15"),
    ("term_months", 70_000, "does not fit in Int16"),
    ("contact_tokens", "tok1", "expected a list of strings"),
])
def test_issue20_item7_online_validation_gaps(field, value, msg):
    from fengkong.events import EventValidationError, validate_event

    ev = {"event_id": "A1", "event_type": "application", "ts": "2026-03-01T10:00:00+08:00", "customer_id": "C1",
          "product": "credit_line", "amount_fen": 500_000, "term_months": 12, field: value}
    with pytest.raises(EventValidationError, match=re.escape(msg)) as e:
        validate_event(ev)
    assert e.value.field == field


def test_issue20_item7_files_apply_the_same_rules(tmp_path):
    from fengkong.events import files as eventio

    f = tmp_path / "application.csv"
    f.write_text("event_id,event_type,ts,customer_id,product,amount_fen,term_months\n"
                 "A1,application,2026-03-01T10:00:00+08:00,C1,credit_line,500000,12\n"
                 "A2,application,9999-12-31T00:00:00+08:00,C1,credit_line,500000,12\n"
                 " ,application,2026-03-01T10:00:00+08:00,C1,credit_line,500000,12\n"
                 "A4,application,2026-03-01T10:00:00+08:00,C1,credit_line,10000000000000000,12\n")
    res = eventio.read_events(f)
    assert res.frame["event_id"].to_list() == ["A1"]
    got = {(e.row, e.field) for e in res.errors}
    assert got == {(2, "ts"), (3, "event_id"), (4, "amount_fen")}
