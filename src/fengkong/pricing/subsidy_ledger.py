"""The subsidy ledger in integer fen: quarterly targets per borrower, posted as differences so that
re-processing the same transactions changes nothing; deduction from interest due; branch claim report."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fengkong.pricing.errors import PricingError
from fengkong.pricing.subsidy import (
    Item,
    SubsidyRules,
    build_items,
    capped_cumulative,
    quarter_bounds,
    quarter_of,
)

LEDGER_SCHEMA = {
    "entry_id": pl.Utf8, "institution_id": pl.Utf8, "branch": pl.Utf8, "customer_id": pl.Utf8,
    "quarter": pl.Utf8, "subsidy_fen": pl.Int64, "deducted_fen": pl.Int64, "as_of": pl.Date, "kind": pl.Utf8,
}


@dataclass
class SubsidyRun:
    """Result of one run: the item decisions, the target state, the newly posted entries, the ledger."""

    items: pl.DataFrame
    state: pl.DataFrame
    posted: pl.DataFrame
    ledger: pl.DataFrame
    as_of: dt.date

    def claim_report(self) -> pl.DataFrame:
        """Quarterly claim per institution branch (net of all postings)."""
        if self.ledger.height == 0:
            return pl.DataFrame(schema={"institution_id": pl.Utf8, "branch": pl.Utf8, "quarter": pl.Utf8,
                                        "borrowers": pl.UInt32, "subsidy_fen": pl.Int64, "deducted_fen": pl.Int64})
        return (self.ledger.group_by("institution_id", "branch", "quarter", "customer_id")
                .agg(pl.col("subsidy_fen").sum(), pl.col("deducted_fen").sum())
                .group_by("institution_id", "branch", "quarter")
                .agg((pl.col("subsidy_fen") != 0).sum().alias("borrowers"), pl.col("subsidy_fen").sum(),
                     pl.col("deducted_fen").sum())
                .sort("institution_id", "branch", "quarter"))


def _quarters(first: dt.date, as_of: dt.date) -> list[str]:
    out, d = [], dt.date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while d < as_of:
        q = quarter_of(d)
        out.append(q)
        d = quarter_bounds(q)[1]
    return out


def target_state(items: list[Item], as_of: dt.date, rules: SubsidyRules, branch_of: dict[str, str]) -> pl.DataFrame:
    """Per (customer, quarter): capped subsidy accrued in the quarter and the amount deductible from the
    interest due in it (never more than that interest; any excess is carried to the next quarter)."""
    inst = str(rules.cfg.get("institution_id", "SELF"))
    end = min(as_of, rules.accrual_end(as_of) + dt.timedelta(days=1))
    by_cust: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        by_cust[it.customer_id].append(it)
    rows = []
    for cust, its in by_cust.items():
        elig = [i for i in its if i.reason == "ELIGIBLE"]
        if not elig:
            continue
        carry = 0
        prev = 0
        interest_by_q: dict[str, int] = defaultdict(int)
        for i in elig:
            share = i.base_fen / i.amount_fen if i.amount_fen else 0
            for d, fen in i.interest_due:
                if d < as_of:
                    interest_by_q[quarter_of(d)] += int(fen * share)
        for q in _quarters(min(i.day for i in elig), as_of):
            _q0, q1 = quarter_bounds(q)
            cum = capped_cumulative(elig, min(q1, end), rules)
            amount = cum - prev
            prev = cum
            avail = carry + amount
            deducted = max(0, min(avail, interest_by_q.get(q, 0)))
            carry = avail - deducted
            if amount or deducted:
                rows.append({"institution_id": inst, "branch": branch_of.get(cust, rules.cfg["default_branch"]),
                             "customer_id": cust, "quarter": q, "subsidy_fen": amount, "deducted_fen": deducted})
    return pl.DataFrame(rows, schema={k: v for k, v in LEDGER_SCHEMA.items()
                                      if k in ("institution_id", "branch", "customer_id", "quarter", "subsidy_fen",
                                               "deducted_fen")})


def _read(path: Path | None) -> pl.DataFrame:
    if path is None or not path.exists():
        return pl.DataFrame(schema=LEDGER_SCHEMA)
    return pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, schema=LEDGER_SCHEMA)


def post(state: pl.DataFrame, ledger: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Entries that bring the ledger to ``state``: one per key whose target differs from what is posted."""
    keys = ["institution_id", "branch", "customer_id", "quarter"]
    have = ledger.group_by(keys).agg(pl.col("subsidy_fen").sum().alias("h_s"), pl.col("deducted_fen").sum().alias("h_d"))
    joined = state.join(have, on=keys, how="full", coalesce=True).with_columns(
        pl.col("subsidy_fen", "deducted_fen", "h_s", "h_d").fill_null(0))
    diff = joined.with_columns((pl.col("subsidy_fen") - pl.col("h_s")).alias("ds"),
                               (pl.col("deducted_fen") - pl.col("h_d")).alias("dd")).filter(
        (pl.col("ds") != 0) | (pl.col("dd") != 0))
    n = ledger.height
    rows = []
    for i, r in enumerate(diff.iter_rows(named=True)):
        h = hashlib.sha256(f"{r['customer_id']}|{r['quarter']}|{as_of}|{n + i}".encode()).hexdigest()[:16]
        rows.append({"entry_id": h, "institution_id": r["institution_id"], "branch": r["branch"],
                     "customer_id": r["customer_id"], "quarter": r["quarter"], "subsidy_fen": r["ds"],
                     "deducted_fen": r["dd"], "as_of": as_of,
                     "kind": "accrual" if r["h_s"] == 0 and r["h_d"] == 0 else "adjustment"})
    return pl.DataFrame(rows, schema=LEDGER_SCHEMA)


def run_subsidy(purchases: pl.DataFrame | None, transfers: pl.DataFrame | None, loans: pl.DataFrame | None,
                as_of: dt.date, *, rules: SubsidyRules | None = None, ledger_path: Path | None = None,
                customers: pl.DataFrame | None = None, authorized: set[str] | None = None) -> SubsidyRun:
    """Decide every item, compute the target state as of ``as_of`` and post the differences to the ledger."""
    rules = rules or SubsidyRules.load()
    rules.accrual_end(as_of)  # raises naming as_of when outside every rule
    if authorized is None and rules.cfg.get("authorization_default", "all") == "none":
        authorized = set()
    items = build_items(purchases, transfers, loans, rules, authorized)
    items = [i for i in items if i.day < as_of]
    branch_of: dict[str, str] = {}
    if customers is not None and customers.height and "province" in customers.columns:
        for r in customers.select("customer_id", "province").drop_nulls().iter_rows():
            branch_of[r[0]] = str(r[1])
    state = target_state(items, as_of, rules, branch_of)
    ledger = _read(ledger_path)
    if ledger.height and ledger["as_of"].max() > as_of:  # type: ignore[operator]
        raise PricingError("as_of", f"{as_of} is before the last posting in the ledger ({ledger['as_of'].max()})")
    posted = post(state, ledger, as_of)
    full = pl.concat([ledger, posted]) if posted.height else ledger
    if ledger_path is not None:
        ledger_path.parent.mkdir(parents=True, exist_ok=True)
        if ledger_path.suffix == ".parquet":
            full.write_parquet(ledger_path)
        else:
            full.write_csv(ledger_path)
    item_frame = pl.DataFrame([{"item_id": i.item_id, "customer_id": i.customer_id, "loan_id": i.loan_id,
                                "day": i.day, "source": i.source, "category": i.category, "amount_fen": i.amount_fen,
                                "refunded_fen": i.refunded_fen, "rule_id": i.rule_id, "reason": i.reason,
                                "eligible_base_fen": i.base_fen, "subsidy_rate": float(i.rate)} for i in items],
                              schema={"item_id": pl.Utf8, "customer_id": pl.Utf8, "loan_id": pl.Utf8, "day": pl.Date,
                                      "source": pl.Utf8, "category": pl.Utf8, "amount_fen": pl.Int64,
                                      "refunded_fen": pl.Int64, "rule_id": pl.Utf8, "reason": pl.Utf8,
                                      "eligible_base_fen": pl.Int64, "subsidy_rate": pl.Float64})
    return SubsidyRun(items=item_frame, state=state, posted=posted, ledger=full, as_of=as_of)
