"""The consumption-loan interest subsidy claim report: HTML (plots, branch bars) and Excel, with every rule
sentence generated from the effective configuration."""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from fengkong.pricing.render import _png, _table, _workbook, _write_html, _xlsx_sheet, pct, yuan
from fengkong.pricing.subsidy import SubsidyRules
from fengkong.pricing.subsidy_ledger import SubsidyRun

CLAIM_COLS = [("institution_id", "Institution", "text"), ("branch", "Branch", "text"), ("quarter", "Quarter", "text"),
              ("borrowers", "Borrowers", "int"), ("accrued_fen", "Accrued after caps (yuan)", "yuan"),
              ("subsidy_fen", "Claim: deducted from interest (yuan)", "yuan")]


def _pp(x) -> str:
    return f"{float(x) * 100:g}"


def rule_text(rules: SubsidyRules, as_of) -> list[str]:
    """Sentences describing the subsidy rules in force, generated from the configuration."""
    cfg = rules.cfg
    basis = int(cfg.get("day_count_basis", 365))
    on = ("eligible consumption principal still outstanding (it amortises with the loan)"
          if cfg.get("follow_repayment", True) else "the eligible consumption amount")
    window = "per calendar year" if cfg.get("cap_window") == "calendar_year" else "over the policy period"
    out = [f"Subsidy = {on} × subsidy rate × days/{basis}, accrued daily up to {rules.accrual_end(as_of)} "
           f"(the accrual end known on {as_of}), capped per borrower per institution {window}. It is granted by "
           "deducting it from the interest due on the eligible principal, never more than that interest (never "
           "below zero interest); the claim is the amount deducted."]
    for r in rules.rule_sets:
        rate = (f"min({_pp(r.rate)} pp, {_pp(r.max_share)} % of the contract rate)" if r.max_share is not None
                else f"{_pp(r.rate)} pp (no share-of-contract-rate cap)")
        caps = [f"total cap {yuan(r.total_cap_fen)} yuan"]
        if r.small_txn_cap_fen is not None:
            caps.append(f"of which {yuan(r.small_txn_cap_fen)} yuan for single transactions below "
                        f"{yuan(r.threshold_fen)} yuan")
        if r.per_txn_base_cap_fen is not None:
            caps.append(f"base per transaction at most {yuan(r.per_txn_base_cap_fen)} yuan")
        if r.sector_restriction:
            caps.append(f"transactions of {yuan(r.threshold_fen)} yuan or more only in key sectors")
        cards = {"excluded": "credit cards excluded", "bill_installments_only": "credit cards: bill installments only"}
        caps.append(cards.get(r.credit_cards, f"credit cards: {r.credit_cards}"))
        out.append(f"{r.document} ({r.id}), consumption {r.consumption_from} to {r.consumption_to}: rate {rate}, "
                   f"never above the contract rate; {'; '.join(caps)}.")
    return out


def _plots(run: SubsidyRun, claims: pl.DataFrame) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    money = FuncFormatter(lambda v, _: f"{v:,.0f}")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    elig = run.items.filter(pl.col("reason") == "ELIGIBLE")
    if elig.height:
        m = (elig.with_columns(pl.col("day").dt.strftime("%Y-%m").alias("month"))
             .group_by("month", "rule_id").agg(pl.col("eligible_base_fen").sum()).sort("month"))
        months = sorted(set(m["month"].to_list()))
        bottom = [0.0] * len(months)
        for k, rid in enumerate(sorted(set(m["rule_id"].to_list()))):
            got = dict(m.filter(pl.col("rule_id") == rid).select("month", "eligible_base_fen").iter_rows())
            vals = [got.get(mo, 0) / 100 for mo in months]
            a1.bar(months, vals, bottom=bottom, label=rid, color=("#4c78a8", "#f58518", "#54a24b")[k % 3])
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        a1.legend(fontsize=8, title="rule set", title_fontsize=8)
    a1.set_title("Eligible consumption principal by month (yuan)", fontsize=10)
    a1.yaxis.set_major_formatter(money)
    a1.tick_params(axis="x", labelsize=8, rotation=45)
    a1.grid(axis="y", alpha=0.3)
    q = claims.group_by("quarter").agg(pl.col("accrued_fen").sum(), pl.col("subsidy_fen").sum()).sort("quarter")
    xs = list(range(q.height))
    acc, got = q["accrued_fen"].to_numpy() / 100, q["subsidy_fen"].to_numpy() / 100
    a2.bar([x - 0.2 for x in xs], acc, width=0.4, color="#9ecae9", label="accrued after caps")
    a2.bar([x + 0.2 for x in xs], got, width=0.4, color="#1f4e9c", label="claim: deducted from interest")
    for x, v in zip(xs, got, strict=True):
        a2.annotate(f"{v:,.0f}", (x + 0.2, v), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    a2.set_xticks(xs, q["quarter"].to_list())
    a2.set_title("Subsidy per quarter, all branches (yuan)", fontsize=10)
    a2.yaxis.set_major_formatter(money)
    a2.legend(fontsize=8)
    a2.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _branch_bars(claims: pl.DataFrame) -> str:
    """Claim per branch over all quarters as a table with inline bars (the browser renders the names)."""
    b = (claims.group_by("branch").agg(pl.col("borrowers").sum(), pl.col("accrued_fen").sum(),
                                       pl.col("subsidy_fen").sum()).sort("subsidy_fen", descending=True))
    top = max(1, int(b["subsidy_fen"].max() or 0))  # type: ignore[arg-type]
    total = max(1, int(b["subsidy_fen"].sum()))
    rows = "".join(
        f"<tr><td>{html.escape(str(r['branch']))}</td><td class='n'>{r['borrowers']:,}</td>"
        f"<td class='n'>{yuan(r['subsidy_fen'])}</td><td class='n'>{pct(r['subsidy_fen'] / total, 1)}</td>"
        f"<td style='width:320px'><div style='background:#1f4e9c;height:11px;"
        f"width:{100 * r['subsidy_fen'] / top:.1f}%'></div></td></tr>" for r in b.iter_rows(named=True))
    return ("<table><tr><th>Branch</th><th>Borrower-quarters</th><th>Claim (yuan)</th><th>Share</th><th></th></tr>"
            f"{rows}</table>")


def subsidy_html(run: SubsidyRun, path: Path) -> None:
    rules = run.rules or SubsidyRules.load()
    claims = run.claim_report()
    reasons = run.items.group_by("reason").agg(pl.len().alias("items"), pl.col("amount_fen").sum()).sort(
        "items", descending=True) if run.items.height else pl.DataFrame()
    n_elig = int((run.items["reason"] == "ELIGIBLE").sum()) if run.items.height else 0
    parts = [f"<h1>Consumption-loan interest subsidy — claim report as of {run.as_of}</h1>",
             f"<p>{run.items.height:,} consumption items examined; {n_elig:,} eligible; "
             f"{run.posted.height:,} ledger entries posted in this run (ledger holds {run.ledger.height:,}). "
             f"Subsidy accrued after caps {yuan(int(run.ledger['accrued_fen'].sum()))} yuan; "
             f"<b>claim (deducted from interest due) {yuan(int(run.ledger['subsidy_fen'].sum()))} yuan</b>; the "
             "difference is accrual whose interest falls due after the as-of date.</p>",
             "".join(f"<p class='note'>{html.escape(t)}</p>" for t in rule_text(rules, run.as_of))]
    if claims.height:
        parts.append(_plots(run, claims))
        parts.append("<h2>Claim by branch (all quarters)</h2>" + _branch_bars(claims))
    parts += ["<h2>Quarterly claims per branch</h2>", _table(claims.to_dicts(), CLAIM_COLS),
              "<h2>Eligibility decisions</h2>",
              _table(reasons.to_dicts() if reasons.height else [], [
                  ("reason", "Decision", "text"), ("items", "Items", "int"), ("amount_fen", "Amount (yuan)", "yuan")])]
    _write_html(path, f"Subsidy {run.as_of}", parts)


def subsidy_xlsx(run: SubsidyRun, path: Path) -> None:
    wb, f = _workbook(path)
    rules = run.rules or SubsidyRules.load()
    ws = wb.add_worksheet("Rules")
    ws.set_column(0, 0, 160)
    for i, t in enumerate(rule_text(rules, run.as_of)):
        ws.write(i, 0, t)
    _xlsx_sheet(wb, "Claims", run.claim_report().to_dicts(), CLAIM_COLS, f)
    _xlsx_sheet(wb, "Ledger", run.ledger.with_columns(pl.col("as_of").cast(pl.Utf8)).to_dicts(), [
        ("entry_id", "Entry", "text"), ("institution_id", "Institution", "text"), ("branch", "Branch", "text"),
        ("customer_id", "Customer", "text"), ("quarter", "Quarter", "text"), ("accrued_fen", "Accrued (yuan)", "yuan"),
        ("subsidy_fen", "Deducted = claim (yuan)", "yuan"), ("as_of", "Posted as of", "text"), ("kind", "Kind", "text")],
        f)
    _xlsx_sheet(wb, "Items", run.items.with_columns(pl.col("day").cast(pl.Utf8)).to_dicts() if run.items.height else [], [
        ("item_id", "Item", "text"), ("customer_id", "Customer", "text"), ("loan_id", "Loan", "text"),
        ("day", "Date", "text"), ("source", "Source", "text"), ("category", "Category", "text"),
        ("amount_fen", "Amount (yuan)", "yuan"), ("refunded_fen", "Refunded (yuan)", "yuan"),
        ("rule_id", "Rule set", "text"), ("reason", "Decision", "text"),
        ("eligible_base_fen", "Eligible base (yuan)", "yuan"), ("subsidy_rate", "Subsidy rate", "pct")], f)
    wb.close()
