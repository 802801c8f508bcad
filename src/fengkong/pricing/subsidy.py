"""Personal consumption-loan interest subsidy (财金〔2025〕80号 and 财金〔2026〕1号): eligibility of each
consumption, daily accrual on eligible outstanding principal, per-borrower caps, quarterly amounts."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from fengkong.pricing.config import Config, _date, load_config
from fengkong.pricing.errors import PricingError
from fengkong.pricing.schedule import Product, build_schedule, round_fen
from fengkong.pricing.vector import product_of_row
from fengkong.settings import BUSINESS_TZ


@dataclass(frozen=True)
class RuleSet:
    id: str
    document: str
    consumption_from: dt.date
    consumption_to: dt.date
    rate: Fraction
    max_share: Fraction | None
    credit_cards: str
    sector_restriction: bool
    threshold_fen: int
    per_txn_base_cap_fen: int | None
    total_cap_fen: int
    small_txn_cap_fen: int | None


def _fr(x: Any) -> Fraction:
    return Fraction(str(x))


def _fen(yuan: Any) -> int | None:
    return None if yuan is None else int(Decimal(str(yuan)) * 100)


@dataclass
class SubsidyRules:
    """The ``subsidy`` configuration section, parsed."""

    cfg: dict[str, Any]
    rule_sets: list[RuleSet] = field(default_factory=list)
    config: Config | None = None     # the whole configuration (money rounding, schedules)

    @property
    def rounding(self) -> str:
        return (self.config or load_config()).rounding()

    @staticmethod
    def load(config: Config | None = None) -> SubsidyRules:
        config = config or load_config()
        cfg = config.section("subsidy")
        sets = []
        for r in cfg["rule_sets"]:
            sets.append(RuleSet(
                id=r["id"], document=r.get("document", ""),
                consumption_from=_date(r["consumption_from"], f"subsidy.{r['id']}.consumption_from"),
                consumption_to=_date(r["consumption_to"], f"subsidy.{r['id']}.consumption_to"),
                rate=_fr(r["rate"]),
                max_share=None if r.get("max_share_of_contract_rate") is None else _fr(r["max_share_of_contract_rate"]),
                credit_cards=r.get("credit_cards", "excluded"), sector_restriction=bool(r.get("sector_restriction")),
                threshold_fen=_fen(r["large_txn_threshold_yuan"]) or 0,
                per_txn_base_cap_fen=_fen(r.get("per_txn_base_cap_yuan")),
                total_cap_fen=_fen(r["total_cap_yuan"]) or 0, small_txn_cap_fen=_fen(r.get("small_txn_cap_yuan")),
            ))
        return SubsidyRules(cfg=cfg, rule_sets=sets, config=config)

    def rule_for(self, day: dt.date) -> RuleSet | None:
        for r in self.rule_sets:
            if r.consumption_from <= day <= r.consumption_to:
                return r
        return None

    def accrual_end(self, as_of: dt.date) -> dt.date:
        ends = [(_date(e["from"], "subsidy.accrual_end.from"), _date(e["end"], "subsidy.accrual_end.end"))
                for e in self.cfg["accrual_end"]]
        known = [e for f, e in sorted(ends) if f <= as_of]
        if not known:
            raise PricingError("as_of", f"{as_of} is before every configured subsidy rule "
                                        f"(earliest {min(f for f, _ in ends)})")
        return known[-1]

    def subsidy_rate(self, rule: RuleSet, contract_rate: Fraction) -> Fraction:
        """min(rule rate, max_share × contract rate, contract rate): the share cap is dropped when configured
        null, but the subsidy is deducted from the interest and so can never exceed the contract rate."""
        rate = rule.rate if rule.max_share is None else min(rule.rate, rule.max_share * contract_rate)
        return min(rate, contract_rate)


@dataclass
class Item:
    """One consumption attributable to loan principal, with its eligibility decision."""

    item_id: str
    customer_id: str
    loan_id: str | None
    day: dt.date
    amount_fen: int
    category: str | None
    source: str
    installments: int = 1
    reason: str = "ELIGIBLE"
    rule_id: str | None = None
    base_fen: int = 0
    rate: Fraction = Fraction(0)
    small: bool = False
    contract_rate: Fraction = Fraction(0)
    refunded_fen: int = 0
    principal_fen: int = 0          # principal of the loan (schedule) the item is attributed to
    refund_day: dt.date | None = None
    fractions: list[tuple[dt.date, Fraction]] = field(default_factory=list)  # (from day, outstanding share)
    interest_due: list[tuple[dt.date, int]] = field(default_factory=list)    # (due date, interest fen)


def _to_date(ts: Any) -> dt.date:
    if isinstance(ts, dt.datetime):
        return ts.astimezone(BUSINESS_TZ).date() if ts.tzinfo else ts.date()
    return ts


def build_items(purchases: pl.DataFrame | None, transfers: pl.DataFrame | None, loans: pl.DataFrame | None,
                rules: SubsidyRules, authorized: set[str] | None) -> list[Item]:
    """Normalise purchases (credit-line consumption) and traced loan transfers into items and decide each."""
    cfg = rules.cfg
    excluded = set(cfg["excluded_categories"])
    key = set(cfg["key_sectors"])
    cl = cfg["credit_line"]
    loans_by_id: dict[str, dict[str, Any]] = {}
    if loans is not None and loans.height:
        for row in loans.iter_rows(named=True):
            row = dict(row)
            row["start"] = _to_date(row["ts"])
            loans_by_id[row["loan_id"]] = row
    items: list[Item] = []
    refunds: list[dict[str, Any]] = []
    if purchases is not None and purchases.height:
        for r in purchases.iter_rows(named=True):
            if r.get("is_refund"):
                refunds.append(r)
                continue
            items.append(Item(r["event_id"], r["customer_id"], None, _to_date(r["ts"]), int(r["amount_fen"]),
                              r.get("merchant_category"), "purchase", int(r.get("installments") or 1)))
    if transfers is not None and transfers.height:
        tr = transfers.filter((pl.col("direction") == "out") & pl.col("loan_id").is_not_null())
        for r in tr.iter_rows(named=True):
            it = Item(r["event_id"], r["customer_id"], r["loan_id"], _to_date(r["ts"]), int(r["amount_fen"]),
                      r.get("counterparty_category"), "transfer")
            loan = loans_by_id.get(r["loan_id"])
            if loan is None:
                it.reason = "LOAN_UNKNOWN"
            elif r.get("counterparty_type") not in cfg["consumption_counterparty_types"]:
                it.reason = "NOT_CONSUMPTION"
            elif loan.get("card_token") and r.get("card_token") and loan["card_token"] != r["card_token"]:
                it.reason = "NOT_FROM_DISBURSEMENT_ACCOUNT"
            items.append(it)
    items.sort(key=lambda i: (i.day, i.item_id))
    by_id = {i.item_id: i for i in items}
    for r in refunds:
        orig = by_id.get(r.get("refund_of") or "")
        if orig is not None:
            orig.refunded_fen += int(r["amount_fen"])
            d = _to_date(r["ts"])
            orig.refund_day = d if orig.refund_day is None else min(orig.refund_day, d)
    attributed: dict[str, int] = defaultdict(int)
    sched_cache: dict[Any, Any] = {}
    for it in items:
        rule = rules.rule_for(it.day)
        if it.reason != "ELIGIBLE":
            continue
        if rule is None:
            it.reason = "OUTSIDE_PERIOD"
            continue
        it.rule_id = rule.id
        if authorized is not None and it.customer_id not in authorized:
            it.reason = "ACCOUNT_NOT_AUTHORISED"
            continue
        if it.category in excluded or it.category is None:
            it.reason = "EXCLUDED_USE"
            continue
        if it.source == "purchase" and cl["kind"] == "credit_card" and (
                rule.credit_cards == "excluded" or it.installments <= 1):
            it.reason = "CREDIT_CARD_EXCLUDED"
            continue
        large = it.amount_fen >= rule.threshold_fen
        if rule.sector_restriction and large and it.category not in key:
            it.reason = "LARGE_TXN_NON_KEY_SECTOR"
            continue
        if it.source == "purchase":
            free = it.installments <= 1 and cl.get("interest_free_single", True)
            it.contract_rate = Fraction(0) if free else _fr(cl["contract_rate"])
        else:
            loan = loans_by_id[it.loan_id]  # type: ignore[index]
            it.contract_rate = _fr(repr(float(loan.get("contract_rate") or 0.0)))
        it.rate = rules.subsidy_rate(rule, it.contract_rate)
        if it.rate <= 0:
            it.reason = "NO_INTEREST_CHARGED"
            continue
        if it.source == "purchase":
            rate = Decimal(it.contract_rate.numerator) / it.contract_rate.denominator
            key_ = (it.amount_fen, it.installments, rate, it.day)
            if key_ not in sched_cache:
                sched_cache[key_] = build_schedule(Product(principal_fen=it.amount_fen, term=it.installments,
                                                           rate=rate, start=it.day), rules.config)
            sched = sched_cache[key_]
            principal = it.amount_fen
        else:
            if it.loan_id not in sched_cache:
                sched_cache[it.loan_id] = build_schedule(product_of_row(loan), rules.config)
            sched = sched_cache[it.loan_id]
            principal = int(loan["amount_fen"])
        base = it.amount_fen
        if it.loan_id is not None:   # cannot attribute more than the loan principal
            base = min(base, principal - attributed[it.loan_id])
            if base <= 0:
                it.reason = "LOAN_PRINCIPAL_EXHAUSTED"
                continue
            attributed[it.loan_id] += base
        if rule.per_txn_base_cap_fen is not None:
            base = min(base, rule.per_txn_base_cap_fen)
        it.base_fen = base
        it.principal_fen = principal
        it.small = rule.small_txn_cap_fen is not None and not large
        if rules.cfg.get("follow_repayment", True):
            fr = [(it.day, Fraction(1))]
            out = principal
            for p in sched.periods:
                out -= p.principal_fen
                if p.due_date > it.day:
                    fr.append((p.due_date, Fraction(out, principal)))
            it.fractions = fr
        else:
            it.fractions = [(it.day, Fraction(1))]
        it.interest_due = [(p.due_date, p.interest_fen) for p in sched.periods]
        if it.refunded_fen and rules.cfg.get("refund_reversal", "full") == "full":
            it.base_fen = max(0, it.base_fen - it.refunded_fen)
            if it.base_fen == 0:
                it.reason = "REFUNDED"
        elif it.refunded_fen and it.refund_day is not None:
            # from_refund_date: the refunded part stops accruing on the refund day
            keep = Fraction(max(0, it.base_fen - it.refunded_fen), it.base_fen)
            it.fractions = [(d, f * (keep if d >= it.refund_day else 1)) for d, f in it.fractions]
            it.fractions.append((it.refund_day, _share_at(it.fractions, it.refund_day) * keep))
            it.fractions.sort()
    return items


def _share_at(fractions: list[tuple[dt.date, Fraction]], day: dt.date) -> Fraction:
    share = Fraction(0)
    for d, f in fractions:
        if d <= day:
            share = f
    return share


def accrued(item: Item, upto: dt.date, basis: int) -> Fraction:
    """Subsidy accrued (fen, exact) on days ``item.day <= d < upto``."""
    if item.reason != "ELIGIBLE" or upto <= item.day:
        return Fraction(0)
    total = Fraction(0)
    pts = [*item.fractions, (upto, Fraction(0))]
    for (d0, f), (d1, _) in itertools.pairwise(pts):
        a, b = max(d0, item.day), min(d1, upto)
        if b > a:
            total += item.base_fen * f * item.rate * (b - a).days / basis
        if d1 >= upto:
            break
    return total


def capped_cumulative(items: list[Item], upto: dt.date, rules: SubsidyRules) -> int:
    """Capped subsidy (fen) of one borrower at one institution, accrued before ``upto``."""
    basis = int(rules.cfg.get("day_count_basis", 365))
    window = rules.cfg.get("cap_window", "policy_period")
    if window not in ("policy_period", "calendar_year"):
        raise PricingError("subsidy.cap_window", f"{window!r} is not one of policy_period, calendar_year")
    eligible = [i for i in items if i.reason == "ELIGIBLE"]
    if not eligible:
        return 0
    sets = {r.id: r for r in rules.rule_sets}
    total_cap = min(sets[i.rule_id].total_cap_fen for i in eligible)  # type: ignore[index]
    small_caps = [sets[i.rule_id].small_txn_cap_fen for i in eligible if i.small]  # type: ignore[index]
    small_cap = min(c for c in small_caps if c is not None) if small_caps else None
    windows: list[tuple[dt.date, dt.date]]
    if window == "calendar_year":
        years = range(min(i.day for i in eligible).year, upto.year + 1)
        windows = [(dt.date(y, 1, 1), min(dt.date(y + 1, 1, 1), upto)) for y in years]
    else:
        windows = [(dt.date(1900, 1, 1), upto)]
    out = Fraction(0)
    for w0, w1 in windows:
        small = sum((accrued(i, w1, basis) - accrued(i, max(w0, i.day), basis)) for i in eligible if i.small)
        large = sum((accrued(i, w1, basis) - accrued(i, max(w0, i.day), basis)) for i in eligible if not i.small)
        if small_cap is not None:
            small = min(Fraction(small_cap), small)
        out += min(Fraction(total_cap), small + large)
    return round_fen(Decimal(out.numerator) / Decimal(out.denominator), rules.rounding)


def quarter_bounds(q: str) -> tuple[dt.date, dt.date]:
    """'2026Q1' -> (2026-01-01, 2026-04-01) (end exclusive)."""
    try:
        y, n = int(q[:4]), int(q[-1])
        if q[4:5].upper() != "Q" or not 1 <= n <= 4 or len(q) != 6:
            raise ValueError
    except ValueError:
        raise PricingError("quarter", f"{q!r} is not a quarter like 2026Q1") from None
    start = dt.date(y, 3 * n - 2, 1)
    end = dt.date(y + 1, 1, 1) if n == 4 else dt.date(y, 3 * n + 1, 1)
    return start, end


def quarter_of(d: dt.date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"
