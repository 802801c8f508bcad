"""Risk-based pricing: cost stack → required APR → contract rate for the product's fee structure → cap."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any

from fengkong.pricing.caps import compare_apr, pricing_cap
from fengkong.pricing.config import Config, load_config
from fengkong.pricing.cost import annualised_cost
from fengkong.pricing.errors import PricingError
from fengkong.pricing.schedule import Product, build_schedule


def pd_from_score(score: float, config: Config | None = None) -> float:
    """PD from a scorecard score: odds(good:bad) = base_odds · 2^((score − base_score)/pdo), PD = 1/(1+odds)."""
    p = (config or load_config()).section("risk_pricing")["score_to_pd"]
    if score is None or (isinstance(score, float) and math.isnan(score)):
        raise PricingError("score", "missing")
    odds = p["base_odds"] * 2 ** ((float(score) - p["base_score"]) / p["pdo"])
    return 1.0 / (1.0 + odds)


@dataclass(frozen=True)
class Quote:
    """A risk-based price or a decline, with every number behind it."""

    decision: str                 # "price" or "decline"
    reason: str                   # "" or "PRICE_ABOVE_CAP"
    contract_rate: float | None   # annual contract rate to put in the contract
    apr_irr: float | None         # comprehensive cost of the priced product (IRR × 12)
    required_apr: float
    cap: float | None
    cap_rule: str | None
    components: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def contract_rate_for_apr(product: Product, target_apr: float, *, hi: float = 3.0) -> float:
    """Contract rate that makes the product's IRR-APR equal ``target_apr`` (0 if the fees alone exceed it)."""
    def apr(r: float) -> float:
        return annualised_cost(build_schedule(replace(product, rate=Decimal(repr(r)))), breakdown=False).apr_irr

    if apr(0.0) >= target_apr:
        return 0.0
    lo, hi_ = 0.0, hi
    if apr(hi_) < target_apr:
        raise PricingError("target_apr", f"{target_apr:.4%} is not reachable below a contract rate of {hi:.0%}")
    for _ in range(60):
        mid = (lo + hi_) / 2
        if apr(mid) < target_apr:
            lo = mid
        else:
            hi_ = mid
        if hi_ - lo < 1e-9:
            break
    return round(hi_, 6)


def quote(pd: float, *, product: Product, lgd: float | None = None, funding_cost: float | None = None,
          operating_cost: float | None = None, target_margin: float | None = None,
          acquisition_cost_rate: float | None = None, lender_type: str | None = None,
          channel: str | None = None, config: Config | None = None) -> Quote:
    """Price ``product`` (its ``rate`` is ignored) for a borrower with term PD ``pd``."""
    cfg = config or load_config()
    rp = cfg.section("risk_pricing")
    if pd is None or not 0.0 <= float(pd) < 1.0:
        raise PricingError("pd", f"must be in [0, 1), got {pd!r}")
    lgd = rp["lgd"] if lgd is None else lgd
    if not 0.0 <= lgd <= 1.0:
        raise PricingError("lgd", f"must be in [0, 1], got {lgd!r}")
    base = build_schedule(replace(product, rate=Decimal(0)))
    principal_years = sum(p.outstanding_before_fen for p in base.periods) / product.principal_fen / 12
    el = float(pd) * lgd * rp["ead_factor"] / principal_years
    acq = (rp["acquisition_cost_rate"] if acquisition_cost_rate is None else acquisition_cost_rate) / principal_years
    comps = {
        "funding_cost": rp["funding_cost"] if funding_cost is None else funding_cost,
        "acquisition_cost": acq,
        "expected_loss": el,
        "operating_cost": rp["operating_cost"] if operating_cost is None else operating_cost,
        "target_margin": rp["target_margin"] if target_margin is None else target_margin,
    }
    required = float(sum(comps.values()))
    cap = pricing_cap(product.start, lender_type or rp["lender_type"], channel or rp["channel"], cfg)
    if cap.limit is not None and required > cap.limit + 1e-12:
        return Quote("decline", "PRICE_ABOVE_CAP", None, None, required, cap.limit, cap.rule_id, comps)
    rate = contract_rate_for_apr(product, required)
    apr = annualised_cost(build_schedule(replace(product, rate=Decimal(repr(rate)))), breakdown=False).apr_irr
    if cap.limit is not None and compare_apr(apr, cfg) > cap.limit:
        return Quote("decline", "PRICE_ABOVE_CAP", None, apr, required, cap.limit, cap.rule_id, comps)
    return Quote("price", "", rate, apr, required, cap.limit, cap.rule_id, comps)


def _product(principal: float, term: int, method: str, fee_rate: float, upfront_fee: float,
             start: dt.date | str | None) -> Product:
    from fengkong.pricing.schedule import product_from_mapping

    return product_from_mapping({"principal": principal, "term": term, "method": method, "fee_rate": fee_rate,
                                 "upfront_fee": upfront_fee, "start": start or dt.date.today()})


def risk_price(pd: float, principal: float = 10000.0, term: int = 12, method: str = "equal_installment",
               fee_rate: float = 0.0, upfront_fee: float = 0.0, lgd: float | None = None,
               lender_type: str = "consumer_finance", channel: str = "own",
               start: str | None = None) -> float | str:
    """Strategy function: the annual contract rate (decimal) for term-PD ``pd``, or ``"decline: PRICE_ABOVE_CAP"``.

    ``principal``/``upfront_fee`` in yuan, ``term`` in months, ``fee_rate`` per period on the original
    principal; cost-stack parameters from the ``risk_pricing`` configuration section.
    """
    q = quote(pd, product=_product(principal, term, method, fee_rate, upfront_fee, start), lgd=lgd,
              lender_type=lender_type, channel=channel)
    return q.contract_rate if q.decision == "price" else f"decline: {q.reason}"  # type: ignore[return-value]


def risk_price_rate(pd: float, principal: float = 10000.0, term: int = 12, method: str = "equal_installment",
                    fee_rate: float = 0.0, upfront_fee: float = 0.0, lgd: float | None = None,
                    lender_type: str = "consumer_finance", channel: str = "own",
                    start: str | None = None) -> float | None:
    """Strategy function: the contract rate (decimal), or ``None`` when the cap cannot cover the risk."""
    r = risk_price(pd, principal, term, method, fee_rate, upfront_fee, lgd, lender_type, channel, start)
    return None if isinstance(r, str) else r
