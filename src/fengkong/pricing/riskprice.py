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
from fengkong.pricing.schedule import Product, build_schedule, to_decimal
from fengkong.settings import business_today


def pd_from_score(score: float, config: Config | None = None) -> float:
    """PD from a scorecard score: odds(good:bad) = base_odds · 2^((score − base_score)/pdo), PD = 1/(1+odds)."""
    p = (config or load_config()).section("risk_pricing")["score_to_pd"]
    if score is None or (isinstance(score, float) and math.isnan(score)):
        raise PricingError("score", "missing")
    odds = p["base_odds"] * 2 ** ((float(score) - p["base_score"]) / p["pdo"])
    return 1.0 / (1.0 + odds)


def _unit(v: object, field: str, what: str, *, closed: bool) -> float:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PricingError(field, f"must be {what}, got {v!r}") from None
    if isinstance(v, bool) or math.isnan(x) or x < 0 or x > 1 or (x == 1 and not closed):
        raise PricingError(field, f"must be {what}, got {v!r}")
    return x


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
    pd: float | None = None
    lgd: float | None = None
    lender_type: str | None = None
    channel: str | None = None
    max_pd: float | None = None   # the largest PD whose required cost the cap still covers (None: no cap)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _priced(product: Product, rate: float) -> Product:
    """``product`` at contract rate ``rate`` (a daily-rate product's daily rate follows: rate / day basis)."""
    return replace(product, rate=Decimal(repr(rate)), daily_rate=None)


def contract_rate_for_apr(product: Product, target_apr: float, *, hi: float = 3.0,
                          config: Config | None = None) -> float:
    """Contract rate that makes the product's IRR-APR equal ``target_apr`` (0 if the fees alone exceed it)."""
    def apr(r: float) -> float:
        return annualised_cost(build_schedule(_priced(product, r), config), breakdown=False).apr_irr

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
    """Price ``product`` (its ``rate`` and ``daily_rate`` are replaced) for a borrower with term PD ``pd``."""
    cfg = config or load_config()
    rp = cfg.section("risk_pricing")
    pd = _unit(pd, "pd", "a probability in [0, 1)", closed=False)
    lgd = _unit(rp["lgd"] if lgd is None else lgd, "lgd", "in [0, 1]", closed=True)
    lender_type = lender_type or rp["lender_type"]
    channel = channel or rp["channel"]
    base = build_schedule(_priced(product, 0.0), cfg)
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
    cap = pricing_cap(product.start, lender_type, channel, cfg)
    per_pd = lgd * rp["ead_factor"] / principal_years   # expected loss per unit of PD
    max_pd = None
    if cap.limit is not None:
        max_pd = min(1.0, max(0.0, (cap.limit - (required - el)) / per_pd)) if per_pd > 0 else 1.0
    extra = {"pd": float(pd), "lgd": float(lgd), "lender_type": lender_type, "channel": channel, "max_pd": max_pd}
    if cap.limit is not None and required > cap.limit + 1e-12:
        return Quote("decline", "PRICE_ABOVE_CAP", None, None, required, cap.limit, cap.rule_id, comps, **extra)
    rate = contract_rate_for_apr(product, required, config=cfg)
    apr = annualised_cost(build_schedule(_priced(product, rate), cfg), breakdown=False).apr_irr
    if cap.limit is not None and compare_apr(apr, cfg) > cap.limit:
        return Quote("decline", "PRICE_ABOVE_CAP", None, apr, required, cap.limit, cap.rule_id, comps, **extra)
    return Quote("price", "", rate, apr, required, cap.limit, cap.rule_id, comps, **extra)


def priced_product(q: Quote, product: Product) -> Product:
    """The product at the quoted contract rate (only for a ``price`` decision)."""
    if q.contract_rate is None:
        raise PricingError("pd", f"no price: {q.decision} {q.reason}")
    return _priced(product, q.contract_rate)


def simple_product(principal: float, term: int, method: str = "equal_installment", fee_rate: float = 0.0,
                   upfront_fee: float = 0.0, start: dt.date | str | None = None) -> Product:
    """A product from the strategy-function arguments (``fee_total``: the total fee is fee_rate × term)."""
    from fengkong.pricing.schedule import product_from_mapping

    total = method == "fee_total"
    total_fee = to_decimal(fee_rate, "fee_rate") * _whole(term) if total else 0
    return product_from_mapping({"principal": principal, "term": term, "method": method,
                                 "fee_rate": 0.0 if total else fee_rate, "total_fee_rate": total_fee,
                                 "upfront_fee": upfront_fee, "start": start or business_today()})


def _whole(term: object) -> int:
    try:
        return int(str(term))
    except ValueError:
        raise PricingError("term", f"not a whole number: {term!r}") from None


def risk_price(pd: float, principal: float = 10000.0, term: int = 12, method: str = "equal_installment",
               fee_rate: float = 0.0, upfront_fee: float = 0.0, lgd: float | None = None,
               lender_type: str | None = None, channel: str | None = None,
               start: str | None = None, config: Config | None = None) -> float | str:
    """Strategy function: the annual contract rate (decimal) for term-PD ``pd``, or ``"decline: PRICE_ABOVE_CAP"``.

    ``principal``/``upfront_fee`` in yuan, ``term`` in months, ``fee_rate`` per period on the original
    principal; lender type, channel and the cost stack default to the ``risk_pricing`` configuration.
    Bad input (a negative principal, a date before every cap rule…) raises :class:`PricingError`.
    """
    q = quote(pd, product=simple_product(principal, term, method, fee_rate, upfront_fee, start), lgd=lgd,
              lender_type=lender_type, channel=channel, config=config)
    return q.contract_rate if q.decision == "price" else f"decline: {q.reason}"  # type: ignore[return-value]


def risk_price_rate(pd: float, principal: float = 10000.0, term: int = 12, method: str = "equal_installment",
                    fee_rate: float = 0.0, upfront_fee: float = 0.0, lgd: float | None = None,
                    lender_type: str | None = None, channel: str | None = None,
                    start: str | None = None, config: Config | None = None) -> float | None:
    """Strategy function: the contract rate (decimal), or ``None`` when the cap cannot cover the risk."""
    r = risk_price(pd, principal, term, method, fee_rate, upfront_fee, lgd, lender_type, channel, start, config)
    return None if isinstance(r, str) else r
