"""Repayment schedules in integer fen: the six methods, additional charges with payees, early repayment.

Rounding (documented in docs/pricing.md): every computed amount is rounded to the fen with the mode of
``money.rounding`` (default half-up); equal principal parts are truncated to the fen and the last
installment absorbs the remainder; a total fee spread over the periods is truncated per period and the
last period absorbs the remainder. An irregular first period (``first_due`` not one calendar month after
the start) earns interest by actual days at annual rate / ``money.day_count_basis``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from fengkong.pricing.errors import PricingError
from fengkong.settings import business_today

if TYPE_CHECKING:
    from fengkong.pricing.config import Config

METHODS: tuple[str, ...] = (
    "equal_installment", "equal_principal", "interest_first", "fee_per_period", "fee_total", "daily_rate",
)
PAYEES: tuple[str, ...] = ("lender", "guarantor", "insurer", "platform", "membership")
TIMINGS: tuple[str, ...] = ("upfront", "per_period", "end")
BASES: tuple[str, ...] = ("original_principal", "outstanding_principal", "fixed", "total_spread")
KINDS: tuple[str, ...] = (
    "interest", "installment_fee", "service_fee", "guarantee_fee", "insurance", "membership", "prepayment_fee",
)


def round_fen(x: Decimal, mode: str = ROUND_HALF_UP) -> int:
    """Round a Decimal amount of fen to an integer fen (``mode``: a ``decimal`` rounding constant)."""
    return int(x.quantize(Decimal(1), rounding=mode))


def to_decimal(value: Any, field_name: str, *, minimum: float = 0.0, maximum: float | None = None) -> Decimal:
    """A rate or amount as Decimal (via ``str`` so 0.006 stays 0.006), range-checked, naming the field."""
    if isinstance(value, bool):
        raise PricingError(field_name, f"not a number: {value!r}")
    try:
        d = Decimal(str(value))
    except Exception:
        raise PricingError(field_name, f"not a number: {value!r}") from None
    if not d.is_finite():
        raise PricingError(field_name, f"not a finite number: {value!r}")
    if d < Decimal(str(minimum)):
        raise PricingError(field_name, f"{value} is below the minimum {minimum:g}")
    if maximum is not None and d > Decimal(str(maximum)):
        raise PricingError(field_name, f"{value} is above the maximum {maximum:g}")
    return d


def yuan_to_fen(value: Any, field_name: str) -> int:
    """Yuan (up to 2 decimals) to integer fen."""
    d = to_decimal(value, field_name)
    fen = d * 100
    if fen != fen.to_integral_value():
        raise PricingError(field_name, f"{value} has more than two decimals (fen)")
    return int(fen)


def add_months(d: dt.date, months: int, anchor_day: int | None = None) -> dt.date:
    """``d`` plus ``months`` calendar months, day clamped to the month end (anchor day kept)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(anchor_day or d.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


@dataclass(frozen=True)
class Charge:
    """One additional charge: an amount rule, a timing and a payee."""

    name: str
    kind: str = "service_fee"
    payee: str = "lender"
    timing: str = "per_period"
    basis: str = "original_principal"
    rate: Decimal | None = None       # fraction of the basis (per period for per_period timing)
    amount_fen: int | None = None     # fixed amount (per period for per_period timing)

    def __post_init__(self) -> None:
        f = f"charges.{self.name}"
        if self.kind not in KINDS:
            raise PricingError(f"{f}.kind", f"{self.kind!r} is not one of {', '.join(KINDS)}")
        if self.payee not in PAYEES:
            raise PricingError(f"{f}.payee", f"{self.payee!r} is not one of {', '.join(PAYEES)}")
        if self.timing not in TIMINGS:
            raise PricingError(f"{f}.timing", f"{self.timing!r} is not one of {', '.join(TIMINGS)}")
        if self.basis not in BASES:
            raise PricingError(f"{f}.basis", f"{self.basis!r} is not one of {', '.join(BASES)}")
        if (self.rate is None) == (self.amount_fen is None):
            raise PricingError(f, "give exactly one of rate or amount")
        if self.amount_fen is not None and self.amount_fen < 0:
            raise PricingError(f"{f}.amount", "must not be negative")
        if self.rate is not None and self.rate < 0:
            raise PricingError(f"{f}.rate", "must not be negative")
        if self.timing != "per_period" and self.basis in ("outstanding_principal", "total_spread"):
            raise PricingError(f"{f}.basis", f"basis {self.basis!r} needs timing per_period")

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Charge:
        """Build from a YAML mapping: name, kind, payee, timing, basis, and rate or amount (yuan)."""
        name = str(d.get("name") or "")
        if not name:
            raise PricingError("charges.name", "every charge needs a name")
        known = {"name", "kind", "payee", "timing", "basis", "rate", "amount"}
        extra = sorted(set(d) - known)
        if extra:
            raise PricingError(f"charges.{name}.{extra[0]}", "unknown charge field")
        rate = to_decimal(d["rate"], f"charges.{name}.rate") if d.get("rate") is not None else None
        amount = yuan_to_fen(d["amount"], f"charges.{name}.amount") if d.get("amount") is not None else None
        basis = d.get("basis") or ("fixed" if amount is not None else "original_principal")
        return Charge(name=name, kind=d.get("kind", "service_fee"), payee=d.get("payee", "lender"),
                      timing=d.get("timing", "per_period"), basis=basis, rate=rate, amount_fen=amount)


@dataclass(frozen=True)
class Product:
    """A loan offer: principal, term, method, contract rate and every charge."""

    principal_fen: int
    term: int
    method: str = "equal_installment"
    rate: Decimal = Decimal(0)             # annual contract interest rate
    fee_rate: Decimal = Decimal(0)         # fee_per_period: per-period fee on the original principal
    total_fee_rate: Decimal = Decimal(0)   # fee_total: total fee as a fraction of principal, spread evenly
    daily_rate: Decimal | None = None      # daily_rate: interest per day (default rate / day basis)
    upfront_fee_fen: int = 0               # deducted at disbursement, payee lender
    charges: tuple[Charge, ...] = ()
    start: dt.date = dt.date(2026, 1, 1)
    first_due: dt.date | None = None
    day_basis: int | None = None           # days per year behind a daily rate; None: money.day_count_basis
    name: str = "offer"

    def __post_init__(self) -> None:
        if isinstance(self.principal_fen, bool) or not isinstance(self.principal_fen, int) or self.principal_fen <= 0:
            raise PricingError("principal", f"must be a positive amount, got {self.principal_fen!r} fen")
        if isinstance(self.term, bool) or not isinstance(self.term, int) or self.term < 1:
            raise PricingError("term", f"must be a whole number of periods >= 1, got {self.term!r}")
        if self.term > 360:
            raise PricingError("term", f"{self.term} periods is above the maximum 360")
        if self.method not in METHODS:
            raise PricingError("method", f"unknown method {self.method!r}; expected one of {', '.join(METHODS)}")
        for name in ("rate", "fee_rate", "total_fee_rate"):
            v = getattr(self, name)
            if not isinstance(v, Decimal):
                object.__setattr__(self, name, to_decimal(v, name, maximum=10))
            elif v < 0:
                raise PricingError(name, "must not be negative")
        if self.daily_rate is not None and not isinstance(self.daily_rate, Decimal):
            object.__setattr__(self, "daily_rate", to_decimal(self.daily_rate, "daily_rate", maximum=1))
        if self.upfront_fee_fen < 0:
            raise PricingError("upfront_fee", "must not be negative")
        if self.day_basis is not None and self.day_basis not in (360, 365):
            raise PricingError("day_basis", "must be 365 or 360")
        if self.first_due is not None and self.first_due <= self.start:
            raise PricingError("first_due", f"{self.first_due} is not after the start date {self.start}")
        names = [c.name for c in self.charges]
        if len(set(names)) != len(names):
            raise PricingError("charges", "charge names must be unique")

    def with_rate(self, rate: Decimal | float) -> Product:
        return replace(self, rate=Decimal(str(rate)))

    @property
    def irregular_first(self) -> bool:
        """True when ``first_due`` is given and is not one calendar month after ``start``."""
        return self.first_due is not None and self.first_due != add_months(self.start, 1)


@dataclass
class Period:
    """One installment: due date, principal, interest and each fee, in fen."""

    no: int
    due_date: dt.date
    days: int
    principal_fen: int
    interest_fen: int
    fees: dict[str, int] = field(default_factory=dict)
    outstanding_before_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + sum(self.fees.values())

    def to_dict(self) -> dict[str, Any]:
        return {"no": self.no, "due_date": self.due_date.isoformat(), "days": self.days,
                "principal_fen": self.principal_fen, "interest_fen": self.interest_fen,
                "fees_fen": dict(self.fees), "total_fen": self.total_fen,
                "outstanding_before_fen": self.outstanding_before_fen}


@dataclass(frozen=True)
class ItemMeta:
    name: str
    kind: str
    payee: str
    timing: str


@dataclass
class Schedule:
    """Borrower cash flows: amounts deducted up front, then the installments."""

    product: Product
    upfront: dict[str, int]
    periods: list[Period]
    items: dict[str, ItemMeta]
    day_basis: int = 365                 # resolved: product.day_basis or money.day_count_basis
    rounding: str = ROUND_HALF_UP        # resolved: money.rounding

    @property
    def received_fen(self) -> int:
        return self.product.principal_fen - sum(self.upfront.values())

    @property
    def total_cost_fen(self) -> int:
        """Everything the borrower pays beyond the principal (normal performance)."""
        return sum(p.total_fen for p in self.periods) - self.received_fen

    def flows_fen(self) -> list[int]:
        """Borrower's view negated (lender's view): t0 = -received, then +installment totals."""
        return [-self.received_fen] + [p.total_fen for p in self.periods]

    def dates(self) -> list[dt.date]:
        return [self.product.start] + [p.due_date for p in self.periods]

    def item_series(self, name: str) -> list[int]:
        """Amounts of one cost item at t = 0..n (t0 = up-front deduction)."""
        out = [self.upfront.get(name, 0)]
        for p in self.periods:
            out.append(p.interest_fen if name == "interest" else p.fees.get(name, 0))
        return out

    def item_totals(self) -> dict[str, int]:
        return {name: sum(self.item_series(name)) for name in self.items}

    def to_dict(self) -> dict[str, Any]:
        return {"principal_fen": self.product.principal_fen, "received_fen": self.received_fen,
                "upfront_fen": dict(self.upfront), "periods": [p.to_dict() for p in self.periods]}


def _charge_amount(c: Charge, principal: int, outstanding: int, mode: str) -> int:
    if c.amount_fen is not None:
        return c.amount_fen
    assert c.rate is not None
    base = outstanding if c.basis == "outstanding_principal" else principal
    return round_fen(Decimal(base) * c.rate, mode)


def _spread(total: int, n: int) -> list[int]:
    per = total // n
    return [per] * (n - 1) + [total - per * (n - 1)]


def build_schedule(product: Product, config: Config | None = None) -> Schedule:
    """The full schedule of ``product`` (see module docstring for the rounding and day-count rules)."""
    from fengkong.pricing.config import load_config

    cfg = config or load_config()
    mode = cfg.rounding()
    basis = product.day_basis or cfg.day_count_basis()
    p = product
    P, n = p.principal_fen, p.term
    anchor = p.first_due or p.start
    dues = [p.first_due or add_months(p.start, 1)]
    for k in range(2, n + 1):
        dues.append(add_months(anchor, k - 1 if p.first_due else k, anchor.day))
    prev = [p.start, *dues[:-1]]
    days = [(d - s).days for s, d in zip(prev, dues, strict=True)]

    # principal per period
    if p.method == "equal_installment":
        principal_parts: list[int] | None = None
    elif p.method == "interest_first":
        principal_parts = [0] * (n - 1) + [P]
    else:
        principal_parts = _spread(P, n)

    monthly = p.rate / 12
    daily = p.daily_rate if p.daily_rate is not None else p.rate / basis
    irregular = p.irregular_first
    payment = None
    if p.method == "equal_installment":
        with localcontext() as ctx:
            ctx.prec = 34
            if monthly == 0:
                payment = round_fen(Decimal(P) / n, mode)
            else:
                payment = round_fen(Decimal(P) * monthly / (1 - (1 + monthly) ** -n), mode)

    items: dict[str, ItemMeta] = {"interest": ItemMeta("interest", "interest", "lender", "per_period")}
    method_fee: list[int] | None = None
    if p.method == "fee_per_period":
        method_fee = [round_fen(Decimal(P) * p.fee_rate, mode)] * n
    elif p.method == "fee_total":
        method_fee = _spread(round_fen(Decimal(P) * p.total_fee_rate, mode), n)
    if method_fee is not None:
        items["installment_fee"] = ItemMeta("installment_fee", "installment_fee", "lender", "per_period")

    upfront: dict[str, int] = {}
    if p.upfront_fee_fen:
        upfront["upfront_fee"] = p.upfront_fee_fen
        items["upfront_fee"] = ItemMeta("upfront_fee", "service_fee", "lender", "upfront")
    for c in p.charges:
        if c.name in items:
            raise PricingError(f"charges.{c.name}", "name clashes with a built-in cost item")
        items[c.name] = ItemMeta(c.name, c.kind, c.payee, c.timing)
        if c.timing == "upfront":
            upfront[c.name] = _charge_amount(c, P, P, mode)
    if sum(upfront.values()) >= P:
        raise PricingError("upfront_fee", "up-front deductions leave nothing of the principal to the borrower")

    spreads = {c.name: _spread(c.amount_fen if c.amount_fen is not None else round_fen(Decimal(P) * c.rate, mode), n)
               for c in p.charges if c.basis == "total_spread"}

    periods: list[Period] = []
    out = P
    for k in range(n):
        regular = round_fen(Decimal(out) * p.rate / 12, mode)
        if p.method == "daily_rate" or (irregular and k == 0):   # actual days at annual / basis
            interest = round_fen(Decimal(out) * daily * days[k], mode)
        else:
            interest = regular
        if principal_parts is None:  # equal installment: last period clears the balance
            assert payment is not None  # an irregular first period keeps the regular principal part
            principal = out if k == n - 1 else min(out, payment - regular)
        else:
            principal = principal_parts[k]
        fees: dict[str, int] = {}
        if method_fee is not None:
            fees["installment_fee"] = method_fee[k]
        for c in p.charges:
            if c.timing == "per_period":
                fees[c.name] = spreads[c.name][k] if c.name in spreads else _charge_amount(c, P, out, mode)
            elif c.timing == "end" and k == n - 1:
                fees[c.name] = _charge_amount(c, P, out, mode)
        periods.append(Period(k + 1, dues[k], days[k], principal, interest, fees, out))
        out -= principal
    return Schedule(product=p, upfront=upfront, periods=periods, items=items, day_basis=basis, rounding=mode)


def prepay(schedule: Schedule, after_period: int, *, fee_rate: Decimal | float | None = None,
           remaining_period_fees: str | None = None, config: Config | None = None) -> Schedule:
    """Early repayment: the whole outstanding principal is repaid with installment ``after_period``.

    Interest stops; an optional prepayment fee (``fee_rate`` × prepaid principal, payee lender) is added;
    the per-period fees of the cancelled periods are waived or charged at once (``remaining_period_fees``).
    Defaults come from the ``early_repayment`` section of the configuration.
    """
    from fengkong.pricing.config import load_config

    cfg = (config or load_config()).section("early_repayment")
    n = len(schedule.periods)
    if not 1 <= after_period < n:
        raise PricingError("after_period", f"must be between 1 and {n - 1}, got {after_period}")
    fr = to_decimal(cfg["fee_rate"] if fee_rate is None else fee_rate, "fee_rate", maximum=1)
    mode = remaining_period_fees or cfg["remaining_period_fees"]
    if mode not in ("waive", "charge"):
        raise PricingError("remaining_period_fees", f"{mode!r} is not one of waive, charge")
    kept = [replace(p, fees=dict(p.fees)) for p in schedule.periods[:after_period]]
    last = kept[-1]
    rest = schedule.periods[after_period:]
    prepaid = sum(p.principal_fen for p in rest)
    last.principal_fen += prepaid
    items = dict(schedule.items)
    if mode == "charge":
        for p in rest:
            for k, v in p.fees.items():
                last.fees[k] = last.fees.get(k, 0) + v
    if fr > 0:
        last.fees["prepayment_fee"] = round_fen(Decimal(prepaid) * fr, schedule.rounding)
        items["prepayment_fee"] = ItemMeta("prepayment_fee", "prepayment_fee", "lender", "end")
    return Schedule(product=schedule.product, upfront=dict(schedule.upfront), periods=kept, items=items,
                    day_basis=schedule.day_basis, rounding=schedule.rounding)


def product_from_mapping(d: Mapping[str, Any], **overrides: Any) -> Product:
    """Build a Product from a YAML/JSON mapping (amounts in yuan); ``overrides`` win over the file."""
    merged = {**d, **{k: v for k, v in overrides.items() if v is not None}}
    known = {"name", "principal", "term", "method", "rate", "fee_rate", "total_fee_rate", "daily_rate",
             "upfront_fee", "charges", "start", "first_due", "day_basis", "contingent"}
    extra = sorted(set(merged) - known)
    if extra:
        raise PricingError(extra[0], "unknown product field")
    if merged.get("principal") is None:
        raise PricingError("principal", "required")
    if merged.get("term") is None:
        raise PricingError("term", "required")
    if _negative(merged["principal"]):
        raise PricingError("principal", f"must be a positive amount of yuan, got {merged['principal']!r}")
    principal = yuan_to_fen(merged["principal"], "principal")
    term = merged["term"]
    if isinstance(term, str):
        try:
            term = int(term)
        except ValueError:
            raise PricingError("term", f"not a whole number: {term!r}") from None
    charges_raw = merged.get("charges") or []
    if not isinstance(charges_raw, Iterable) or isinstance(charges_raw, str | bytes | Mapping):
        raise PricingError("charges", "must be a list of charge mappings")
    charges = tuple(Charge.from_dict(c) for c in charges_raw)

    def dte(name: str) -> dt.date | None:
        v = merged.get(name)
        if v is None:
            return None
        if isinstance(v, dt.date):
            return v
        try:
            return dt.date.fromisoformat(str(v))
        except ValueError:
            raise PricingError(name, f"not an ISO date: {v!r}") from None

    return Product(
        principal_fen=principal, term=term, method=str(merged.get("method", "equal_installment")),
        rate=to_decimal(merged.get("rate", 0) or 0, "rate", maximum=10),
        fee_rate=to_decimal(merged.get("fee_rate", 0) or 0, "fee_rate", maximum=1),
        total_fee_rate=to_decimal(merged.get("total_fee_rate", 0) or 0, "total_fee_rate", maximum=10),
        daily_rate=to_decimal(merged["daily_rate"], "daily_rate", maximum=1) if merged.get("daily_rate") else None,
        upfront_fee_fen=yuan_to_fen(merged.get("upfront_fee", 0) or 0, "upfront_fee"),
        charges=charges, start=dte("start") or business_today(), first_due=dte("first_due"),
        day_basis=_basis(merged.get("day_basis")), name=str(merged.get("name", "offer")),
    )


def _basis(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or str(v) not in ("360", "365"):
        raise PricingError("day_basis", f"must be 365 or 360, got {v!r}")
    return int(v)


def _negative(v: Any) -> bool:
    try:
        return Decimal(str(v)) <= 0
    except Exception:
        return False
