"""The comprehensive financing cost disclosure table (综合融资成本明示表, DOMAIN.md §1.6), generated from the
same cost ledger as the cap check: each item, how and on what it is charged, its annualised level, its payee."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fengkong.pricing.cost import CostResult
from fengkong.pricing.errors import PricingError
from fengkong.pricing.schedule import Schedule
from fengkong.settings import business_now

STATEMENT = ("Apart from the items listed in this table, the lender and its partners will not charge any other "
             "interest or fee related to this loan. / 除本表所列项目外，贷款人及其合作机构不收取其他与本笔贷款相关的利息和费用。")
COLLECTION = {"upfront": "deducted at disbursement", "per_period": "with each installment", "end": "at maturity"}


def _pct(x: Any) -> str:
    return f"{float(x) * 100:.2f}%"


def _standard(schedule: Schedule, name: str) -> str:
    p = schedule.product
    if name == "interest":
        if p.method == "daily_rate":
            d = p.daily_rate if p.daily_rate is not None else p.rate / schedule.day_basis
            return (f"{float(d) * 100:.4f}% per day on the outstanding principal ({_pct(d * schedule.day_basis)} p.a., "
                    f"{schedule.day_basis}-day year)")
        first = (f"; the irregular first period ({schedule.periods[0].days} days) by actual days at annual ÷ "
                 f"{schedule.day_basis}" if p.irregular_first else "")
        return f"{_pct(p.rate)} p.a. on the outstanding principal ({p.method}){first}"
    if name == "installment_fee":
        if p.method == "fee_total":
            return f"{_pct(p.total_fee_rate)} of the principal in total, spread over {p.term} periods"
        return f"{_pct(p.fee_rate)} of the original principal per period"
    if name == "upfront_fee":
        return f"fixed {p.upfront_fee_fen / 100:,.2f} yuan"
    if name == "prepayment_fee":
        return "on the prepaid principal"
    for c in p.charges:
        if c.name == name:
            if c.amount_fen is not None:
                return f"fixed {c.amount_fen / 100:,.2f} yuan" + (" per period" if c.timing == "per_period" else "")
            base = {"original_principal": "of the original principal", "outstanding_principal":
                    "of the outstanding principal", "total_spread": "of the principal in total, spread evenly"}
            return f"{_pct(c.rate)} {base.get(c.basis, '')}" + (" per period" if c.timing == "per_period"
                                                                and c.basis != "total_spread" else "")
    return ""


def disclosure_table(schedule: Schedule, cost: CostResult,
                     contingent: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The disclosure table as a plain dict (persist it with the display and confirmation events)."""
    items = []
    for i in cost.items:
        if i.total_fen == 0 and i.name != "interest":
            continue
        items.append({"item": i.name, "kind": i.kind, "payee": i.payee, "collection": COLLECTION.get(i.timing, i.timing),
                      "standard": _standard(schedule, i.name), "amount_fen": i.total_fen,
                      "annualised": i.annualised_contribution})
    cont = []
    for c in contingent:
        if not c.get("name") or not c.get("standard") or not c.get("payee"):
            raise PricingError("contingent", "each contingent cost needs name, standard and payee")
        cont.append({"item": str(c["name"]), "standard": str(c["standard"]), "payee": str(c["payee"])})
    return {
        "principal_fen": schedule.product.principal_fen, "received_fen": schedule.received_fen,
        "term": schedule.product.term, "method": schedule.product.method,
        "start": schedule.product.start.isoformat(), "items": items,
        "apr_irr": cost.apr_irr, "convention": cost.convention, "total_cost_fen": cost.total_cost_fen,
        "contingent": cont, "statement": STATEMENT,
    }


def disclosure_html(table: dict[str, Any], path: Path) -> None:
    """Render the table as a one-page HTML document for display / signature."""
    rows = "".join(
        f"<tr><td>{html.escape(r['item'])}</td><td>{html.escape(r['collection'])}</td>"
        f"<td>{html.escape(r['standard'])}</td><td class=n>{r['amount_fen'] / 100:,.2f}</td>"
        f"<td class=n>{_pct(r['annualised'])}</td><td>{html.escape(r['payee'])}</td></tr>" for r in table["items"])
    cont = "".join(f"<tr><td>{html.escape(c['item'])}</td><td>{html.escape(c['standard'])}</td>"
                   f"<td>{html.escape(c['payee'])}</td></tr>" for c in table["contingent"]) or \
        "<tr><td colspan=3>none listed</td></tr>"
    doc = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>综合融资成本明示表</title>
<style>body{{font-family:'Noto Sans CJK SC',Arial,sans-serif;margin:28px;max-width:980px}}table{{border-collapse:collapse;
width:100%;margin:10px 0}}td,th{{border:1px solid #999;padding:6px 8px;font-size:14px}}th{{background:#eef2f7;text-align:left}}
td.n{{text-align:right}}.big{{font-size:22px;font-weight:bold}}</style></head><body>
<h1>综合融资成本明示表 · Comprehensive financing cost disclosure</h1>
<p>Loan principal 借款本金: <b>{table['principal_fen'] / 100:,.2f} yuan</b>; amount received 实际到手:
{table['received_fen'] / 100:,.2f} yuan; {table['term']} monthly periods ({html.escape(table['method'])});
from {table['start']}.</p>
<h2>Interest and fees under normal performance 正常履约情况下的利息和费用</h2>
<table><tr><th>Item 项目</th><th>Collection 收取方式</th><th>Standard 收费标准</th><th>Amount (yuan) 金额</th>
<th>Annualised 年化水平</th><th>Collected by 收取主体</th></tr>{rows}</table>
<p>Annualised comprehensive financing cost under normal performance 正常履约年化综合融资成本:
<span class="big">{_pct(table['apr_irr'])}</span><br><small>{html.escape(table['convention'])};
total cost {table['total_cost_fen'] / 100:,.2f} yuan.</small></p>
<h2>Costs on default 违约情形下的费用</h2>
<table><tr><th>Item 项目</th><th>Standard 标准</th><th>Collected by 收取主体</th></tr>{cont}</table>
<p><b>{html.escape(table['statement'])}</b></p>
<p>Generated {business_now().strftime('%Y-%m-%d %H:%M')} (Asia/Shanghai).</p>
</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
