"""The pricing section of ``fengkong demo``: the quarter cost monitor and the interest subsidy on the world."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Table


def stage_pricing(out: Path, console: Any, world: Any = None) -> None:
    """Pricing compliance: quarter cost monitor and interest subsidy on the world's loans and purchases.

    Reads the event files as stored (``world``, the demo's validated frame, is not needed here)."""
    import datetime as dt

    from fengkong.pricing.compliance import monitor
    from fengkong.pricing.report import (
        compliance_html,
        compliance_xlsx,
        pct,
        subsidy_html,
        subsidy_xlsx,
        yuan,
    )
    from fengkong.pricing.subsidy_ledger import run_subsidy

    world = out / "world"
    loans = pl.read_parquet(world / "disbursement.parquet")
    rep = monitor(loans, "2026Q1")
    compliance_html(rep, out / "compliance_2026Q1.html")
    compliance_xlsx(rep, out / "compliance_2026Q1.xlsx")
    t = Table(
        title=f"2026Q1 comprehensive cost of {rep.loans.height:,} new loans (IRR × 12, principal-weighted)"
    )
    for c in ("lender type", "rule", "limit", "QTD average", "projected", "per-loan breaches"):
        t.add_column(c)
    for r in rep.rules:
        t.add_row(
            r.lender_type,
            r.rule_id,
            pct(r.limit),
            pct(r.weighted_apr),
            pct(r.projected_apr),
            str(rep.breaches.height),
        )
    console.print(t)
    ledger = out / "subsidy_ledger.parquet"
    ledger.unlink(missing_ok=True)
    run = run_subsidy(
        pl.read_parquet(world / "purchase.parquet"),
        pl.read_parquet(world / "transfer.parquet"),
        loans,
        dt.date(2026, 3, 31),
        ledger_path=ledger,
        customers=pl.read_parquet(world / "customer.parquet"),
    )
    subsidy_html(run, out / "subsidy.html")
    subsidy_xlsx(run, out / "subsidy.xlsx")
    claim = run.claim_report()
    console.print(
        f"Interest subsidy to 2026-03-31: {run.items.height:,} items checked, "
        f"{yuan(int(claim['subsidy_fen'].sum()) if claim.height else 0)} yuan to claim across "
        f"{claim['branch'].n_unique() if claim.height else 0} branches; reports: compliance_2026Q1.html/.xlsx, "
        "subsidy.html/.xlsx"
    )
