"""Pricing functions for strategy expressions (`risk_price`, `apr_irr`), registered via an entry point."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from fengkong.pricing.errors import PricingError
from fengkong.strategy.functions import register_function


def _day(on: dt.date | dt.datetime) -> dt.date:
    return on.date() if isinstance(on, dt.datetime) else on


def risk_price_py(pd: float, principal_yuan: float, term: int, on: dt.date | dt.datetime) -> float | None:
    """Contract rate for PD ``pd`` under the caps in force on ``on``; null when the cap cannot cover the risk."""
    from fengkong.pricing.riskprice import risk_price_rate

    try:
        return risk_price_rate(float(pd), principal=float(principal_yuan), term=int(term),
                               start=_day(on).isoformat())
    except PricingError:
        return None


def apr_irr_py(principal_yuan: float, term: int, method: str, rate: float, fee_rate: float) -> float | None:
    """Annualised comprehensive cost (periodic IRR × 12) of a simple offer; null when it has no IRR."""
    from fengkong.pricing import apr_irr

    try:
        return apr_irr(float(principal_yuan), int(term), method=method, rate=float(rate), fee_rate=float(fee_rate))
    except PricingError:
        return None


def _rowwise(fn: Any, names: tuple[str, ...]):
    """Polars form of a scalar function: evaluated per row of a struct (a backtest convenience)."""

    def build(*exprs: pl.Expr) -> pl.Expr:
        return pl.struct([e.alias(n) for e, n in zip(exprs, names, strict=True)]).map_elements(
            lambda r: None if any(v is None for v in r.values()) else fn(*r.values()),
            return_dtype=pl.Float64,
        )

    return build


register_function(
    "risk_price", py=risk_price_py, pl=_rowwise(risk_price_py, ("pd", "principal", "term", "on")),
    args=("num", "num", "int", "datetime|date"), returns="float",
    doc="risk_price(pd, principal_yuan, term_months, date): risk-based contract rate clipped to the cap "
        "in force on that date; null = decline (PRICE_ABOVE_CAP).",
)
register_function(
    "apr_irr", py=apr_irr_py, pl=_rowwise(apr_irr_py, ("principal", "term", "method", "rate", "fee_rate")),
    args=("num", "int", "str", "num", "num"), returns="float",
    doc="apr_irr(principal_yuan, term_months, method, annual_rate, fee_rate): comprehensive cost, IRR × 12.",
)
