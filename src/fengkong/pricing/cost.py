"""The annualised comprehensive financing cost (综合融资成本) of a schedule, by each labelled method,
with the per-item breakdown (amount, payee, annualised contribution) that feeds the disclosure table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from fengkong.pricing.irr import npv, solve_irr
from fengkong.pricing.schedule import Schedule

PERIODS_PER_YEAR = 12
XIRR_DAY_COUNT = "Act/365F"   # the stated XIRR convention (an IRR day count, not a contract's interest basis)
XIRR_YEAR_DAYS = 365


@dataclass(frozen=True)
class CostItem:
    """One interest/fee item of the cost ledger."""

    name: str
    kind: str
    payee: str
    timing: str
    total_fen: int
    annualised_contribution: float   # share of apr_irr, allocated by present value at the IRR
    standalone_apr: float            # apr_irr of the loan if this were the only cost item


@dataclass(frozen=True)
class CostResult:
    """Every annualised figure of one schedule, each labelled with its method."""

    apr_irr: float            # headline: periodic IRR × periods per year (PBOC compound method)
    periodic_irr: float
    periods_per_year: int
    ear: float                # effective annual rate (1 + periodic)^ppy − 1 — not the compliance figure
    apr_simple: float         # simple method: total cost ÷ Σ(occupied principal × period years); must be labelled
    apr_xirr_monthly: float   # XIRR on actual dates (Act/365F), as monthly-equivalent × 12
    nominal_flat_rate: float  # diagnostic only, display-forbidden: cost ÷ principal ÷ years
    total_cost_fen: int
    received_fen: int
    convention: str
    items: list[CostItem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["items"] = [asdict(i) for i in self.items]
        return d


def _years(schedule: Schedule) -> list[float]:
    d0 = schedule.product.start
    return [(d - d0).days / XIRR_YEAR_DAYS for d in schedule.dates()]


def _irr_for(schedule: Schedule, flows: list[int], dated: bool) -> tuple[float, float]:
    """(periodic rate, apr) for the convention in use."""
    if dated:
        ear = solve_irr(flows, _years(schedule))
        monthly = (1.0 + ear) ** (1.0 / 12.0) - 1.0
        return monthly, monthly * 12
    r = solve_irr(flows)
    return r, r * PERIODS_PER_YEAR


def uses_dates(schedule: Schedule) -> bool:
    """Daily-rate products and irregular periods use XIRR on actual dates (monthly-equivalent × 12)."""
    if schedule.product.method == "daily_rate" or schedule.product.irregular_first:
        return True
    return any(not 28 <= p.days <= 31 for p in schedule.periods)


def annualised_cost(schedule: Schedule, *, breakdown: bool = True) -> CostResult:
    """All annualised figures of ``schedule``; the headline ``apr_irr`` is the compliance figure."""
    flows = schedule.flows_fen()
    dated = uses_dates(schedule)
    periodic, apr = _irr_for(schedule, flows, dated)
    ear = (1.0 + periodic) ** 12 - 1.0
    years = _years(schedule)
    ear_x = solve_irr(flows, years)
    apr_x = ((1.0 + ear_x) ** (1.0 / 12.0) - 1.0) * 12
    P = schedule.product.principal_fen
    share = Decimal(schedule.received_fen) / Decimal(P)
    if dated:
        lengths = [Decimal(p.days) / Decimal(schedule.day_basis) for p in schedule.periods]
    else:
        lengths = [Decimal(1) / Decimal(PERIODS_PER_YEAR)] * len(schedule.periods)
    occupied = sum(Decimal(p.outstanding_before_fen) * share * ln for p, ln in zip(schedule.periods, lengths,
                                                                                     strict=True))
    cost = schedule.total_cost_fen
    simple = float(Decimal(cost) / occupied) if occupied > 0 else float("nan")
    term_years = years[-1] if dated else len(schedule.periods) / PERIODS_PER_YEAR
    flat = cost / P / term_years
    convention = (
        f"XIRR on actual dates ({XIRR_DAY_COUNT}), reported as monthly-equivalent rate × 12" if dated
        else "periodic IRR × 12 periods per year (monthly installments, PBOC 2021 No. 3 compound method)"
    )
    items: list[CostItem] = []
    if breakdown:
        items = _breakdown(schedule, periodic, apr, dated, years)
    return CostResult(apr_irr=apr, periodic_irr=periodic, periods_per_year=PERIODS_PER_YEAR, ear=ear,
                      apr_simple=simple, apr_xirr_monthly=apr_x, nominal_flat_rate=flat, total_cost_fen=cost,
                      received_fen=schedule.received_fen, convention=convention, items=items)


def _breakdown(schedule: Schedule, periodic: float, apr: float, dated: bool, years: list[float]) -> list[CostItem]:
    times = years if dated else list(range(len(schedule.periods) + 1))
    rate = (1 + periodic) ** 12 - 1 if dated else periodic
    pvs = {}
    for name in schedule.items:
        series = schedule.item_series(name)
        pvs[name] = npv(rate, series, times)
    total_pv = sum(pvs.values())
    principal_only = [-schedule.product.principal_fen] + [p.principal_fen for p in schedule.periods]
    out = []
    for name, meta in schedule.items.items():
        series = schedule.item_series(name)
        total = sum(series)
        flows = [principal_only[0] + series[0]] + [a + b for a, b in zip(principal_only[1:], series[1:],
                                                                          strict=True)]
        standalone = _irr_for(schedule, flows, dated)[1] if total > 0 else 0.0
        contrib = apr * pvs[name] / total_pv if total_pv else 0.0
        out.append(CostItem(name=name, kind=meta.kind, payee=meta.payee, timing=meta.timing, total_fen=total,
                            annualised_contribution=contrib, standalone_apr=standalone))
    return out
