"""Raw identity values are checked where plaintext arrives: GB 11643 ID numbers and mainland mobile numbers."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fengkong.events import EventValidationError, pii
from fengkong.events import files as eventio
from fengkong.service.boundary import tokenise_event

GOOD_ID = "11010519491231002X"
TOK = pii.Tokenizer(b"k" * 32)


@pytest.mark.parametrize("value, ok", [(GOOD_ID, True), (GOOD_ID.lower(), True), ("110105194912310021", False),
                                        ("not-an-id-at-all!!", False), ("110105194913310029", False),
                                        ("11010519491231002", False)])
def test_id_checksum(value, ok):
    assert (pii.id_no_problem(value) is None) is ok


@pytest.mark.parametrize("value, ok", [("13812345678", True), ("+86 138-1234-5678", True), ("19912345678", True),
                                        ("12345", False), ("12812345678", False), ("138123456789", False)])
def test_mobile_format(value, ok):
    assert (pii.phone_problem(value) is None) is ok


def _app(**kw):
    return {"event_id": "A1", "event_type": "application", "ts": "2026-03-01T10:00:00+08:00", "customer_id": "C1",
            "product": "cash_loan", "amount_fen": 100000, "term_months": 6, **kw}


@pytest.mark.parametrize("kw, field", [({"id_no": "not-an-id-123456789"}, "id_no"), ({"phone": "12345"}, "phone"),
                                        ({"contact_phones": ["13812345678", "555"]}, "contact_phones[1]")])
def test_service_boundary_refuses_and_never_echoes(kw, field):
    with pytest.raises(EventValidationError) as e:
        tokenise_event(_app(**kw), TOK)
    assert e.value.field == field
    bad = next(iter(kw.values()))
    bad = bad[-1] if isinstance(bad, list) else bad
    assert bad not in str(e.value)
    ev = tokenise_event(_app(id_no=GOOD_ID, phone="13812345678"), TOK)
    assert ev["gender"] == "F" and ev["id_token"] == TOK.token("id", GOOD_ID)


def test_file_rows_with_garbage_identity_are_quarantined(tmp_path):
    p = tmp_path / "customer.csv"
    p.write_text("event_id,ts,customer_id,id_no,phone\n"
                 f"c1,2026-01-01T10:00:00+08:00,c1,{GOOD_ID},13812345678\n"
                 "c2,2026-01-01T10:00:00+08:00,c2,not-an-id-0000000,13812345678\n"
                 f"c3,2026-01-01T10:00:00+08:00,c3,{GOOD_ID},12345\n")
    res = eventio.read_events(p, tokenizer=TOK)
    assert res.frame["event_id"].to_list() == ["c1"]
    assert [(e.row, e.field) for e in res.errors] == [(2, "id_no"), (3, "phone")]
    q = res.quarantine_path.read_text()
    assert "not-an-id" not in q and "12345," not in q and "__identity_problem__" not in q


def test_fraud_lock_refuses_a_garbage_id(app, tmp_path):
    r = CliRunner().invoke(app, ["fraud", "lock", "--id-number", "not-an-id", "--reason", "r",
                                 "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert r.exit_code == 2 and "--id-number: not an 18-digit resident ID number" in r.output
    assert "not-an-id" not in r.output.replace("--id-number", "")
