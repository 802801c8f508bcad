"""Terminal and JSON views of one priced offer: schedule, cost by method, disclosure, cap check, risk price."""

from __future__ import annotations

import json
from typing import Any

import typer


def _console():
    from rich.console import Console

    c = Console()
    return c if c.is_terminal else Console(width=140)


def quote_json(q, score: float | None) -> dict[str, Any]:
    return {**q.to_dict(), "score": score,
            "answer": q.contract_rate if q.decision == "price" else f"decline: {q.reason}"}


def risk_decline(p, q, score: float | None, as_json: bool) -> None:
    """No offer: print the build-up and the decline with the numbers."""
    if as_json:
        typer.echo(json.dumps({
            "decision": "decline", "reason": q.reason, "principal_fen": p.principal_fen, "term": p.term,
            "method": p.method, "start": p.start.isoformat(), "risk_price": quote_json(q, score),
            "cap_check": {"allowed": False, "reason": q.reason, "required_apr": q.required_apr, "apr_irr": q.apr_irr,
                          "cap": q.cap, "rule_id": q.cap_rule}}, ensure_ascii=False))
        return
    risk_terminal(q, score)


def risk_terminal(q, score: float | None) -> None:
    from rich.table import Table

    from fengkong.pricing.report import pct

    con = _console()
    who = f"score {score:g} → PD {pct(q.pd)}" if score is not None else f"PD {pct(q.pd)}"
    t = Table(title=f"Risk-based price build-up ({who}, LGD {pct(q.lgd, 0)}; {q.lender_type}, {q.channel})")
    t.add_column("component")
    t.add_column("annual rate", justify="right")
    labels = {"funding_cost": "funding cost", "acquisition_cost": "acquisition cost (spread over the average balance)",
              "expected_loss": "expected loss PD × LGD × EAD (over the average balance)",
              "operating_cost": "operating cost", "target_margin": "target margin"}
    for k, v in q.components.items():
        t.add_row(labels.get(k, k), pct(v))
    t.add_row("[bold]required comprehensive cost (IRR × 12)[/bold]", f"[bold]{pct(q.required_apr)}[/bold]")
    con.print(t)
    cap = f"cap {pct(q.cap)} ({q.cap_rule})" if q.cap is not None else "no per-loan cap"
    if q.decision == "price":
        con.print(f"[green]price[/green]: contract rate [bold]{pct(q.contract_rate, 4)}[/bold] → comprehensive "
                  f"cost {pct(q.apr_irr)} (IRR × 12, fees included); {cap}")
        return
    got = (f"; with this product's fees the cost would be {pct(q.apr_irr)}" if q.apr_irr is not None else "")
    carry = f"; the cap covers a PD of at most {pct(q.max_pd)}" if q.max_pd is not None else ""
    con.print(f"[bold red]decline: {q.reason}[/bold red] — required {pct(q.required_apr)} > {cap}{got}{carry}")


def schedule_rows(sched) -> list[dict[str, Any]]:
    out = []
    for per in sched.periods:
        d = {"no": per.no, "due_date": per.due_date.isoformat(), "principal_fen": per.principal_fen,
             "interest_fen": per.interest_fen}
        d.update({f"{k}_fen": v for k, v in per.fees.items()})
        d["total_fen"] = per.total_fen
        out.append(d)
    return out


def price_json(sched, cost, cap) -> dict[str, Any]:
    return {
        "principal_fen": sched.product.principal_fen, "received_fen": sched.received_fen,
        "term": sched.product.term, "method": sched.product.method, "contract_rate": float(sched.product.rate),
        "apr_irr": cost.apr_irr, "periodic_irr": cost.periodic_irr, "periods_per_year": cost.periods_per_year,
        "ear": cost.ear, "apr_simple": cost.apr_simple, "apr_xirr_monthly": cost.apr_xirr_monthly,
        "nominal_flat_rate_diagnostic_only": cost.nominal_flat_rate, "convention": cost.convention,
        "total_cost_fen": cost.total_cost_fen, "upfront_fen": dict(sched.upfront), "schedule": schedule_rows(sched),
        "items": [i.__dict__ for i in cost.items], "cap_check": cap.to_dict(),
    }


def price_terminal(sched, cost, cap, early) -> None:
    from rich.table import Table

    from fengkong.pricing.report import pct, yuan

    con = _console()
    p = sched.product
    fee_names = sorted({k for per in sched.periods for k in per.fees})
    t = Table(title=f"Schedule: {yuan(p.principal_fen)} yuan, {p.term} × {p.method}, contract rate {pct(float(p.rate))}"
              + (f", received {yuan(sched.received_fen)} after up-front {yuan(sum(sched.upfront.values()))}"
                 if sched.upfront else ""))
    for c in ("#", "due", "principal", "interest", *fee_names, "total"):
        t.add_column(c, justify="right")
    for per in sched.periods:
        t.add_row(str(per.no), per.due_date.isoformat(), yuan(per.principal_fen), yuan(per.interest_fen),
                  *[yuan(per.fees.get(k, 0)) for k in fee_names], yuan(per.total_fen))
    con.print(t)
    m = Table(title="Annualised comprehensive financing cost")
    m.add_column("method")
    m.add_column("rate", justify="right")
    m.add_row("IRR method: periodic IRR × 12 (compliance figure)", pct(cost.apr_irr))
    m.add_row("Effective annual rate (1+IRR)^12 − 1", pct(cost.ear))
    m.add_row("Simple method on occupied principal (must be labelled 'simple')", pct(cost.apr_simple))
    m.add_row("XIRR on dates (Act/365F), monthly-equivalent × 12", pct(cost.apr_xirr_monthly))
    m.add_row("[dim]flat rate on original principal (diagnostic, not to display)[/dim]", pct(cost.nominal_flat_rate))
    con.print(m)
    con.print(f"[dim]{cost.convention}; total cost {yuan(cost.total_cost_fen)} yuan[/dim]")
    d = Table(title="Disclosure table (综合融资成本明示表): each item, payee, annualised level")
    for c in ("item", "kind", "payee", "timing", "amount (yuan)", "annualised contribution", "alone"):
        d.add_column(c, justify="right" if c.startswith(("amount", "annual", "alone")) else "left")
    for i in cost.items:
        if i.total_fen or i.name == "interest":
            d.add_row(i.name, i.kind, i.payee, i.timing, yuan(i.total_fen), pct(i.annualised_contribution),
                      pct(i.standalone_apr))
    con.print(d)
    if cap.cap is None:
        con.print("[yellow]Cap check: no per-loan cap applies[/yellow]")
    else:
        style = "green" if cap.allowed else "bold red"
        con.print(f"[{style}]Cap check: {cap.reason}[/{style}] — APR {pct(cap.apr_irr)} vs cap {pct(cap.cap)} "
                  f"({cap.rule_id}, {cap.status})")
    for r in cap.portfolio_rules:
        con.print(f"[dim]also applies: {r}[/dim]")
    if early:
        con.print(f"Early repayment after period {early['after_period']}: APR {pct(early['cost'].apr_irr)}, "
                  f"total cost {yuan(early['cost'].total_cost_fen)} yuan")
