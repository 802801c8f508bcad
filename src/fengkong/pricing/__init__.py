"""Loan pricing: repayment schedules, the annualised comprehensive financing cost (IRR method), rate
caps and compliance, risk-based pricing and the consumer-loan interest subsidy (DOMAIN.md §1–§2)."""

from __future__ import annotations

from fengkong.pricing.caps import CapCheck, check_offer, pricing_cap
from fengkong.pricing.config import load_config
from fengkong.pricing.cost import CostResult, annualised_cost
from fengkong.pricing.errors import PricingError
from fengkong.pricing.irr import IRRError, solve_irr
from fengkong.pricing.riskprice import pd_from_score, quote, risk_price, risk_price_rate
from fengkong.pricing.schedule import Charge, Product, Schedule, build_schedule, prepay, product_from_mapping
from fengkong.settings import business_today

__all__ = [
    "CapCheck", "Charge", "CostResult", "IRRError", "PricingError", "Product", "Schedule", "annualised_cost",
    "apr_irr", "build_schedule", "check_offer", "daily_to_annual", "load_config", "pd_from_score", "prepay",
    "pricing_cap", "product_from_mapping", "quote", "risk_price", "risk_price_rate", "solve_irr",
]


def apr_irr(principal: float, term: int, method: str = "equal_installment", rate: float = 0.0,
            fee_rate: float = 0.0, upfront_fee: float = 0.0, start: str | None = None) -> float:
    """Strategy function: annualised comprehensive cost (periodic IRR × 12, annual decimal) of a simple offer.

    ``principal`` and ``upfront_fee`` in yuan, ``term`` in months, ``rate`` the annual contract rate,
    ``fee_rate`` the per-period fee on the original principal (``fee_total``: the total is fee_rate × term).
    """
    p = product_from_mapping({"principal": principal, "term": term, "method": method, "rate": rate,
                              "fee_rate": fee_rate if method != "fee_total" else 0,
                              "total_fee_rate": float(fee_rate) * int(term) if method == "fee_total" else 0,
                              "upfront_fee": upfront_fee, "start": start or business_today()})
    return annualised_cost(build_schedule(p), breakdown=False).apr_irr


def daily_to_annual(daily_rate: float, basis: int | None = None) -> float:
    """Annual rate shown for a daily-rate product: daily × basis (default ``money.day_count_basis``, 365;
    360 only if the contract says so)."""
    basis = load_config().day_count_basis() if basis is None else basis
    if basis not in (360, 365):
        raise PricingError("basis", "must be 365 or 360")
    return float(daily_rate) * basis
