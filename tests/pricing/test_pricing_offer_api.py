"""``fk.price`` / ``price_offer`` and the file jobs are what ``fengkong price|compliance|subsidy`` print."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

import fengkong as fk
from fengkong.pricing.cli import register
from fengkong.pricing.errors import PricingError
from fengkong.pricing.file_jobs import ledger_claims


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


def test_fk_price_is_the_price_command(app):
    args = [
        "--principal",
        "10000",
        "--term",
        "12",
        "--fee-rate",
        "0.006",
        "--method",
        "fee_total",
        "--start",
        "2026-01-10",
        "--prepay-after",
        "3",
    ]
    r = CliRunner().invoke(app, ["price", *args, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    o = fk.price(10_000, 12, fee_rate=0.006, method="fee_total", start="2026-01-10", prepay_after=3)
    assert o.apr_irr == d["apr_irr"] and o.cost.total_cost_fen == d["total_cost_fen"]
    assert o.disclosure == d["disclosure"]
    assert o.early["cost"].apr_irr == d["early_repayment"]["apr_irr"]
    assert o.allowed and not o.declined


def test_fk_price_risk_based_decline_and_errors():
    o = fk.price(10_000, 12, pd=0.6, start="2026-03-01")
    assert o.declined and not o.allowed and o.schedule is None and o.quote.reason == "PRICE_ABOVE_CAP"
    priced = fk.price(10_000, 12, pd=0.02, start="2026-03-01")
    assert not priced.declined and priced.quote.contract_rate > 0
    with pytest.raises(PricingError, match="field 'rate'"):
        fk.price(10_000, 12, rate=0.1, pd=0.02)
    with pytest.raises(PricingError, match="field 'start': not an ISO date"):
        fk.price(10_000, 12, rate=0.1, start="1.3.2026")
    with pytest.raises(PricingError, match="field 'product': file not found"):
        fk.price(product="/nonexistent/p.yaml")


def test_ledger_claims_of_a_missing_ledger_names_the_field(tmp_path):
    with pytest.raises(PricingError, match="field 'ledger': file not found"):
        ledger_claims(tmp_path / "none.parquet")
