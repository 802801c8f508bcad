"""The subsidy ledger in integer fen: quarterly targets per borrower, posted as differences so that
re-processing the same transactions changes nothing; the subsidy granted is what is deducted from the
interest due (never more), and that is what the branch claim report claims."""

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

#: ``accrued_fen``: subsidy accrued in the quarter after the per-borrower caps; ``subsidy_fen``: subsidy
#: granted, i.e. deducted from the interest due in the quarter (never more than that interest) = the claim.
LEDGER_SCHEMA = {
    "entry_id": pl.Utf8, "institution_id": pl.Utf8, "branch": pl.Utf8, "customer_id": pl.Utf8,
    "quarter": pl.Utf8, "accrued_fen": pl.Int64, "subsidy_fen": pl.Int64, "as_of": pl.Date, "kind": pl.Utf8,
}
STATE_COLUMNS = ("institution_id", "branch", "customer_id", "quarter", "accrued_fen", "subsidy_fen")


@dataclass
class SubsidyRun:
    """Result of one run: the item decisions, the target state, the newly posted entries, the ledger."""

    items: pl.DataFrame
    state: pl.DataFrame
    posted: pl.DataFrame
    ledger: pl.DataFrame
    as_of: dt.date
    rules: SubsidyRules | None = None

    def claim_report(self) -> pl.DataFrame:
        """Quarterly claim per institution branch (net of all postings): ``subsidy_fen`` is the claim (the
        subsidy deducted from interest due), ``accrued_fen`` the capped accrual, for reference."""
        if self.ledger.height == 0:
            return pl.DataFrame(schema={"institution_id": pl.Utf8, "branch": pl.Utf8, "quarter": pl.Utf8,
                                        "borrowers": pl.UInt32, "accrued_fen": pl.Int64, "subsidy_fen": pl.Int64})
        return (self.ledger.group_by("institution_id", "branch", "quarter", "customer_id")
                .agg(pl.col("accrued_fen").sum(), pl.col("subsidy_fen").sum())
                .group_by("institution_id", "branch", "quarter")
                .agg((pl.col("subsidy_fen") != 0).sum().alias("borrowers"), pl.col("accrued_fen").sum(),
                     pl.col("subsidy_fen").sum())
                .sort("institution_id", "branch", "quarter"))


def _quarters(first: dt.date, as_of: dt.date) -> list[str]:
    out, d = [], dt.date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while d < as_of:
        q = quarter_of(d)
        out.append(q)
        d = quarter_bounds(q)[1]
    return out


def target_state(items: list[Item], as_of: dt.date, rules: SubsidyRules, branch_of: dict[str, str]) -> pl.DataFrame:
    """Per (customer, quarter): the capped subsidy accrued in the quarter (``accrued_fen``) and the subsidy
    granted (``subsidy_fen``): deducted from the interest due in the quarter on the eligible principal, never
    more than that interest. Accrual not yet deductible waits for the next interest due (an accrual period
    straddles a quarter end); it is never claimed until deducted, and the subsidy rate never exceeds the
    contract rate, so the wait stays within one interest period."""
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
        pending = 0
        prev = 0
        interest_by_q: dict[str, int] = defaultdict(int)
        for i in elig:   # interest due on the eligible part of the principal, after the consumption
            for d, fen in i.interest_due:
                if i.day < d < as_of and i.principal_fen:
                    interest_by_q[quarter_of(d)] += fen * i.base_fen // i.principal_fen
        for q in _quarters(min(i.day for i in elig), as_of):
            _q0, q1 = quarter_bounds(q)
            cum = capped_cumulative(elig, min(q1, end), rules)
            accrued = cum - prev
            prev = cum
            granted = max(0, min(pending + accrued, interest_by_q.get(q, 0)))
            pending = pending + accrued - granted
            if accrued or granted:
                rows.append({"institution_id": inst, "branch": branch_of.get(cust, rules.cfg["default_branch"]),
                             "customer_id": cust, "quarter": q, "accrued_fen": accrued, "subsidy_fen": granted})
    return pl.DataFrame(rows, schema={k: LEDGER_SCHEMA[k] for k in STATE_COLUMNS})


def _read(path: Path | None) -> pl.DataFrame:
    """The ledger file (Parquet or CSV); a ledger of the earlier layout (``subsidy_fen`` = accrual,
    ``deducted_fen`` = deduction) is read as accrued_fen / subsidy_fen."""
    if path is None or not path.exists():
        return pl.DataFrame(schema=LEDGER_SCHEMA)
    try:
        df = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise PricingError("ledger", f"{path} is not a readable ledger: {exc}") from None
    if "deducted_fen" in df.columns and "accrued_fen" not in df.columns:
        df = df.rename({"subsidy_fen": "accrued_fen"}).rename({"deducted_fen": "subsidy_fen"})
    missing = [c for c in LEDGER_SCHEMA if c not in df.columns]
    if missing:
        raise PricingError("ledger", f"{path} is not a subsidy ledger (missing column {missing[0]})")
    try:
        return df.select([pl.col(c).str.to_date() if t == pl.Date and df.schema[c] == pl.Utf8 else pl.col(c).cast(t)
                          for c, t in LEDGER_SCHEMA.items()])
    except pl.exceptions.PolarsError as exc:
        raise PricingError("ledger", f"{path}: a column has the wrong type: {exc}") from None


def post(state: pl.DataFrame, ledger: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Entries that bring the ledger to ``state``: one per key whose target differs from what is posted."""
    keys = ["institution_id", "branch", "customer_id", "quarter"]
    have = ledger.group_by(keys).agg(pl.col("accrued_fen").sum().alias("h_a"), pl.col("subsidy_fen").sum().alias("h_s"))
    joined = state.join(have, on=keys, how="full", coalesce=True).with_columns(
        pl.col("accrued_fen", "subsidy_fen", "h_a", "h_s").fill_null(0))
    diff = joined.with_columns((pl.col("accrued_fen") - pl.col("h_a")).alias("da"),
                               (pl.col("subsidy_fen") - pl.col("h_s")).alias("ds")).filter(
        (pl.col("da") != 0) | (pl.col("ds") != 0))
    n = ledger.height
    rows = []
    for i, r in enumerate(diff.iter_rows(named=True)):
        h = hashlib.sha256(f"{r['customer_id']}|{r['quarter']}|{as_of}|{n + i}".encode()).hexdigest()[:16]
        rows.append({"entry_id": h, "institution_id": r["institution_id"], "branch": r["branch"],
                     "customer_id": r["customer_id"], "quarter": r["quarter"], "accrued_fen": r["da"],
                     "subsidy_fen": r["ds"], "as_of": as_of,
                     "kind": "accrual" if r["h_a"] == 0 and r["h_s"] == 0 else "adjustment"})
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
    return SubsidyRun(items=item_frame, state=state, posted=posted, ledger=full, as_of=as_of, rules=rules)
