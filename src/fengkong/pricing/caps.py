"""Applicable rate caps (effective-dated, by lender type and channel) and the per-loan cap check."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from fengkong.pricing.config import Config, load_config
from fengkong.pricing.cost import CostResult
from fengkong.pricing.errors import PricingError

LENDER_TYPES = ("bank", "consumer_finance", "micro_loan", "trust", "auto_finance", "private")
CHANNELS = ("own", "zhudai")


@dataclass(frozen=True)
class Cap:
    """The strictest per-loan cap in force, plus any portfolio-average rule that also applies."""

    limit: float | None
    rule_id: str | None
    status: str | None
    description: str | None
    portfolio_rules: list[dict[str, Any]] = field(default_factory=list)


def _check(value: str, field_name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise PricingError(field_name, f"{value!r} is not one of {', '.join(choices)}")
    return value


def compare_apr(apr: float, config: Config | None = None) -> float:
    """The APR as compared with caps: rounded half-up to ``cap_check.compare_decimals`` (default 4)."""
    from decimal import ROUND_HALF_UP, Decimal

    nd = int(((config or load_config()).data.get("cap_check") or {}).get("compare_decimals", 4))
    return float(Decimal(repr(apr)).quantize(Decimal(1).scaleb(-nd), rounding=ROUND_HALF_UP))


def pricing_cap(on: dt.date, lender_type: str, channel: str, config: Config | None = None) -> Cap:
    """The strictest per-loan cap for a loan disbursed on ``on`` (raises if ``on`` precedes every rule)."""
    cfg = config or load_config()
    _check(lender_type, "lender_type", LENDER_TYPES)
    _check(channel, "channel", CHANNELS)
    earliest = cfg.earliest_cap_date()
    if on < earliest:
        raise PricingError("date", f"{on} is before every configured cap rule (earliest {earliest})")
    rows = cfg.caps_on(on, lender_type, channel)
    per_loan = [r for r in rows if r.get("metric") == "per_loan" and not r["in_transition"]]
    portfolio = [r for r in rows if r.get("metric") != "per_loan"]
    if not per_loan:
        return Cap(None, None, None, None, portfolio)
    best = min(per_loan, key=lambda r: r["limit"])
    return Cap(float(best["limit"]), best["id"], best.get("status"), best.get("description"), portfolio)


@dataclass(frozen=True)
class CapCheck:
    """Outcome of the per-loan check with the full cost breakdown as evidence."""

    allowed: bool
    apr_irr: float
    cap: float | None
    rule_id: str | None
    status: str | None
    headroom: float | None
    reason: str
    evidence: list[dict[str, Any]]
    portfolio_rules: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_offer(cost: CostResult, on: dt.date, lender_type: str, channel: str,
                config: Config | None = None) -> CapCheck:
    """Block an offer whose IRR-method APR exceeds the applicable per-loan cap."""
    cap = pricing_cap(on, lender_type, channel, config)
    evidence = [{"item": i.name, "kind": i.kind, "payee": i.payee, "amount_fen": i.total_fen,
                 "annualised_contribution": round(i.annualised_contribution, 6)} for i in cost.items]
    ports = [f"{r['id']} ({r.get('metric')} <= {r.get('limit')}, {r.get('status')})" for r in cap.portfolio_rules]
    if cap.limit is None:
        return CapCheck(True, cost.apr_irr, None, None, None, None, "NO_PER_LOAN_CAP", evidence, ports)
    ok = compare_apr(cost.apr_irr, config) <= cap.limit
    return CapCheck(ok, cost.apr_irr, cap.limit, cap.rule_id, cap.status, cap.limit - cost.apr_irr,
                    "WITHIN_CAP" if ok else "PRICE_ABOVE_CAP", evidence, ports)
