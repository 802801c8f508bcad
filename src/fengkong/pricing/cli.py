"""CLI: ``fengkong price``, ``fengkong compliance`` and ``fengkong subsidy run|report``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fengkong.errors import fail
from fengkong.pricing.price_view import (
    price_json,
    price_terminal,
    quote_json,
    risk_decline,
    risk_terminal,
    schedule_rows,
)

subsidy_app = typer.Typer(help="Consumption-loan interest subsidy (个人消费贷款财政贴息).", no_args_is_help=True)


def _stderr():
    """The error console: never wraps, so one error is one line whatever the terminal width."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def _console():
    from rich.console import Console

    c = Console()
    return c if c.is_terminal else Console(width=140)


def _tokenizer():
    """The PII tokenizer for the event files read, or None when no key is configured (ids stay as given)."""
    from fengkong.events import pii

    return pii.optional_tokenizer()


def _warn(text: str) -> None:
    """Rows set aside while reading an event file: one yellow line on stderr."""
    from rich.text import Text

    _stderr().print(Text(text, style="yellow"), highlight=False)


def price(
    principal: float = typer.Option(None, "--principal", help="Principal in yuan."),
    term: int = typer.Option(None, "--term", help="Number of monthly periods."),
    method: str = typer.Option(None, "--method", help="equal_installment | equal_principal | interest_first | "
                               "fee_per_period | fee_total | daily_rate"),
    rate: float = typer.Option(None, "--rate", help="Annual contract interest rate, decimal (0.18)."),
    fee_rate: float = typer.Option(None, "--fee-rate", help="Per-period fee on the original principal, decimal "
                                   "(fee_total without --total-fee-rate: total = fee-rate × term)."),
    total_fee_rate: float = typer.Option(None, "--total-fee-rate", help="fee_total: total fee, decimal of principal."),
    daily_rate: float = typer.Option(None, "--daily-rate", help="daily_rate: interest per day, decimal (0.0005)."),
    upfront_fee: float = typer.Option(None, "--upfront-fee", help="Yuan deducted at disbursement."),
    start: str = typer.Option(None, "--start", help="Disbursement date (default today, Asia/Shanghai)."),
    first_due: str = typer.Option(None, "--first-due", help="First due date (default start + 1 month)."),
    product: Path = typer.Option(None, "--product", help="YAML product file (charges with payees, memberships)."),
    lender_type: str = typer.Option(None, "--lender-type", help="bank | consumer_finance | micro_loan | trust | "
                                    "auto_finance | private (default: risk_pricing.lender_type in the configuration)."),
    channel: str = typer.Option(None, "--channel", help="own | zhudai, internet loan facilitation (default: "
                                "risk_pricing.channel in the configuration)."),
    pd: float = typer.Option(None, "--pd", help="Risk-based price for this term probability of default (0–1): the "
                             "contract rate comes from the cost stack, not from --rate."),
    score: float = typer.Option(None, "--score", help="Risk-based price for this scorecard score "
                                "(PD from risk_pricing.score_to_pd)."),
    lgd: float = typer.Option(None, "--lgd", help="Loss given default for the risk price (default: risk_pricing.lgd)."),
    prepay_after: int = typer.Option(None, "--prepay-after", help="Also price early repayment after period N."),
    disclosure_out: Path = typer.Option(None, "--disclosure-html", help="Write the disclosure table (明示表) as HTML."),
    config: Path = typer.Option(None, "--config", help="Pricing configuration override (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
) -> None:
    """Schedule, annualised cost by every method, per-item breakdown and the cap check of one offer.

    With --pd or --score the contract rate is the risk-based price (funding + acquisition + expected loss +
    operating cost + margin, converted for the product's fees); when the cap cannot cover the risk the
    answer is "decline: PRICE_ABOVE_CAP" with the numbers, and the exit status is 1 (as for a blocked offer).
    """
    from fengkong.outpath import check_out
    from fengkong.pricing.disclosure import disclosure_html
    from fengkong.pricing.errors import PricingError
    from fengkong.pricing.offer import price_offer

    check_out(disclosure_out, "--disclosure-html")
    try:
        o = price_offer(principal, term, method=method, rate=rate, fee_rate=fee_rate, total_fee_rate=total_fee_rate,
                        daily_rate=daily_rate, upfront_fee=upfront_fee, start=start, first_due=first_due,
                        product=product, lender_type=lender_type, channel=channel, pd=pd, score=score, lgd=lgd,
                        prepay_after=prepay_after, config=config)
    except PricingError as exc:
        fail(str(exc))
        return
    if o.declined:
        risk_decline(o.product, o.quote, score, as_json)
        raise typer.Exit(1)
    if disclosure_out is not None:
        disclosure_html(o.disclosure, disclosure_out)
    sched, cost, cap, q, disclosure, early = o.schedule, o.cost, o.cap, o.quote, o.disclosure, o.early
    if as_json:
        out = price_json(sched, cost, cap)
        if q is not None:
            out["risk_price"] = quote_json(q, score)
        out["disclosure"] = disclosure
        if early:
            out["early_repayment"] = {"after_period": prepay_after, "apr_irr": early["cost"].apr_irr,
                                      "total_cost_fen": early["cost"].total_cost_fen,
                                      "schedule": schedule_rows(early["schedule"])}
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        if q is not None:
            risk_terminal(q, score)
        price_terminal(sched, cost, cap, early)
    if not cap.allowed:  # the offer is blocked: exit 1 after showing the evidence
        raise typer.Exit(1)


def compliance(
    loans: Path = typer.Option(..., "--loans", help="Disbursement events (Parquet/CSV/JSONL)."),
    quarter: str = typer.Option(..., "--quarter", help="Calendar quarter, e.g. 2026Q1."),
    as_of: str = typer.Option(None, "--as-of", help="Last day counted (default: last disbursement in the quarter)."),
    what_if_cap: float = typer.Option(None, "--what-if-cap", help="Cap new prices at this APR (decimal)..."),
    what_if_from: str = typer.Option(None, "--what-if-from", help="...from this date (default: the day after as-of)."),
    recent_days: int = typer.Option(14, "--recent-days", help="Days of recent business that define 'current mix'."),
    html_out: Path = typer.Option(None, "--html", help="Write an HTML report with plots."),
    xlsx_out: Path = typer.Option(None, "--xlsx", help="Write an Excel workbook."),
    config: Path = typer.Option(None, "--config", help="Pricing configuration override (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
) -> None:
    """Quarter-to-date cost compliance of newly issued loans: caps, weighted average, drivers, projection."""
    from fengkong.outpath import check_out

    check_out(html_out, "--html")
    check_out(xlsx_out, "--xlsx")
    from fengkong.events import EventValidationError
    from fengkong.pricing.errors import PricingError
    from fengkong.pricing.file_jobs import compliance_report

    try:
        with _stderr().status("computing the cost of every loan…"):
            rep = compliance_report(loans, quarter, as_of=as_of, recent_days=recent_days, what_if_cap=what_if_cap,
                                    what_if_from=what_if_from, config=config, warn=_warn, tokenizer=_tokenizer())
        if html_out:
            from fengkong.pricing.report import compliance_html

            compliance_html(rep, html_out)
        if xlsx_out:
            from fengkong.pricing.report import compliance_xlsx

            compliance_xlsx(rep, xlsx_out)
    except (PricingError, EventValidationError) as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(rep.to_dict(), ensure_ascii=False, default=str))
        return
    _compliance_terminal(rep, html_out, xlsx_out)


def _compliance_terminal(rep, html_out, xlsx_out) -> None:
    from rich.table import Table

    from fengkong.pricing.report import _status, pct, yuan

    con = _console()
    con.print(f"[bold]{rep.quarter}[/bold] to {rep.as_of}: {rep.loans.height:,} new loans, principal "
              f"{yuan(int(rep.loans['amount_fen'].sum()) if rep.loans.height else 0)} yuan; per-loan cap breaches: "
              f"{rep.breaches.height}")
    if rep.loans.height == 0:
        con.print(f"[yellow]No loan in the file was disbursed in {rep.quarter} up to {rep.as_of}.[/yellow]")
    t = Table(title="Average comprehensive cost of newly issued loans (IRR × 12, principal-weighted)")
    for c in ("lender type", "rule", "limit", "loans", "QTD average", "projected", "what-if", "needed on rest", "result"):
        t.add_column(c)
    for r in rep.rules:
        label, cls = _status(r)
        color = {"ok": "green", "bad": "red", "warn": "yellow"}[cls]
        t.add_row(r.lender_type, f"{r.rule_id} ({r.status})", pct(r.limit), f"{r.loans:,}", pct(r.weighted_apr),
                  pct(r.projected_apr), pct(r.projected_whatif_apr), pct(r.required_rest_apr),
                  f"[{color}]{label}[/{color}]")
    con.print(t)
    for r in rep.rules:
        d = Table(title=f"{r.lender_type}: loans driving the average")
        for c in ("loan", "disbursed", "principal", "method", "term", "APR", "contribution"):
            d.add_column(c)
        for x in r.drivers:
            d.add_row(str(x["loan_id"]), str(x["start"]), yuan(x["amount_fen"]), str(x["repayment_method"]),
                      str(x["term_months"]), pct(x["apr_irr"]), pct(x["contribution"], 3))
        con.print(d)
    _breaches_terminal(con, rep)
    for p in (html_out, xlsx_out):
        if p:
            con.print(f"wrote {p}")


def _breaches_terminal(con, rep, top: int = 10) -> None:
    """The highest-cost per-loan cap breaches with each cost item's payee and annualised contribution."""
    from rich.table import Table

    from fengkong.pricing.report import breach_rows, pct, yuan

    if rep.breaches.height == 0:
        return
    rows, items = breach_rows(rep, top)
    t = Table(title=f"Per-loan cap breaches: the {len(rows)} highest of {rep.breaches.height:,} "
                    "(each item's annualised contribution; the header names the payee)")
    for c in ("loan", "disbursed", "principal", "APR", "cap", "rule"):
        t.add_column(c, justify="right" if c in ("principal", "APR", "cap") else "left", no_wrap=True)
    for _, h in items:
        t.add_column(h.lower().replace(" → ", "\n→ "), justify="right")
    for r in rows:
        t.add_row(str(r["loan_id"]), str(r["start"]), yuan(r["amount_fen"]), pct(r["apr_irr"]), pct(r["cap"]),
                  str(r["cap_rule"]), *(pct(r.get(k)) for k, _ in items))
    con.print(t)


@subsidy_app.command("run")
def subsidy_run(
    transactions: list[Path] = typer.Option(..., "--transactions", help="Purchase and/or transfer event files "
                                             "(repeat the option)."),
    loans: Path = typer.Option(None, "--loans", help="Disbursement events (for transfers traced to loans)."),
    as_of: str = typer.Option(..., "--as-of", help="Accrue up to (not including) this date."),
    ledger: Path = typer.Option(Path(".fengkong/subsidy_ledger.parquet"), "--ledger", help="Ledger file (Parquet/CSV)."),
    customers: Path = typer.Option(None, "--customers", help="Customer events: province → claiming branch."),
    authorizations: Path = typer.Option(None, "--authorizations", help="CSV with customer_id of authorised accounts "
                                        "(default from configuration: all)."),
    html_out: Path = typer.Option(None, "--html", help="Write the claim report as HTML."),
    xlsx_out: Path = typer.Option(None, "--xlsx", help="Write the claim report, ledger and decisions as Excel."),
    config: Path = typer.Option(None, "--config", help="Pricing configuration override (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
) -> None:
    """Decide eligibility, accrue, cap, deduct from interest due, post the differences to the ledger, report
    claims (the claim is the subsidy actually deducted)."""
    from fengkong.outpath import check_out

    check_out(html_out, "--html")
    check_out(xlsx_out, "--xlsx")
    from fengkong.events import EventValidationError
    from fengkong.pricing.errors import PricingError
    from fengkong.pricing.file_jobs import subsidy_run as run_files
    from fengkong.pricing.file_jobs import subsidy_summary

    try:
        with _stderr().status("deciding eligibility, accruing and posting the ledger…"):
            run = run_files(transactions, as_of, loans=loans, ledger=ledger, customers=customers,
                            authorizations=authorizations, config=config, warn=_warn, tokenizer=_tokenizer())
        if html_out:
            from fengkong.pricing.report import subsidy_html

            subsidy_html(run, html_out)
        if xlsx_out:
            from fengkong.pricing.report import subsidy_xlsx

            subsidy_xlsx(run, xlsx_out)
    except (PricingError, EventValidationError) as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(subsidy_summary(run, ledger), ensure_ascii=False))
        return
    _claims_terminal(run.claim_report(), run.posted.height, ledger)


def _claims_terminal(claims, posted: int | None, ledger: Path) -> None:
    from rich.table import Table

    from fengkong.pricing.report import yuan

    t = Table(title="Subsidy claims per branch and quarter (claim = subsidy deducted from interest due)")
    for c in ("institution", "branch", "quarter", "borrowers", "accrued (yuan)", "claim (yuan)"):
        t.add_column(c, justify="right" if c in ("borrowers",) or "yuan" in c else "left")
    for r in claims.iter_rows(named=True):
        t.add_row(r["institution_id"], r["branch"], r["quarter"], f"{r['borrowers']:,}", yuan(r["accrued_fen"]),
                  yuan(r["subsidy_fen"]))
    con = _console()
    con.print(t)
    con.print(f"{posted} ledger entries posted → {ledger}" if posted is not None else f"ledger: {ledger}")


@subsidy_app.command("report")
def subsidy_report(
    ledger: Path = typer.Option(Path(".fengkong/subsidy_ledger.parquet"), "--ledger", help="Ledger file."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
) -> None:
    """Quarterly claim report per institution branch from the ledger."""
    from fengkong.pricing.errors import PricingError
    from fengkong.pricing.file_jobs import ledger_claims

    try:
        claims, entries = ledger_claims(ledger)
    except PricingError as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps({"claims": claims.to_dicts(), "ledger_entries": entries}, ensure_ascii=False))
        return
    _claims_terminal(claims, None, ledger)


def register(app: typer.Typer) -> None:
    app.command("price")(price)
    app.command("compliance")(compliance)
    app.add_typer(subsidy_app, name="subsidy")
