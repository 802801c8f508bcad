"""Compliance-officer reports: HTML (with plots) and Excel for the portfolio monitor and the subsidy run."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.pricing.compliance import ComplianceReport
from fengkong.pricing.subsidy_ledger import SubsidyRun

CSS = """body{font-family:'Noto Sans CJK SC','Noto Sans',Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px}
th{background:#f0f3f7;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#0a7d32;font-weight:bold}.bad{color:#b3261e;font-weight:bold}.warn{color:#b26a00;font-weight:bold}
.note{color:#555;font-size:12px}img{max-width:100%}"""


def yuan(fen: int | float | None) -> str:
    """Integer fen as a yuan string with thousands separators (exact; no float rounding)."""
    if fen is None:
        return ""
    f = round(fen)
    sign = "-" if f < 0 else ""
    q, r = divmod(abs(f), 100)
    return f"{sign}{q:,}.{r:02d}"


def pct(x: float | None, nd: int = 2) -> str:
    return "" if x is None or x != x else f"{x * 100:.{nd}f}%"


def _table(rows: list[dict[str, Any]], cols: list[tuple[str, str, str]]) -> str:
    """cols: (key, header, kind) with kind in text|yuan|pct|int."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in cols)
    body = []
    for r in rows:
        tds = []
        for k, _, kind in cols:
            v = r.get(k)
            if kind == "yuan":
                tds.append(f'<td class="n">{yuan(v)}</td>')
            elif kind == "pct":
                tds.append(f'<td class="n">{pct(v)}</td>')
            elif kind == "pp":
                tds.append(f'<td class="n">{"" if v is None else f"{v * 100:+.3f}"}</td>')
            elif kind == "int":
                tds.append(f'<td class="n">{"" if v is None else f"{int(v):,}"}</td>')
            else:
                tds.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _status(r) -> tuple[str, str]:
    if r.weighted_apr <= r.limit:
        return "WITHIN LIMIT", "ok"
    return ("ABOVE LIMIT (transition period)", "warn") if r.in_transition else ("ABOVE LIMIT", "bad")


def compliance_html(rep: ComplianceReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [f"<h1>Comprehensive financing cost monitor — {rep.quarter}</h1>",
             f"<p>Quarter to date through <b>{rep.as_of}</b>: {rep.loans.height:,} newly issued loans, principal "
             f"{yuan(int(rep.loans['amount_fen'].sum()) if rep.loans.height else 0)} yuan. "
             f"Per-loan cap breaches: <b class='{'bad' if rep.breaches.height else 'ok'}'>{rep.breaches.height}</b>.</p>",
             "<p class='note'>All rates: annualised comprehensive financing cost by the IRR method "
             "(monthly IRR × 12, every normal-performance charge including fees paid to guarantors, insurers, "
             "platforms and membership packages). Averages are weighted by principal. "
             f"Configuration: {html.escape(rep.config_source)}.</p>"]
    for r in rep.rules:
        label, cls = _status(r)
        parts.append(f"<h2>{html.escape(r.lender_type)}: {html.escape(r.rule_id)} (limit {pct(r.limit)}, "
                     f"status: {html.escape(r.status)})</h2>")
        if r.in_transition:
            parts.append("<p class='warn'>The rule is in its transition period in this quarter (reported guidance: "
                         "new-loan average to be brought within the limit by the end of Q1 2026); the figure is "
                         "monitored, not yet binding.</p>")
        parts.append(_table([{
            "a": "Quarter-to-date weighted average", "v": r.weighted_apr}, {
            "a": f"Projection to quarter end at the mix of the last {rep.recent_days} days", "v": r.projected_apr}, *(
            [{"a": f"What-if: new prices capped at {pct(rep.what_if_cap)} from {rep.what_if_from}",
              "v": r.projected_whatif_apr}] if r.projected_whatif_apr is not None else []), *(
            [{"a": "Highest average the rest of the quarter may carry and still end within the limit",
              "v": r.required_rest_apr}]
            if r.required_rest_apr is not None else [])],
            [("a", "Measure", "text"), ("v", "Rate", "pct")]))
        parts.append(f"<p>Result: <span class='{cls}'>{label}</span> — {r.loans:,} loans, principal "
                     f"{yuan(r.principal_fen)} yuan, excess {pct(r.excess)}; {r.remaining_days} days left, recent "
                     f"daily volume {yuan(r.recent_daily_principal_fen)} yuan.</p>")
        if r.daily:
            fig, ax = plt.subplots(figsize=(9, 3.6))
            days = [dt.date.fromisoformat(d["start"]) for d in r.daily]
            ax.plot(days, [d["cum_avg"] * 100 for d in r.daily], label="cumulative weighted average", lw=2)
            ax.scatter(days, [d["day_avg"] * 100 for d in r.daily], s=8, alpha=0.5, label="daily average")
            ax.axhline(r.limit * 100, color="#b3261e", ls="--", label=f"limit {pct(r.limit)}")
            q_end = days[-1] + dt.timedelta(days=r.remaining_days)
            ax.plot([days[-1], q_end], [r.weighted_apr * 100, r.projected_apr * 100], ls=":", color="gray",
                    label="projection (current mix)")
            if r.projected_whatif_apr is not None:
                ax.plot([days[-1], q_end], [r.weighted_apr * 100, r.projected_whatif_apr * 100], ls=":",
                        color="green", label="what-if")
            ax.set_ylabel("APR (IRR×12), %")
            ax.legend(fontsize=8, loc="best")
            ax.grid(alpha=0.3)
            parts.append(_png(fig))
        parts.append("<h3>Loans driving the average (largest contribution above the limit)</h3>")
        parts.append(_table(r.drivers, [("loan_id", "Loan", "text"), ("start", "Disbursed", "text"),
                                        ("amount_fen", "Principal (yuan)", "yuan"), ("repayment_method", "Method", "text"),
                                        ("term_months", "Term", "int"), ("apr_irr", "APR (IRR×12)", "pct"),
                                        ("contribution", "Contribution to excess (pp)", "pp")]))
        parts.append("<h3>Segments</h3>")
        seg_cols = [(k, k, "text") for k in ("repayment_method", "term_months", "channel", "partner_id")
                    if r.segments and k in r.segments[0]]
        parts.append(_table(r.segments, [*seg_cols, ("loans", "Loans", "int"), ("amount_fen", "Principal (yuan)", "yuan"),
                                         ("weighted_apr", "Weighted APR", "pct"),
                                         ("contribution", "Contribution to excess (pp)", "pp")]))
    if rep.loans.height:
        fig, ax = plt.subplots(figsize=(9, 3.2))
        ax.hist(rep.loans["apr_irr"].to_numpy() * 100, bins=40, weights=rep.loans["amount_fen"].to_numpy() / 100,
                color="#4c78a8")
        caps = sorted({c for c in rep.loans["cap"].drop_nulls().to_list()})
        for c in caps:
            ax.axvline(c * 100, color="#b3261e", ls="--")
        ax.set_xlabel("APR (IRR×12), %  — red: per-loan caps")
        ax.set_ylabel("principal (yuan)")
        parts.append("<h2>Distribution of new-loan cost (by principal)</h2>" + _png(fig))
    parts.append("<h2>Per-loan cap breaches</h2>")
    parts.append(_table(rep.breaches.head(100).with_columns(pl.col("start").cast(pl.Utf8)).to_dicts()
                        if rep.breaches.height else [],
                        [("loan_id", "Loan", "text"), ("start", "Disbursed", "text"), ("lender_type", "Lender", "text"),
                         ("channel", "Channel", "text"), ("amount_fen", "Principal (yuan)", "yuan"),
                         ("apr_irr", "APR (IRR×12)", "pct"), ("cap", "Cap", "pct"), ("cap_rule", "Rule", "text")]))
    _write_html(path, f"Cost monitor {rep.quarter}", parts)


def _write_html(path: Path, title: str, parts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(title)}"
                    f"</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>", encoding="utf-8")


def _xlsx_sheet(wb, name: str, rows: list[dict[str, Any]], cols: list[tuple[str, str, str]], fmts) -> None:
    ws = wb.add_worksheet(name)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    for j, (k, h, kind) in enumerate(cols):
        ws.write(0, j, h, fmts["head"])
        sample = [r.get(k) for r in rows[:500]]
        longest = max([len(h)] + [len(str(v)) + (4 if kind == "yuan" else 0) for v in sample if v is not None])
        ws.set_column(j, j, min(48, max(10, longest + 2)))
    for i, r in enumerate(rows, start=1):
        for j, (k, _, kind) in enumerate(cols):
            v = r.get(k)
            if v is None:
                continue
            if kind == "yuan":
                ws.write_number(i, j, int(v) / 100, fmts["yuan"])
            elif kind == "pct":
                ws.write_number(i, j, float(v), fmts["pct"])
            elif kind == "pp":
                ws.write_number(i, j, float(v) * 100, fmts["pp"])
            elif kind == "int":
                ws.write_number(i, j, int(v))
            else:
                ws.write(i, j, str(v))
    ws.freeze_panes(1, 0)


def _workbook(path: Path):
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    fmts = {"head": wb.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1}),
            "yuan": wb.add_format({"num_format": "#,##0.00"}), "pct": wb.add_format({"num_format": "0.00%"}),
            "pp": wb.add_format({"num_format": "+0.000;-0.000"}), "title": wb.add_format({"bold": True, "font_size": 13})}
    return wb, fmts


def compliance_xlsx(rep: ComplianceReport, path: Path) -> None:
    wb, f = _workbook(path)
    ws = wb.add_worksheet("Summary")
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_column(0, 0, 75)
    ws.set_column(1, 1, 34)
    ws.write(0, 0, f"Comprehensive financing cost monitor — {rep.quarter}, quarter to date through {rep.as_of}",
             f["title"])
    ws.write(1, 0, "Rates: IRR method (monthly IRR × 12) incl. every normal-performance charge; principal-weighted.")
    ws.write(2, 0, "New loans quarter to date")
    ws.write_number(2, 1, rep.loans.height)
    ws.write(3, 0, "Per-loan cap breaches")
    ws.write_number(3, 1, rep.breaches.height)
    row = 5
    for r in rep.rules:
        ws.write(row, 0, f"{r.lender_type}: {r.rule_id} ({r.status})", f["head"])
        ws.write(row, 1, _status(r)[0], f["head"])
        lines = [("Limit", r.limit, "pct"), ("Loans", r.loans, "int"), ("Principal (yuan)", r.principal_fen, "yuan"),
                 ("Weighted average APR, quarter to date", r.weighted_apr, "pct"),
                 (f"Projected at quarter end (mix of last {rep.recent_days} days)", r.projected_apr, "pct")]
        if r.projected_whatif_apr is not None:
            lines.append((f"What-if: new prices capped at {pct(rep.what_if_cap)} from {rep.what_if_from}",
                          r.projected_whatif_apr, "pct"))
        if r.required_rest_apr is not None:
            lines.append(("Highest average the rest of the quarter may carry", r.required_rest_apr, "pct"))
        lines.append(("Days left in quarter", r.remaining_days, "int"))
        for label, v, kind in lines:
            row += 1
            ws.write(row, 0, label)
            if kind == "pct":
                ws.write_number(row, 1, float(v), f["pct"])
            elif kind == "yuan":
                ws.write_number(row, 1, int(v) / 100, f["yuan"])
            else:
                ws.write_number(row, 1, int(v))
        row += 2
    drivers = [dict(d, lender_type=r.lender_type) for r in rep.rules for d in r.drivers]
    _xlsx_sheet(wb, "Drivers", drivers, [
        ("lender_type", "Lender type", "text"), ("loan_id", "Loan", "text"), ("start", "Disbursed", "text"),
        ("amount_fen", "Principal (yuan)", "yuan"), ("repayment_method", "Method", "text"), ("term_months", "Term", "int"),
        ("apr_irr", "APR (IRR×12)", "pct"), ("contribution", "Contribution to excess (pp)", "pp")], f)
    segs = [dict(s, lender_type=r.lender_type) for r in rep.rules for s in r.segments]
    _xlsx_sheet(wb, "Segments", segs, [("lender_type", "Lender type", "text"), ("repayment_method", "Method", "text"),
                                       ("term_months", "Term", "int"), ("channel", "Channel", "text"),
                                       ("partner_id", "Partner", "text"), ("loans", "Loans", "int"),
                                       ("amount_fen", "Principal (yuan)", "yuan"), ("weighted_apr", "Weighted APR", "pct"),
                                       ("contribution", "Contribution to excess (pp)", "pp")], f)
    loan_cols = [("loan_id", "Loan", "text"), ("start", "Disbursed", "text"), ("lender_type", "Lender", "text"),
                 ("channel", "Channel", "text"), ("repayment_method", "Method", "text"), ("term_months", "Term", "int"),
                 ("amount_fen", "Principal (yuan)", "yuan"), ("total_cost_fen", "Total cost (yuan)", "yuan"),
                 ("apr_irr", "APR (IRR×12)", "pct"), ("cap", "Cap", "pct"), ("cap_rule", "Cap rule", "text")]
    def conv(d):
        return (d.with_columns(pl.col("start").cast(pl.Utf8)).to_dicts() if d.height else [])
    _xlsx_sheet(wb, "Breaches", conv(rep.breaches), loan_cols, f)
    _xlsx_sheet(wb, "Loans", conv(rep.loans), loan_cols, f)
    wb.close()


def subsidy_html(run: SubsidyRun, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    claims = run.claim_report()
    reasons = run.items.group_by("reason").agg(pl.len().alias("items"), pl.col("amount_fen").sum()).sort(
        "items", descending=True)
    parts = [f"<h1>Consumption-loan interest subsidy — claim report as of {run.as_of}</h1>",
             f"<p>{run.items.height:,} consumption items examined; "
             f"{int((run.items['reason'] == 'ELIGIBLE').sum()):,} eligible; "
             f"{run.posted.height:,} ledger entries posted in this run "
             f"(ledger holds {run.ledger.height:,}). Net subsidy {yuan(int(run.ledger['subsidy_fen'].sum()))} yuan, "
             f"deducted from interest {yuan(int(run.ledger['deducted_fen'].sum()))} yuan.</p>",
             "<p class='note'>Subsidy = eligible consumption principal × min(1 pp, 50 % of the contract rate) × days/365, "
             "accrued daily while the principal is outstanding, capped per borrower per institution; deducted from "
             "interest due and never below zero. Rule sets: 财金〔2025〕80号 for consumption in 2025, 财金〔2026〕1号 "
             "from 2026 (configuration).</p>", "<h2>Quarterly claims per branch</h2>",
             _table(claims.to_dicts(), [("institution_id", "Institution", "text"), ("branch", "Branch", "text"),
                                        ("quarter", "Quarter", "text"), ("borrowers", "Borrowers", "int"),
                                        ("subsidy_fen", "Subsidy (yuan)", "yuan"),
                                        ("deducted_fen", "Deducted from interest (yuan)", "yuan")])]
    if claims.height:
        agg = claims.group_by("quarter").agg(pl.col("subsidy_fen").sum()).sort("quarter")
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.bar(agg["quarter"].to_list(), (agg["subsidy_fen"].to_numpy() / 100))
        ax.set_ylabel("subsidy (yuan)")
        ax.grid(axis="y", alpha=0.3)
        parts.append(_png(fig))
    parts.append("<h2>Eligibility decisions</h2>")
    parts.append(_table(reasons.to_dicts(), [("reason", "Decision", "text"), ("items", "Items", "int"),
                                             ("amount_fen", "Amount (yuan)", "yuan")]))
    _write_html(path, f"Subsidy {run.as_of}", parts)


def subsidy_xlsx(run: SubsidyRun, path: Path) -> None:
    wb, f = _workbook(path)
    _xlsx_sheet(wb, "Claims", run.claim_report().to_dicts(), [
        ("institution_id", "Institution", "text"), ("branch", "Branch", "text"), ("quarter", "Quarter", "text"),
        ("borrowers", "Borrowers", "int"), ("subsidy_fen", "Subsidy (yuan)", "yuan"),
        ("deducted_fen", "Deducted from interest (yuan)", "yuan")], f)
    _xlsx_sheet(wb, "Ledger", run.ledger.with_columns(pl.col("as_of").cast(pl.Utf8)).to_dicts(), [
        ("entry_id", "Entry", "text"), ("institution_id", "Institution", "text"), ("branch", "Branch", "text"),
        ("customer_id", "Customer", "text"), ("quarter", "Quarter", "text"), ("subsidy_fen", "Subsidy (yuan)", "yuan"),
        ("deducted_fen", "Deducted (yuan)", "yuan"), ("as_of", "Posted as of", "text"), ("kind", "Kind", "text")], f)
    _xlsx_sheet(wb, "Items", run.items.with_columns(pl.col("day").cast(pl.Utf8)).to_dicts(), [
        ("item_id", "Item", "text"), ("customer_id", "Customer", "text"), ("loan_id", "Loan", "text"),
        ("day", "Date", "text"), ("source", "Source", "text"), ("category", "Category", "text"),
        ("amount_fen", "Amount (yuan)", "yuan"), ("refunded_fen", "Refunded (yuan)", "yuan"),
        ("rule_id", "Rule set", "text"), ("reason", "Decision", "text"),
        ("eligible_base_fen", "Eligible base (yuan)", "yuan"), ("subsidy_rate", "Subsidy rate", "pct")], f)
    wb.close()
