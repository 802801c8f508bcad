"""Entrusted-payment payee check: account, merchant and normalised name against the contract, online and
offline alike, through the reference disbursement strategy."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fengkong.events import EVENT_SCHEMA, TZ, EventValidationError, validate_event
from fengkong.features.providers import combined_kinds
from fengkong.postloan.alerts import DISBURSEMENT_STRATEGY
from fengkong.postloan.payee import FEATURE_KINDS, check, check_frame, normalise_name
from fengkong.postloan.provider import PostloanFeatures
from fengkong.strategy.compiled import load_strategy

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
REG = "深圳四海通讯器材有限公司"


@pytest.mark.parametrize("variant", [
    "深圳四海通讯器材有限责任公司", "深圳四海通讯器材股份有限公司", "深圳 四海通讯器材有限公司",
    "深圳\u3000四海通讯器材有限公司", "（深圳）四海通讯器材有限公司", "(深圳)四海通讯器材有限公司",
    "深圳四海通讯器材有限公司 ", "深圳四海通讯器材有限公司",
])
def test_name_variants_that_match(variant):
    assert normalise_name(variant) == normalise_name(REG)


def test_width_and_case_of_latin_names():
    assert normalise_name("ＡＢＣ科技（北京）有限公司") == normalise_name("abc科技(北京)有限责任公司")


@pytest.mark.parametrize("other", [
    "深圳四海通讯有限公司", "广州四海通讯器材有限公司", "深圳四海通讯器材店", "深圳四海通讯器材有限公司分公司",
    "深圳四海通信器材有限公司", "四海通讯器材（深圳）有限公司",
])
def test_name_variants_that_do_not_match(other):
    assert normalise_name(other) != normalise_name(REG)


def test_empty_names_are_not_stated():
    assert normalise_name(None) is None and normalise_name(" （）") is None


def _disb(i: int, mode: str = "entrusted", **kw) -> dict:
    ev = {"event_id": f"D{i}", "event_type": "disbursement", "ts": T0 + dt.timedelta(minutes=i), "customer_id": "C1",
          "loan_id": f"L{i}", "amount_fen": 5_000_000, "term_months": 12, "payment_mode": mode}
    ev.update(kw)
    return ev


FULL = {"payee_id": "A1", "contract_payee_id": "A1", "payee_merchant_id": "M1", "contract_merchant_id": "M1",
        "payee_name": REG, "contract_payee_name": "深圳四海通讯器材有限责任公司"}
CASES = [
    (dict(FULL), {"account": "match", "merchant": "match", "name": "match"}, False),
    ({**FULL, "payee_merchant_id": "M2"}, {"account": "match", "merchant": "mismatch", "name": "match"}, True),
    ({**FULL, "payee_name": "深圳四海通讯有限公司"}, {"account": "match", "merchant": "match", "name": "mismatch"}, True),
    ({**FULL, "payee_id": "A2"}, {"account": "mismatch", "merchant": "match", "name": "match"}, True),
    ({"payee_id": "A1", "contract_payee_id": "A1"}, {"account": "match", "merchant": "not_stated",
                                                     "name": "not_stated"}, False),
    ({"payee_id": "A1", "contract_merchant_id": "M1", "contract_payee_name": REG},
     {"account": "not_stated", "merchant": "mismatch", "name": "mismatch"}, True),  # stated but not carried
    ({"payee_id": "A1", "payee_name": REG}, {"account": "not_stated", "merchant": "not_stated",
                                             "name": "not_stated"}, False),
]


def _frame(events: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{k: e.get(k) for k in EVENT_SCHEMA} for e in events], schema=EVENT_SCHEMA)


def test_checks_online_offline_and_the_strategy():
    events = [_disb(i, **kw) for i, (kw, _, _) in enumerate(CASES)] + [_disb(99, "self", card_token="K1")]
    off = {r["event_id"]: r for r in check_frame(_frame(events)).iter_rows(named=True)}
    s = load_strategy(DISBURSEMENT_STRATEGY, features=combined_kinds())
    p = PostloanFeatures()
    for i, (_, want, flagged) in enumerate(CASES):
        ev = events[i]
        f = p.read_update(ev)
        got = {k: f[f"pl_payee_{k}_check"] for k in want}
        assert got == want, (i, got)
        assert {k: off[ev["event_id"]][k] for k in FEATURE_KINDS} == {k: f[k] for k in FEATURE_KINDS}, i
        assert ("DB_PAYEE_MISMATCH" in s.evaluate(ev, f).rules_hit) is flagged, i
    assert check(events[-1]) == dict.fromkeys(FEATURE_KINDS) and off["D99"]["pl_payee_name_check"] is None


def test_the_new_fields_are_validated():
    ev = _disb(1, **FULL)
    ev["ts"] = ev["ts"].isoformat()
    assert validate_event(ev)["contract_payee_name"] == FULL["contract_payee_name"]
    with pytest.raises(EventValidationError, match="contract_merchant_id"):
        validate_event({**ev, "contract_merchant_id": 12})


def test_the_docs_example_runs():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "postloan.md").read_text(encoding="utf-8")
    section = text.split("### Entrusted payment checks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "postloan.md", "exec"), {})
