"""Pricing functions for strategy expressions (`risk_price`, `risk_price_product`, `apr_irr`), registered via an
entry point.

Null means a business answer only: `risk_price` is null when the cap cannot cover the risk (decline
PRICE_ABOVE_CAP), `apr_irr` when the flows have no IRR. Bad input (a negative principal, a date before
every configured cap rule, an unknown method…) raises :class:`PricingError`, which the strategy engine turns
into a node error and so into the strategy's fallback.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from fengkong.pricing.irr import IRRError
from fengkong.settings import BUSINESS_TZ
from fengkong.strategy.functions import register_function


def _day(on: dt.date | dt.datetime) -> dt.date:
    """The business date (Asia/Shanghai) of a date or timestamp."""
    if isinstance(on, dt.datetime):
        return on.astimezone(BUSINESS_TZ).date() if on.tzinfo else on.date()
    return on


def risk_price_product_py(pd: float, principal_yuan: float, term: int, on: dt.date | dt.datetime, method: str,
                          fee_rate: float) -> float | None:
    """Contract rate for PD ``pd`` of a product with ``method`` and per-period ``fee_rate`` under the caps in
    force on ``on``; null when the cap cannot cover the risk. Bad input raises."""
    from fengkong.pricing.riskprice import risk_price_rate

    return risk_price_rate(pd, principal=principal_yuan, term=term, method=method, fee_rate=fee_rate,
                           start=_day(on).isoformat())


def risk_price_py(pd: float, principal_yuan: float, term: int, on: dt.date | dt.datetime) -> float | None:
    """Contract rate for PD ``pd`` (equal installments, no fee); null when the cap cannot cover the risk."""
    return risk_price_product_py(pd, principal_yuan, term, on, "equal_installment", 0.0)


def apr_irr_py(principal_yuan: float, term: int, method: str, rate: float, fee_rate: float) -> float | None:
    """Annualised comprehensive cost (periodic IRR × 12) of a simple offer; null when it has no IRR."""
    from fengkong.pricing import apr_irr

    try:
        return apr_irr(principal_yuan, term, method=method, rate=rate, fee_rate=fee_rate)
    except IRRError:
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
    doc="risk_price(pd, principal_yuan, term_months, date): risk-based contract rate of an equal-installment "
        "loan, clipped to the cap in force on that date; null = decline (PRICE_ABOVE_CAP); bad input raises.",
)
register_function(
    "risk_price_product", py=risk_price_product_py,
    pl=_rowwise(risk_price_product_py, ("pd", "principal", "term", "on", "method", "fee_rate")),
    args=("num", "num", "int", "datetime|date", "str", "num"), returns="float",
    doc="risk_price_product(pd, principal_yuan, term_months, date, method, fee_rate): risk-based contract rate "
        "for a product with that repayment method and per-period fee on the original principal (fee_total: "
        "total = fee_rate × term), clipped to the cap; null = decline (PRICE_ABOVE_CAP); bad input raises.",
)
register_function(
    "apr_irr", py=apr_irr_py, pl=_rowwise(apr_irr_py, ("principal", "term", "method", "rate", "fee_rate")),
    args=("num", "int", "str", "num", "num"), returns="float",
    doc="apr_irr(principal_yuan, term_months, method, annual_rate, fee_rate): comprehensive cost, IRR × 12; "
        "null when the flows have no IRR; bad input raises.",
)
