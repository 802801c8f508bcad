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


def test_price_with_pd_prints_the_build_up_and_the_risk_price(app):
    from fengkong.pricing import risk_price_rate

    args = ["price", "--principal", "10000", "--term", "12", "--start", "2026-01-10"]
    r = invoke(app, [*args, "--pd", "0.03"])
    assert r.exit_code == 0, r.output
    for s in ("funding cost", "acquisition cost", "expected loss", "operating cost", "target margin",
              "contract rate 13.1707%", "Cap check: WITHIN_CAP"):
        assert s in r.output, s
    d = json.loads(invoke(app, [*args, "--pd", "0.03", "--json"]).output)
    rp = d["risk_price"]
    assert rp["decision"] == "price" and rp["contract_rate"] == pytest.approx(risk_price_rate(0.03, start="2026-01-10"))
    assert d["contract_rate"] == rp["contract_rate"] and d["apr_irr"] == pytest.approx(rp["required_apr"], abs=1e-6)
    assert set(rp["components"]) == {"funding_cost", "acquisition_cost", "expected_loss", "operating_cost",
                                     "target_margin"}
    # the fee structure is accounted for: a fee lowers the contract rate for the same required cost
    f = json.loads(invoke(app, [*args, "--pd", "0.03", "--method", "fee_per_period", "--fee-rate", "0.003",
                                "--json"]).output)
    assert f["contract_rate"] < d["contract_rate"] and f["apr_irr"] == pytest.approx(d["apr_irr"], abs=1e-6)
    s = json.loads(invoke(app, [*args, "--score", "640", "--json"]).output)["risk_price"]
    assert s["score"] == 640 and s["pd"] == pytest.approx(0.0244, abs=1e-4)


def test_price_with_pd_above_the_cap_declines_with_the_numbers(app):
    args = ["price", "--principal", "10000", "--term", "12", "--start", "2026-01-10", "--pd", "0.3"]
    r = invoke(app, args)
    assert r.exit_code == 1
    assert "decline: PRICE_ABOVE_CAP" in r.output and "38.59%" in r.output and "24.00%" in r.output
    d = json.loads(invoke(app, [*args, "--json"]).output)
    assert d["decision"] == "decline" and d["risk_price"]["answer"] == "decline: PRICE_ABOVE_CAP"
    assert d["cap_check"]["required_apr"] > d["cap_check"]["cap"] == 0.24
    assert 0 < d["risk_price"]["max_pd"] < 0.3


@pytest.mark.parametrize(("args", "field"), [
    (["--pd", "0.03", "--rate", "0.1"], "rate"),
    (["--pd", "0.03", "--score", "600"], "score"),
    (["--pd", "1.2"], "pd"),
    (["--pd", "0.03", "--lgd", "1.5"], "lgd"),
    (["--lgd", "0.5"], "lgd"),
])
def test_price_risk_options_bad_input(app, args, field):
    r = invoke(app, ["price", "--principal", "1000", "--term", "12", "--start", "2026-01-10", *args])
    assert r.exit_code == 2 and f"field '{field}'" in r.output


def test_an_error_is_one_line_however_long(app, tmp_path: Path):
    missing = tmp_path / ("a-rather-long-directory-name-" * 3) / "product.yaml"
    r = invoke(app, ["price", "--product", str(missing)])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: field 'product'") and lines[0].endswith("product.yaml")
    assert "Traceback" not in r.output


def test_irregular_first_period_from_the_cli(app):
    d = json.loads(invoke(app, ["price", "--principal", "10000", "--term", "12", "--rate", "0.12", "--start",
                                "2026-01-10", "--first-due", "2026-03-01", "--json"]).output)
    assert d["schedule"][0]["interest_fen"] == 16_438          # 50 days at 12 % / 365, not one month (10,000)
    assert "XIRR" in d["convention"]


def test_compliance_quarter_before_every_rule_is_an_error(app, tmp_path: Path):
    w = _world(tmp_path)
    r = invoke(app, ["compliance", "--loans", str(w / "disbursement.parquet"), "--quarter", "2010Q1"])
    assert r.exit_code == 2 and "field 'quarter'" in r.output and "2010Q1" in r.output


def test_compliance_reports_show_the_breach_breakdown(app, tmp_path: Path):
    import zipfile

    w = _world(tmp_path)
    loans = pl.read_parquet(w / "disbursement.parquet").with_columns(
        pl.lit(0.005).alias("guarantee_fee_rate"), pl.lit(20_000).alias("upfront_fee_fen"))
    loans.write_parquet(w / "fees.parquet")
    html_out, xlsx = tmp_path / "c.html", tmp_path / "c.xlsx"
    r = invoke(app, ["compliance", "--loans", str(w / "fees.parquet"), "--quarter", "2026Q1", "--as-of", "2026-01-28",
                     "--what-if-cap", "0.2", "--html", str(html_out), "--xlsx", str(xlsx)])
    assert r.exit_code == 0, r.output
    assert "Per-loan cap breaches: the" in r.output and "guarantee fee" in r.output   # the terminal lists them
    text = html_out.read_text(encoding="utf-8")
    assert "Guarantee fee → guarantor" in text and "Up-front fee → lender" in text and "Interest → lender" in text
    assert "Term (months)" in text and "term_months</th>" not in text
    assert "transition from 2025-11-01" in text and "binding from 2026-04-01" in text
    with zipfile.ZipFile(xlsx) as z:
        assert "Breach cost items" in z.read("xl/workbook.xml").decode()
    d = json.loads(invoke(app, ["compliance", "--loans", str(w / "fees.parquet"), "--quarter", "2026Q1",
                                "--as-of", "2026-01-28", "--json"]).output)
    items = d["breaches"][0]["items"]
    assert {i["payee"] for i in items} == {"lender", "guarantor"}
    assert sum(i["annualised"] for i in items) == pytest.approx(d["breaches"][0]["apr_irr"], abs=1e-9)


def test_daily_rate_from_an_annual_rate_and_its_disclosure(app):
    args = ["price", "--principal", "1000", "--term", "3", "--method", "daily_rate", "--rate", "0.1825", "--start",
            "2026-01-10", "--json"]
    d = json.loads(invoke(app, args).output)
    assert d["schedule"][0]["interest_fen"] == 1_550          # 100,000 fen × 0.05 % × 31 days
    assert "0.0500% per day" in d["disclosure"]["items"][0]["standard"]
    r = invoke(app, [*args[:7], "--pd", "0.02", *args[9:]])  # the risk price of a daily-rate product
    assert r.exit_code == 0, r.output
    assert "per day" in json.loads(r.output)["disclosure"]["items"][0]["standard"]
