"""One offer priced end to end: product file and options → schedule, cost, cap check, risk price, disclosure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fengkong.pricing.errors import PricingError
from fengkong.settings import business_today


@dataclass(frozen=True)
class Offer:
    """A priced offer: the product, its repayment schedule, annualised cost by every method, the cap check,
    the disclosure table (明示表), the risk-based quote (with ``pd``/``score``) and the early-repayment view.

    ``declined``: the risk-based price is above the cap; there is no schedule, cost or cap check then."""

    product: Any
    schedule: Any
    cost: Any
    cap: Any
    quote: Any = None
    score: float | None = None
    disclosure: Any = None
    early: dict[str, Any] | None = None

    @property
    def declined(self) -> bool:
        """True when the risk-based price cannot be offered under the cap (``quote.decision`` is not price)."""
        return self.quote is not None and self.quote.decision != "price"

    @property
    def allowed(self) -> bool:
        """The offer may be made: priced and within the caps."""
        return not self.declined and bool(self.cap.allowed)

    @property
    def apr_irr(self) -> float:
        """The annualised comprehensive cost by the IRR method (monthly IRR × 12)."""
        return float(self.cost.apr_irr)


def _iso(value: str | dt.date | None, name: str) -> str | None:
    """An ISO date string (checked) from a string or a date; None stays None."""
    if value is None or isinstance(value, dt.date):
        return value.isoformat() if value is not None else None
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise PricingError(name, f"not an ISO date (YYYY-MM-DD): {value!r}") from None
    return value


def load_product(path: Path) -> dict[str, Any]:
    """A YAML product file (charges with payees, memberships) as a mapping; a bad file is a PricingError."""
    import yaml

    from fengkong.safeyaml import YAMLInputError, load_path

    if not path.is_file():
        raise PricingError("product", f"file not found: {path}")
    try:
        base = load_path(path) or {}
    except YAMLInputError as exc:
        raise PricingError("product", str(exc)) from None
    except yaml.YAMLError as exc:
        raise PricingError("product", f"{path} is not valid YAML: {exc}") from None
    if not isinstance(base, dict):
        raise PricingError("product", "the product file must hold a mapping")
    return base


def price_offer(
    principal: float | None = None,
    term: int | None = None,
    *,
    method: str | None = None,
    rate: float | None = None,
    fee_rate: float | None = None,
    total_fee_rate: float | None = None,
    daily_rate: float | None = None,
    upfront_fee: float | None = None,
    start: str | dt.date | None = None,
    first_due: str | dt.date | None = None,
    product: Path | None = None,
    lender_type: str | None = None,
    channel: str | None = None,
    pd: float | None = None,
    score: float | None = None,
    lgd: float | None = None,
    prepay_after: int | None = None,
    config: Path | None = None,
    today: dt.date | None = None,
) -> Offer:
    """Price one offer as ``fengkong price`` does (amounts in yuan, rates annual decimals, money in fen).

    With ``pd`` or ``score`` the contract rate is the risk-based price; a price above the cap gives an
    :class:`Offer` with ``declined`` set. ``today``: the default start (the caller's business date)."""
    from fengkong.pricing import annualised_cost, build_schedule, check_offer, prepay, product_from_mapping
    from fengkong.pricing.config import load_config
    from fengkong.pricing.disclosure import disclosure_table
    from fengkong.pricing.riskprice import pd_from_score, priced_product, quote

    cfg = load_config(config)
    rp = cfg.section("risk_pricing")
    lender_type = lender_type or rp["lender_type"]
    channel = channel or rp["channel"]
    risk = pd is not None or score is not None
    if pd is not None and score is not None:
        raise PricingError("score", "give --pd or --score, not both")
    if risk and rate is not None:
        raise PricingError("rate", "the risk-based price sets the contract rate: drop --rate or --pd/--score")
    if risk and daily_rate is not None:
        raise PricingError(
            "daily_rate", "the risk-based price sets the rate: drop --daily-rate or --pd/--score"
        )
    if lgd is not None and not risk:
        raise PricingError("lgd", "only used by the risk-based price (--pd or --score)")
    base = load_product(product) if product is not None else {}
    m = method or base.get("method") or "equal_installment"
    if m == "fee_total" and total_fee_rate is None and fee_rate is not None:
        total_fee_rate, fee_rate = fee_rate * (term or int(base.get("term", 0) or 0)), None
    start = _iso(start, "start")
    first_due = _iso(first_due, "first_due")
    p = product_from_mapping(
        base,
        principal=principal,
        term=term,
        method=m,
        rate=rate,
        fee_rate=fee_rate,
        total_fee_rate=total_fee_rate,
        daily_rate=daily_rate,
        upfront_fee=upfront_fee,
        start=start or base.get("start") or (today or business_today()).isoformat(),
        first_due=first_due,
    )
    q = None
    if risk:
        pdv = pd if pd is not None else pd_from_score(score, cfg)  # type: ignore[arg-type]
        try:
            q = quote(pdv, product=p, lgd=lgd, lender_type=lender_type, channel=channel, config=cfg)
        except PricingError as exc:
            raise PricingError("start" if exc.field == "date" else exc.field, exc.reason) from None
        if q.decision != "price":
            return Offer(p, None, None, None, quote=q, score=score)
        p = priced_product(q, p)
    sched = build_schedule(p, cfg)
    cost = annualised_cost(sched)
    try:
        cap = check_offer(cost, p.start, lender_type, channel, cfg)
    except PricingError as exc:
        raise PricingError("start" if exc.field == "date" else exc.field, exc.reason) from None
    disclosure = disclosure_table(sched, cost, base.get("contingent") or ())
    early = None
    if prepay_after is not None:
        es = prepay(sched, prepay_after, config=cfg)
        early = {"after_period": prepay_after, "schedule": es, "cost": annualised_cost(es)}
    return Offer(p, sched, cost, cap, quote=q, score=score, disclosure=disclosure, early=early)
