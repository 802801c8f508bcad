"""The CLI: price (--json), compliance and subsidy on event files; one clear error naming the field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from fengkong.pricing.cli import register

SH = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


def invoke(app, args):
    return CliRunner().invoke(app, args)


def test_price_json_headline(app):
    r = invoke(app, ["price", "--principal", "10000", "--term", "12", "--fee-rate", "0.006", "--method",
                     "fee_per_period", "--start", "2026-01-10", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert round(d["apr_irr"] * 100, 2) == 13.03
    assert round(d["ear"] * 100, 2) == 13.84 and round(d["apr_simple"] * 100, 2) == 13.29
    assert d["total_cost_fen"] == 72_000
    assert d["schedule"][0] == {"no": 1, "due_date": "2026-02-10", "principal_fen": 83_333, "interest_fen": 0,
                                "installment_fee_fen": 6_000, "total_fen": 89_333}
    assert d["cap_check"]["allowed"] is True


def test_price_product_file_blocked_offer_exits_1(app, tmp_path: Path):
    f = tmp_path / "p.yaml"
    f.write_text("principal: 10000\nterm: 12\nrate: 0.18\nstart: 2026-01-05\ncharges:\n"
                 "  - {name: guarantee, kind: guarantee_fee, payee: guarantor, rate: 0.005}\n", encoding="utf-8")
    r = invoke(app, ["price", "--product", str(f), "--channel", "zhudai", "--json"])
    assert r.exit_code == 1
    d = json.loads(r.output)
    assert d["cap_check"]["reason"] == "PRICE_ABOVE_CAP"
    assert round(d["apr_irr"] * 100, 2) == 28.36


@pytest.mark.parametrize(("args", "field"), [
    (["--principal", "-100", "--term", "12"], "principal"),
    (["--principal", "1000", "--term", "0"], "term"),
    (["--principal", "1000", "--term", "12", "--method", "balloon"], "method"),
    (["--principal", "1000", "--term", "12", "--start", "2001-01-01"], "start"),
])
def test_price_bad_input(app, args, field):
    r = invoke(app, ["price", *args])
    assert r.exit_code == 2
    assert f"field '{field}'" in r.output


def _world(tmp_path: Path) -> Path:
    d = tmp_path / "world"
    d.mkdir()
    n = 28
    pl.DataFrame({
        "event_id": [f"d{i}" for i in range(n)], "event_type": ["disbursement"] * n,
        "ts": [dt.datetime(2026, 1, 2 + i, 10, tzinfo=SH) for i in range(n)],
        "customer_id": [f"C{i}" for i in range(n)], "loan_id": [f"L{i}" for i in range(n)],
        "amount_fen": [1_000_000] * n, "term_months": [12] * n, "repayment_method": ["equal_installment"] * n,
        "contract_rate": [0.15 + 0.003 * i for i in range(n)], "payment_mode": ["self"] * n,
        "lender_type": ["consumer_finance"] * n, "channel": ["own"] * n, "card_token": [f"a{i}" for i in range(n)],
    }).write_parquet(d / "disbursement.parquet")
    pl.DataFrame({
        "event_id": [f"t{i}" for i in range(n)], "event_type": ["transfer"] * n,
        "ts": [dt.datetime(2026, 1, 3 + i, 10, tzinfo=SH) for i in range(n)],
        "customer_id": [f"C{i}" for i in range(n)], "loan_id": [f"L{i}" for i in range(n)],
        "card_token": [f"a{i}" for i in range(n)], "direction": ["out"] * n,
        "counterparty_id": ["m"] * n, "counterparty_type": ["merchant"] * n,
        "counterparty_category": ["electronics"] * n, "amount_fen": [500_000] * n,
    }).write_csv(d / "transfer.csv")
    return d


def test_compliance_and_subsidy_commands(app, tmp_path: Path):
    w = _world(tmp_path)
    r = invoke(app, ["compliance", "--loans", str(w / "disbursement.parquet"), "--quarter", "2026Q1",
                     "--as-of", "2026-01-20", "--what-if-cap", "0.195", "--html", str(tmp_path / "c.html"),
                     "--xlsx", str(tmp_path / "c.xlsx"), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    rule = d["portfolio_rules"][0]
    assert rule["loans"] == 19 and rule["weighted_apr"] == pytest.approx(0.15 + 0.003 * 9, abs=2e-4)
    assert (tmp_path / "c.html").read_text(encoding="utf-8").count("<img") == 2
    assert (tmp_path / "c.xlsx").stat().st_size > 0
    led = tmp_path / "ledger.parquet"
    args = ["subsidy", "run", "--transactions", str(w / "transfer.csv"), "--loans", str(w / "disbursement.parquet"),
            "--as-of", "2026-04-01", "--ledger", str(led), "--json"]
    r1 = invoke(app, args)
    assert r1.exit_code == 0, r1.output
    d1 = json.loads(r1.output)
    assert d1["eligible"] == 28 and d1["posted_entries"] > 0 and d1["subsidy_fen"] > 0
    d2 = json.loads(invoke(app, args).output)
    assert d2["posted_entries"] == 0 and d2["subsidy_fen"] == d1["subsidy_fen"]
    r3 = invoke(app, ["subsidy", "report", "--ledger", str(led), "--json"])
    assert sum(c["subsidy_fen"] for c in json.loads(r3.output)["claims"]) == d1["subsidy_fen"]
    bad = invoke(app, ["subsidy", "run", "--transactions", str(w / "transfer.csv"), "--as-of", "2026-04-01",
                       "--ledger", str(led)])
    assert bad.exit_code == 2 and "field 'loans'" in bad.output
    bad = invoke(app, ["subsidy", "run", "--transactions", str(w / "transfer.csv"), "--loans",
                       str(w / "disbursement.parquet"), "--as-of", "2020-01-01", "--ledger", str(tmp_path / "x.parquet")])
    assert bad.exit_code == 2 and "field 'as_of'" in bad.output


def test_disclosure_table_from_the_same_ledger(app, tmp_path: Path):
    product = Path(__file__).parents[2] / "src/fengkong/pricing/examples/zhudai_guaranteed_loan.yaml"
    out = tmp_path / "d.html"
    r = invoke(app, ["price", "--product", str(product), "--channel", "zhudai", "--json", "--disclosure-html", str(out)])
    d = json.loads(r.output)
    table = d["disclosure"]
    assert [i["item"] for i in table["items"]] == [i["name"] for i in d["items"]]
    assert sum(i["annualised"] for i in table["items"]) == pytest.approx(d["apr_irr"], abs=1e-12)
    assert {i["item"]: i["payee"] for i in table["items"]}["guarantee_fee"] == "guarantor"
    assert table["contingent"][0]["item"] == "overdue_penalty_interest"
    text = out.read_text(encoding="utf-8")
    assert "综合融资成本明示表" in text and "29.40%" in text and "不收取其他" in text
