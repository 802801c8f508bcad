"""DOMAIN.md §2.1 subsidy vectors, caps, refunds, deduction and ledger idempotency."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from fengkong.pricing import PricingError
from fengkong.pricing.config import Config, _merge, load_config
from fengkong.pricing.subsidy import SubsidyRules
from fengkong.pricing.subsidy_ledger import run_subsidy

TZ = dt.timezone(dt.timedelta(hours=8))


def ts(d: str) -> dt.datetime:
    return dt.datetime.fromisoformat(d).replace(hour=12, tzinfo=TZ)


def loan(loan_id="L1", cust="C1", amount_yuan=200_000, rate=0.03, term=12, method="interest_first",
         day="2025-09-01"):
    return {"event_id": f"d-{loan_id}", "ts": ts(day), "customer_id": cust, "loan_id": loan_id,
            "amount_fen": amount_yuan * 100, "term_months": term, "repayment_method": method,
            "contract_rate": rate, "fee_rate": 0.0, "upfront_fee_fen": 0, "guarantee_fee_rate": 0.0,
            "card_token": "acct-1", "payment_mode": "self"}


def transfer(i, amount_yuan, cat, loan_id="L1", cust="C1", day="2025-09-01", ctype="merchant"):
    return {"event_id": f"t-{loan_id}-{i}", "ts": ts(day), "customer_id": cust, "loan_id": loan_id,
            "direction": "out", "counterparty_type": ctype, "counterparty_category": cat,
            "amount_fen": amount_yuan * 100, "card_token": "acct-1", "counterparty_id": f"m{i}"}


def run(loans, transfers, as_of, purchases=None, rules=None, **kw):
    return run_subsidy(pl.DataFrame(purchases) if purchases else None, pl.DataFrame(transfers),
                       pl.DataFrame(loans), dt.date.fromisoformat(as_of), rules=rules, **kw)


def total(r) -> int:
    """Subsidy accrued after the caps (the DOMAIN vectors); the granted subsidy is tested separately."""
    return int(r.state["accrued_fen"].sum())


def rules_with(**over) -> SubsidyRules:
    base = copy.deepcopy(load_config().data)
    return SubsidyRules.load(Config(_merge(base, {"subsidy": over}), "test"))


def test_mof_example_3pct_200k_one_year_is_2000():
    tr = [transfer(i, 50_000, "furniture" if i % 2 else "decoration") for i in range(4)]
    assert total(run([loan()], tr, "2026-09-01")) == 2_000_00


def test_subsidy_rate_is_half_the_contract_rate_below_2pct():
    rules = SubsidyRules.load()
    from fractions import Fraction
    assert rules.subsidy_rate(rules.rule_sets[0], Fraction("0.016")) == Fraction("0.008")
    r = run([loan(rate=0.016, amount_yuan=50_000)], [transfer(0, 50_000, "auto")], "2026-09-01")
    assert total(r) == 400_00
    assert r.items["subsidy_rate"][0] == pytest.approx(0.008)


def test_original_rules_large_car_capped_base_and_watch_excluded():
    r = run([loan(amount_yuan=80_000)], [transfer(0, 80_000, "auto")], "2026-09-01")
    assert total(r) == 500_00
    r = run([loan(amount_yuan=80_000)], [transfer(0, 80_000, "jewelry_luxury")], "2026-09-01")
    assert total(r) == 0
    assert r.items["reason"][0] == "LARGE_TXN_NON_KEY_SECTOR"


def test_amended_rules_80k_anything_is_800():
    r = run([loan(amount_yuan=80_000, day="2026-01-01")], [transfer(0, 80_000, "jewelry_luxury", day="2026-01-01")],
            "2027-01-01")
    assert total(r) == 800_00
    assert r.items["rule_id"][0] == "caijin_2026_1"


def test_small_transaction_subcap_1000_under_original_rules():
    tr = [transfer(i, 4_000, "everyday_retail") for i in range(30)]
    r = run([loan(amount_yuan=120_000)], tr, "2026-09-01")
    assert total(r) == 1_000_00  # 1,200 computed, capped at the 1,000 sub-cap
    r = run([loan(amount_yuan=120_000, day="2026-01-01")],
            [transfer(i, 4_000, "everyday_retail", day="2026-01-01") for i in range(30)], "2027-01-01")
    assert total(r) == 1_200_00  # sub-cap removed in 2026


def test_total_cap_3000_per_borrower():
    tr = [transfer(i, 50_000, "auto", day="2026-01-01") for i in range(8)]
    r = run([loan(amount_yuan=400_000, day="2026-01-01")], tr, "2027-01-01")
    assert total(r) == 3_000_00


def test_calendar_year_cap_window_from_configuration():
    tr = [transfer(i, 50_000, "auto") for i in range(8)]
    lo = loan(amount_yuan=400_000, term=24)
    assert total(run([lo], tr, "2026-12-31")) == 3_000_00
    r = run([lo], tr, "2026-12-31", rules=rules_with(cap_window="calendar_year"))
    # 2025: 122 days of 1 % on 400,000 = 1,336.99; 2026: capped at 3,000 again
    assert total(r) == 1_336_99 + 3_000_00


def test_excluded_uses_and_authorisation():
    tr = [transfer(0, 10_000, "securities"), transfer(1, 10_000, "catering", ctype="individual"),
          transfer(2, 10_000, "catering")]
    r = run([loan(amount_yuan=30_000)], tr, "2026-09-01")
    reasons = dict(zip(r.items["item_id"], r.items["reason"], strict=True))
    assert reasons == {"t-L1-0": "EXCLUDED_USE", "t-L1-1": "NOT_CONSUMPTION", "t-L1-2": "ELIGIBLE"}
    r = run([loan(amount_yuan=30_000)], tr, "2026-09-01", authorized={"someone-else"})
    assert set(r.items["reason"]) == {"NOT_CONSUMPTION", "ACCOUNT_NOT_AUTHORISED"}


def test_purchases_credit_card_rules_and_refund_reversal():
    purchases = [
        {"event_id": "p1", "ts": ts("2026-01-10"), "customer_id": "C1", "merchant_id": "m", "amount_fen": 600_000,
         "merchant_category": "electronics", "installments": 12, "is_refund": False, "refund_of": None},
        {"event_id": "p2", "ts": ts("2025-10-10"), "customer_id": "C1", "merchant_id": "m", "amount_fen": 600_000,
         "merchant_category": "electronics", "installments": 12, "is_refund": False, "refund_of": None},
    ]
    card = rules_with(credit_line={"kind": "credit_card"})
    r = run_subsidy(pl.DataFrame(purchases), None, None, dt.date(2026, 6, 1), rules=card)
    reasons = dict(zip(r.items["item_id"], r.items["reason"], strict=True))
    assert reasons == {"p2": "CREDIT_CARD_EXCLUDED", "p1": "ELIGIBLE"}  # bill installments only from 2026
    refund = {"event_id": "p3", "ts": ts("2026-02-01"), "customer_id": "C1", "merchant_id": "m",
              "amount_fen": 600_000, "merchant_category": "electronics", "installments": 1, "is_refund": True,
              "refund_of": "p1"}
    r2 = run_subsidy(pl.DataFrame([*purchases, refund]), None, None, dt.date(2026, 6, 1), rules=card)
    assert dict(zip(r2.items["item_id"], r2.items["reason"], strict=True))["p1"] == "REFUNDED"
    assert total(r2) == 0


def test_ledger_is_idempotent_and_refunds_post_a_reversal(tmp_path: Path):
    led = tmp_path / "ledger.parquet"
    tr = [transfer(0, 40_000, "education"), transfer(1, 10_000, "catering")]
    r1 = run([loan(amount_yuan=50_000)], tr, "2026-03-01", ledger_path=led)
    assert r1.posted.height > 0
    r2 = run([loan(amount_yuan=50_000)], tr, "2026-03-01", ledger_path=led)
    assert r2.posted.height == 0
    assert r2.ledger.equals(r1.ledger)
    # the education purchase turns out to be outside eligible use: its subsidy is reversed
    tr_bad = [transfer(0, 40_000, "securities"), transfer(1, 10_000, "catering")]
    r3 = run([loan(amount_yuan=50_000)], tr_bad, "2026-03-01", ledger_path=led)
    assert set(r3.posted["kind"]) == {"adjustment"}
    assert r3.posted["accrued_fen"].sum() < 0
    assert r3.ledger.group_by("customer_id").agg(pl.col("accrued_fen").sum())["accrued_fen"][0] == total(r3)
    assert r3.ledger["subsidy_fen"].sum() == r3.state["subsidy_fen"].sum()


def test_deduction_from_interest_due_never_exceeds_interest():
    # 0.2 % contract rate on equal installments: subsidy rate 0.1 %; deduction <= interest due each quarter
    r = run([loan(amount_yuan=50_000, rate=0.002, method="equal_installment")], [transfer(0, 50_000, "auto")],
            "2026-09-01")
    assert (r.state["subsidy_fen"] >= 0).all()
    assert r.state["subsidy_fen"].sum() <= r.state["accrued_fen"].sum()
    assert r.state["subsidy_fen"].sum() > 0


def test_claim_report_by_branch(tmp_path: Path):
    lo = [loan(), loan("L2", "C2")]
    tr = [transfer(0, 50_000, "auto"), transfer(1, 50_000, "auto", loan_id="L2", cust="C2")]
    customers = pl.DataFrame({"customer_id": ["C1", "C2"], "province": ["浙江", "广东"]})
    r = run(lo, tr, "2026-01-01", customers=customers)
    rep = r.claim_report()
    assert set(rep["branch"]) == {"浙江", "广东"}
    assert set(rep["quarter"]) == {"2025Q3", "2025Q4"}
    assert rep["accrued_fen"].sum() == total(r)
    assert rep["subsidy_fen"].sum() == r.state["subsidy_fen"].sum() <= total(r)


def test_as_of_outside_every_rule_names_the_field():
    with pytest.raises(PricingError) as ei:
        run([loan()], [transfer(0, 1_000, "auto")], "2024-01-01")
    assert ei.value.field == "as_of"


def _interest_by_quarter(lo: dict, as_of: dt.date) -> dict[str, int]:
    from fengkong.pricing.schedule import build_schedule
    from fengkong.pricing.subsidy import quarter_of
    from fengkong.pricing.vector import product_of_row

    row = dict(lo, start=lo["ts"].date())
    out: dict[str, int] = {}
    for p in build_schedule(product_of_row(row)).periods:
        if p.due_date < as_of:
            out[quarter_of(p.due_date)] = out.get(quarter_of(p.due_date), 0) + p.interest_fen
    return out


def test_subsidy_never_exceeds_interest_when_the_50pct_cap_is_dropped():
    # 0.5 % contract rate, 1 pp subsidy with the 50 % share cap dropped: the subsidy would be twice the interest
    sets = copy.deepcopy(load_config().data["subsidy"]["rule_sets"])
    for s in sets:
        s["max_share_of_contract_rate"] = None
    rules = rules_with(rule_sets=sets)
    lo = loan(amount_yuan=50_000, rate=0.005, method="equal_installment", day="2026-01-05")
    as_of = dt.date(2027, 3, 1)
    r = run([lo], [transfer(0, 50_000, "auto", day="2026-01-05")], as_of.isoformat(), rules=rules)
    interest = _interest_by_quarter(lo, as_of)
    claims = r.claim_report()
    assert claims.height > 0
    for q, claimed in zip(claims["quarter"], claims["subsidy_fen"], strict=True):
        assert 0 <= claimed <= interest.get(q, 0), q          # deducted from interest due, never below zero
    assert int(claims["subsidy_fen"].sum()) <= sum(interest.values())
    # the claim is what was deducted: after the loan is repaid nothing is left pending or growing
    assert int(r.state["accrued_fen"].sum()) - int(r.state["subsidy_fen"].sum()) <= 100   # <= 1 yuan of day-count slack
    assert r.items["subsidy_rate"][0] == pytest.approx(0.005)   # never above the contract rate itself


def test_report_rule_text_follows_the_configuration(tmp_path: Path):
    from fengkong.pricing.report import subsidy_html

    sets = copy.deepcopy(load_config().data["subsidy"]["rule_sets"])
    sets[1]["max_share_of_contract_rate"] = None
    sets[1]["document"] = "财金〔2026〕99号"
    rules = rules_with(rule_sets=sets, day_count_basis=360)
    r = run([loan(day="2026-01-05")], [transfer(0, 50_000, "auto", day="2026-01-05")], "2026-04-01", rules=rules)
    out = tmp_path / "s.html"
    subsidy_html(r, out)
    text = out.read_text(encoding="utf-8")
    assert "days/360" in text and "days/365" not in text
    assert "财金〔2026〕99号" in text and "no share-of-contract-rate cap" in text
    assert "min(1 pp, 50 % of the contract rate)" in text          # the 2025 rule set keeps its cap
    assert text.count("<img") == 1


def test_ledger_of_the_earlier_layout_is_read(tmp_path: Path):
    from fengkong.pricing.subsidy_ledger import LEDGER_SCHEMA, _read

    old = pl.DataFrame({"entry_id": ["e1"], "institution_id": ["SELF"], "branch": ["HQ"], "customer_id": ["C1"],
                        "quarter": ["2025Q4"], "subsidy_fen": [500], "deducted_fen": [300],
                        "as_of": [dt.date(2026, 1, 1)], "kind": ["accrual"]})
    for suffix in (".parquet", ".csv"):
        p = tmp_path / f"old{suffix}"
        old.write_parquet(p) if suffix == ".parquet" else old.write_csv(p)
        led = _read(p)
        assert led.schema == pl.Schema(LEDGER_SCHEMA)
        assert (led["accrued_fen"][0], led["subsidy_fen"][0]) == (500, 300)
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(PricingError) as ei:
        _read(bad)
    assert ei.value.field == "ledger"
