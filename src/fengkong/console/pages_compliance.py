"""Compliance pages: quarter-to-date comprehensive cost vs the caps, loans above the per-loan cap, a loan's
disclosure table, interest-subsidy claims by branch with their ledger, and the Excel downloads."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

ROLES = ("compliance",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _quarter_of(d: dt.date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def _loans(cx: Any) -> Any:
    def read() -> Any:
        import polars as pl

        w = cx.world()
        p = w / "disbursement.parquet" if w else None
        return pl.read_parquet(p) if p is not None and p.exists() else None

    return cx.cached("loans", read)


def report(cx: Any, quarter: str | None) -> Any:
    """The pricing pack's quarter monitor over the world's disbursements (cached per quarter)."""
    loans = _loans(cx)
    if loans is None or loans.height == 0:
        return None
    if not quarter:
        quarter = _quarter_of(loans["ts"].max().date())
    from fengkong.pricing.compliance import monitor

    return cx.cached(f"compliance:{quarter}", lambda: monitor(loans, quarter))


def by_segment(rep: Any) -> list[dict[str, Any]]:
    """Principal-weighted comprehensive cost per (lender type, channel) against the highest cap applied."""
    import polars as pl

    if rep.loans.height == 0:
        return []
    g = (rep.loans.group_by("lender_type", "channel")
         .agg(pl.len().alias("loans"), pl.col("amount_fen").sum().alias("principal_fen"),
              ((pl.col("apr_irr") * pl.col("amount_fen")).sum() / pl.col("amount_fen").sum()).alias("weighted_apr"),
              pl.col("cap").max().alias("cap"), pl.col("breach").sum().alias("breaches"))
         .sort("lender_type", "channel"))
    return g.to_dicts()


def subsidy(cx: Any) -> Any:
    """The subsidy run to the day after the world's last event (ledger computed afresh, never written)."""
    w = cx.world()
    if w is None or not (w / "purchase.parquet").exists():
        return None

    def run() -> Any:
        import polars as pl

        from fengkong.pricing.subsidy_ledger import run_subsidy

        def rd(name: str) -> Any:
            p = w / f"{name}.parquet"
            return pl.read_parquet(p) if p.exists() else None

        pur = rd("purchase")
        as_of = pur["ts"].max().date() + dt.timedelta(days=1)
        return run_subsidy(pur, rd("transfer"), rd("disbursement"), as_of, customers=rd("customer"))

    return cx.cached("subsidy", run)


def warm(cx: Any) -> None:
    """Compute the compliance report and the subsidy run ahead of the first request."""
    report(cx, None)
    subsidy(cx)


def add_routes(router: APIRouter, cx: Any) -> None:
    store = cx.store

    @router.get("/compliance")
    def compliance(request: Request, quarter: str = "", page: int = 1) -> Response:
        cx.require(request, *ROLES)
        from fengkong.pricing.errors import PricingError

        try:
            rep = report(cx, quarter or None)
        except PricingError as exc:
            return cx.page(request, "message.html", code=400, message=str(exc))
        if rep is None:
            return cx.page(request, "message.html", message="No world data configured.")
        page = max(page, 1)
        br = rep.breaches.slice((page - 1) * 50, 50).select("loan_id", "lender_type", "channel", "amount_fen",
                                                            "apr_irr", "cap", "cap_rule").to_dicts()
        return cx.page(request, "compliance.html", rep=rep, segments=by_segment(rep), breaches=br, page=page,
                       more=rep.breaches.height > page * 50)

    @router.get("/compliance/loan")
    def loan_lookup(request: Request, loan_id: str = "", quarter: str = "") -> Response:
        cx.require(request, *ROLES)
        from urllib.parse import quote

        return cx.redirect(request, f"/console/compliance/loan/{quote(loan_id.strip(), safe='')}?quarter={quote(quarter)}")

    @router.get("/compliance/loan/{loan_id}")
    def loan(request: Request, loan_id: str, quarter: str = "") -> Response:
        cx.require(request, *ROLES)
        import polars as pl

        from fengkong.pricing.cost import annualised_cost
        from fengkong.pricing.disclosure import disclosure_table
        from fengkong.pricing.schedule import build_schedule
        from fengkong.pricing.vector import product_of_row

        rep = report(cx, quarter or None)
        rows = rep.loans.filter(pl.col("loan_id") == loan_id) if rep is not None else None
        if rows is None or rows.height == 0:
            loans = _loans(cx)
            if loans is None or loans.filter(pl.col("loan_id") == loan_id).height == 0:
                return cx.page(request, "message.html", code=404, message="Not found.")
            from fengkong.pricing.vector import loans_apr

            rows = loans_apr(loans.filter(pl.col("loan_id") == loan_id))
        row = rows.row(0, named=True)
        sched = build_schedule(product_of_row(row))
        table = disclosure_table(sched, annualised_cost(sched))
        store.admin.append(cx.require(request, *ROLES).username, "compliance.view_disclosure", f"loan:{loan_id}", {})
        return cx.page(request, "disclosure.html", loan_id=loan_id, row=row, d=table,
                       breakdown=rep.breakdown_of(loan_id) if rep is not None else [])

    @router.get("/compliance/subsidy")
    def subsidy_page(request: Request, branch: str = "", page: int = 1) -> Response:
        cx.require(request, *ROLES)
        run = subsidy(cx)
        if run is None:
            return cx.page(request, "message.html", message="No world data configured.")
        import polars as pl

        claims = run.claim_report()
        led = run.ledger.filter(pl.col("branch") == branch) if branch else run.ledger
        page = max(page, 1)
        return cx.page(request, "subsidy.html", run=run, claims=claims.to_dicts(), branch=branch, page=page,
                       ledger=led.sort("as_of", "customer_id").slice((page - 1) * 100, 100).to_dicts(),
                       more=led.height > page * 100, total=int(claims["subsidy_fen"].sum()) if claims.height else 0)

    @router.get("/compliance/download/{what}.xlsx")
    def download(request: Request, what: str, quarter: str = "") -> Response:
        s = cx.require(request, *ROLES)
        from fengkong.pricing.report import compliance_xlsx, subsidy_xlsx

        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / f"{what}.xlsx"
            if what == "compliance":
                rep = report(cx, quarter or None)
                if rep is None:
                    return Response("no data", status_code=404)
                compliance_xlsx(rep, p)
                name = f"compliance_{rep.quarter}.xlsx"
            elif what == "subsidy":
                run = subsidy(cx)
                if run is None:
                    return Response("no data", status_code=404)
                subsidy_xlsx(run, p)
                name = f"subsidy_{run.as_of.isoformat()}.xlsx"
            else:
                return Response("unknown download", status_code=404)
            body = p.read_bytes()
        store.admin.append(s.username, "compliance.download", name, {})
        return cx.raw(request, Response(body, media_type=XLSX,
                                        headers={"Content-Disposition": f'attachment; filename="{name}"'}))
