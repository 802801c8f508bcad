"""Compliance-officer reports: HTML (with plots) and Excel for the portfolio monitor and the subsidy run."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.pricing.compliance import ComplianceReport
from fengkong.pricing.render import _png, _table, _workbook, _write_html, _xlsx_sheet, pct, yuan
from fengkong.pricing.subsidy_ledger import SubsidyRun


def _status(r) -> tuple[str, str]:
    if r.weighted_apr <= r.limit:
        return "WITHIN LIMIT", "ok"
    return ("ABOVE LIMIT (transition period)", "warn") if r.in_transition else ("ABOVE LIMIT", "bad")


SEG_HEADERS = {"repayment_method": "Method", "term_months": "Term (months)", "channel": "Channel",
               "partner_id": "Partner"}
ITEM_LABELS = {"interest": "Interest", "installment_fee": "Installment fee", "upfront_fee": "Up-front fee",
               "guarantee_fee": "Guarantee fee"}


def transition_text(r) -> str:
    """The transition sentence of an average rule, from its configured dates."""
    start = f" from {r.transition_from}" if r.transition_from else ""
    if r.binding_from is None:
        return f"The rule is in its transition period{start}; the figure is monitored, not yet binding."
    due = r.binding_from - dt.timedelta(days=1)
    return (f"The rule is in its transition period in this quarter ({r.status}: transition{start}; the new-loan "
            f"average is to be within the limit by {due}, binding from {r.binding_from}); the figure is monitored, "
            "not yet binding.")


def breach_rows(rep: ComplianceReport, top: int | None = None) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The highest-cost breaches with each cost item's annualised contribution (key = item) and amount
    (key = item + '__fen'), and the (key, header) of every item that occurs, headers naming the payee."""
    b = rep.breaches if top is None else rep.breaches.head(top)
    rows = b.with_columns(pl.col("start").cast(pl.Utf8)).to_dicts() if b.height else []
    items: dict[str, str] = {}
    by_loan: dict[str, list[dict[str, Any]]] = {}
    for it in rep.breach_items.to_dicts() if rep.breach_items.height else []:
        by_loan.setdefault(it["loan_id"], []).append(it)
    for r in rows:
        r["excess"] = r["apr_irr"] - r["cap"] if r.get("cap") is not None else None
        for it in by_loan.get(r["loan_id"], []):
            items.setdefault(it["item"], f"{ITEM_LABELS.get(it['item'], it['item'])} → {it['payee']}")
            r[it["item"]] = it["annualised"]
            r[it["item"] + "__fen"] = it["amount_fen"]
    return rows, list(items.items())


def _projection_plot(plt, r, rep: ComplianceReport) -> str:
    """Cumulative average vs the limit, with the projection and the what-if drawn and labelled apart."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(9.5, 4))
    days = [dt.date.fromisoformat(d["start"]) for d in r.daily]
    ax.scatter(days, [d["day_avg"] * 100 for d in r.daily], s=9, color="#9aa5b1", alpha=0.7, label="daily average")
    ax.plot(days, [d["cum_avg"] * 100 for d in r.daily], color="#1f4e9c", lw=2.2,
            label="cumulative weighted average (quarter to date)")
    q_end = days[-1] + dt.timedelta(days=r.remaining_days)
    ax.axhline(r.limit * 100, color="#b3261e", ls="--", lw=1.3)
    ax.annotate(f"limit {pct(r.limit)}", (q_end, r.limit * 100), xytext=(4, 3), textcoords="offset points",
                color="#b3261e", fontsize=8, va="bottom", ha="right")
    ends = [("projected", "projection at the current mix", r.projected_apr, "#d9822b", (0, (5, 3)), "o")]
    if r.projected_whatif_apr is not None:
        ends.append(("what-if", f"what-if: new prices capped at {pct(rep.what_if_cap)} from {rep.what_if_from}",
                     r.projected_whatif_apr, "#2e8540", (0, (1, 2)), "s"))
    higher = max(e[2] for e in ends)
    for short, label, end, color, ls, marker in ends:
        ax.plot([days[-1], q_end], [r.weighted_apr * 100, end * 100], ls=ls, lw=2, color=color, label=label)
        ax.plot([q_end], [end * 100], marker=marker, color=color, ms=6)
        up = end == higher and len(ends) > 1
        ax.annotate(f"{short} {pct(end)}", (q_end, end * 100), xytext=(6, 5 if up else -12),
                    textcoords="offset points", color=color, fontsize=8, fontweight="bold")
    ax.axvline(days[-1], color="#555", lw=0.8, ls=":")
    ax.annotate(f"as of {rep.as_of}", (days[-1], 0), xycoords=("data", "axes fraction"), xytext=(3, 4),
                textcoords="offset points", fontsize=7, color="#555")
    ax.set_xlim(days[0] - dt.timedelta(days=1), q_end + dt.timedelta(days=14))
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_minor_locator(mdates.WeekdayLocator(byweekday=0))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f}%"))
    ax.set_ylabel("comprehensive cost (IRR × 12)")
    ax.legend(fontsize=8, loc="upper left", ncol=2, framealpha=0.9)
    ax.grid(alpha=0.3)
    return _png(fig)


def _histogram(plt, rep: ComplianceReport) -> str:
    """Number of loans by comprehensive cost, with the per-loan caps and average limits marked."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig, ax = plt.subplots(figsize=(9.5, 3.4))
    ax.hist(rep.loans["apr_irr"].to_numpy() * 100, bins=40, color="#4c78a8", edgecolor="white", lw=0.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(v):,}"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    marks = {c: ("per-loan cap", "#b3261e", "--") for c in rep.loans["cap"].drop_nulls().unique().to_list()}
    marks.update({r.limit: ("average limit", "#d9822b", ":") for r in rep.rules})
    for k, (x, (what, color, ls)) in enumerate(sorted(marks.items())):
        ax.axvline(x * 100, color=color, ls=ls, lw=1.3)
        ax.annotate(f"{what} {pct(x)}", (x * 100, ax.get_ylim()[1]), xytext=(4, -12 - 13 * k),
                    textcoords="offset points", color=color, fontsize=8,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    ax.set_xlabel("comprehensive cost of the loan (IRR × 12)")
    ax.set_ylabel("number of loans")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


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
        if r.description:
            parts.append(f"<p class='note'>{html.escape(r.description)}</p>")
        if r.in_transition:
            parts.append(f"<p class='warn'>{html.escape(transition_text(r))}</p>")
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
            parts.append(_projection_plot(plt, r, rep))
        parts.append("<h3>Loans driving the average (largest contribution above the limit)</h3>")
        parts.append(_table(r.drivers, [("loan_id", "Loan", "text"), ("start", "Disbursed", "text"),
                                        ("amount_fen", "Principal (yuan)", "yuan"), ("repayment_method", "Method", "text"),
                                        ("term_months", "Term (months)", "int"), ("apr_irr", "APR (IRR×12)", "pct"),
                                        ("contribution", "Contribution to excess (pp)", "pp")]))
        parts.append("<h3>Segments</h3>")
        seg_cols = [(k, SEG_HEADERS[k], "int" if k == "term_months" else "text") for k in SEG_HEADERS
                    if r.segments and k in r.segments[0]]
        parts.append(_table(r.segments, [*seg_cols, ("loans", "Loans", "int"), ("amount_fen", "Principal (yuan)", "yuan"),
                                         ("weighted_apr", "Weighted APR", "pct"),
                                         ("contribution", "Contribution to excess (pp)", "pp")]))
    if rep.loans.height:
        parts.append("<h2>Distribution of new-loan cost</h2>" + _histogram(plt, rep))
    parts.append("<h2>Per-loan cap breaches</h2>")
    rows, items = breach_rows(rep, 100)
    if rows:
        which = (f"All {len(rows)} breaches" if len(rows) == rep.breaches.height
                 else f"The {len(rows)} highest-cost of {rep.breaches.height:,} breaches (all are in the Excel workbook)")
        parts.append(f"<p class='note'>{which}, highest cost first. Each cost item column names the payee that "
                     "collects it and shows the item's annualised contribution (the contributions add up to the "
                     "APR) and, below it, the amount in yuan.</p>")
    if not rows:
        parts.append("<p class='ok'>No loan of the quarter is above the per-loan cap that applies to it.</p>")
    else:
        parts.append(_table(rows, [("loan_id", "Loan", "text"), ("start", "Disbursed", "text"),
                                   ("lender_type", "Lender", "text"), ("channel", "Channel", "text"),
                                   ("amount_fen", "Principal (yuan)", "yuan"), ("apr_irr", "APR (IRR×12)", "pct"),
                                   ("cap", "Cap", "pct"), ("cap_rule", "Rule", "text"),
                                   ("excess", "Above cap (pp)", "pp"), *((k, h, "item") for k, h in items)]))
    _write_html(path, f"Cost monitor {rep.quarter}", parts)


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
        if r.in_transition:
            row += 1
            ws.write(row, 0, transition_text(r))
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
        ("amount_fen", "Principal (yuan)", "yuan"), ("repayment_method", "Method", "text"), ("term_months", "Term (months)", "int"),
        ("apr_irr", "APR (IRR×12)", "pct"), ("contribution", "Contribution to excess (pp)", "pp")], f)
    segs = [dict(s, lender_type=r.lender_type) for r in rep.rules for s in r.segments]
    _xlsx_sheet(wb, "Segments", segs, [("lender_type", "Lender type", "text"), ("repayment_method", "Method", "text"),
                                       ("term_months", "Term (months)", "int"), ("channel", "Channel", "text"),
                                       ("partner_id", "Partner", "text"), ("loans", "Loans", "int"),
                                       ("amount_fen", "Principal (yuan)", "yuan"), ("weighted_apr", "Weighted APR", "pct"),
                                       ("contribution", "Contribution to excess (pp)", "pp")], f)
    loan_cols = [("loan_id", "Loan", "text"), ("start", "Disbursed", "text"), ("lender_type", "Lender", "text"),
                 ("channel", "Channel", "text"), ("repayment_method", "Method", "text"), ("term_months", "Term (months)", "int"),
                 ("amount_fen", "Principal (yuan)", "yuan"), ("total_cost_fen", "Total cost (yuan)", "yuan"),
                 ("apr_irr", "APR (IRR×12)", "pct"), ("cap", "Cap", "pct"), ("cap_rule", "Cap rule", "text")]
    def conv(d):
        return (d.with_columns(pl.col("start").cast(pl.Utf8)).to_dicts() if d.height else [])
    rows, items = breach_rows(rep)
    item_cols = [c for k, h in items for c in ((k, f"{h} (annualised)", "pct"), (f"{k}__fen", f"{h} (yuan)", "yuan"))]
    _xlsx_sheet(wb, "Breaches", rows, [*loan_cols, ("excess", "Above cap (pp)", "pp"), *item_cols], f)
    _xlsx_sheet(wb, "Breach cost items", rep.breach_items.to_dicts() if rep.breach_items.height else [], [
        ("loan_id", "Loan", "text"), ("item", "Item", "text"), ("kind", "Kind", "text"), ("payee", "Payee", "text"),
        ("timing", "Collected", "text"), ("amount_fen", "Amount (yuan)", "yuan"),
        ("annualised", "Annualised contribution", "pct")], f)
    _xlsx_sheet(wb, "Loans", conv(rep.loans), loan_cols, f)
    wb.close()


def subsidy_html(run: SubsidyRun, path: Path) -> None:
    """The subsidy claim report as HTML (see :mod:`fengkong.pricing.subsidy_report`)."""
    from fengkong.pricing.subsidy_report import subsidy_html as render

    render(run, path)


def subsidy_xlsx(run: SubsidyRun, path: Path) -> None:
    """The subsidy claim report, ledger and decisions as Excel (see :mod:`fengkong.pricing.subsidy_report`)."""
    from fengkong.pricing.subsidy_report import subsidy_xlsx as render

    render(run, path)
