"""CLI: ``fengkong price``, ``fengkong compliance`` and ``fengkong subsidy run|report``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

subsidy_app = typer.Typer(help="Consumption-loan interest subsidy (个人消费贷款财政贴息).", no_args_is_help=True)


def _fail(exc: Exception) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
    raise typer.Exit(2)


def _console():
    from rich.console import Console

    c = Console()
    return c if c.is_terminal else Console(width=140)


def _date(value: str | None, name: str) -> dt.date | None:
    from fengkong.pricing.errors import PricingError

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PricingError(name, f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def _read(path: Path, event_type: str | None = None):
    """Read an event file (Parquet/CSV/JSONL) with row-level quarantine; report what was set aside."""
    from rich.console import Console

    from fengkong import eventio, pii

    try:
        tok = pii.tokenizer()
    except pii.PiiKeyError:
        tok = None
    res = eventio.read_events(path, event_type=event_type, tokenizer=tok)
    if res.quarantined_rows:
        Console(stderr=True).print(f"[yellow]{path}: {res.quarantined_rows} bad rows quarantined → "
                                   f"{res.quarantine_path}; first: {res.errors[0]}[/yellow]")
    return res.frame


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
    lender_type: str = typer.Option("consumer_finance", "--lender-type", help="bank | consumer_finance | "
                                    "micro_loan | trust | auto_finance | private"),
    channel: str = typer.Option("own", "--channel", help="own | zhudai (internet loan facilitation)."),
    prepay_after: int = typer.Option(None, "--prepay-after", help="Also price early repayment after period N."),
    disclosure_out: Path = typer.Option(None, "--disclosure-html", help="Write the disclosure table (明示表) as HTML."),
    config: Path = typer.Option(None, "--config", help="Pricing configuration override (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
) -> None:
    """Schedule, annualised cost by every method, per-item breakdown and the cap check of one offer."""
    import yaml

    from fengkong.pricing import annualised_cost, build_schedule, check_offer, prepay, product_from_mapping
    from fengkong.pricing.config import load_config
    from fengkong.pricing.errors import PricingError

    try:
        cfg = load_config(config)
        base: dict[str, Any] = {}
        if product is not None:
            if not product.is_file():
                raise PricingError("product", f"file not found: {product}")
            try:
                base = yaml.safe_load(product.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise PricingError("product", f"{product} is not valid YAML: {exc}") from None
            if not isinstance(base, dict):
                raise PricingError("product", "the product file must hold a mapping")
        m = method or base.get("method") or "equal_installment"
        if m == "fee_total" and total_fee_rate is None and fee_rate is not None:
            total_fee_rate, fee_rate = fee_rate * (term or int(base.get("term", 0) or 0)), None
        _date(start, "start")
        _date(first_due, "first_due")
        p = product_from_mapping(base, principal=principal, term=term, method=m, rate=rate, fee_rate=fee_rate,
                                 total_fee_rate=total_fee_rate, daily_rate=daily_rate, upfront_fee=upfront_fee,
                                 start=start or base.get("start") or dt.date.today().isoformat(), first_due=first_due)
        sched = build_schedule(p)
        cost = annualised_cost(sched)
        try:
            cap = check_offer(cost, p.start, lender_type, channel, cfg)
        except PricingError as exc:
            raise PricingError("start" if exc.field == "date" else exc.field, exc.reason) from None
        from fengkong.pricing.disclosure import disclosure_table

        disclosure = disclosure_table(sched, cost, base.get("contingent") or ())
        if disclosure_out is not None:
            from fengkong.pricing.disclosure import disclosure_html

            disclosure_html(disclosure, disclosure_out)
        early = None
        if prepay_after is not None:
            es = prepay(sched, prepay_after)
            early = {"after_period": prepay_after, "schedule": es, "cost": annualised_cost(es)}
    except PricingError as exc:
        _fail(exc)
        return
    if as_json:
        out = _price_json(sched, cost, cap)
        out["disclosure"] = disclosure
        if early:
            out["early_repayment"] = {"after_period": prepay_after, "apr_irr": early["cost"].apr_irr,
                                      "total_cost_fen": early["cost"].total_cost_fen,
                                      "schedule": _periods(early["schedule"])}
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        _price_terminal(sched, cost, cap, early)
    if not cap.allowed:  # the offer is blocked: exit 1 after showing the evidence
        raise typer.Exit(1)


def _periods(sched) -> list[dict[str, Any]]:
    out = []
    for per in sched.periods:
        d = {"no": per.no, "due_date": per.due_date.isoformat(), "principal_fen": per.principal_fen,
             "interest_fen": per.interest_fen}
        d.update({f"{k}_fen": v for k, v in per.fees.items()})
        d["total_fen"] = per.total_fen
        out.append(d)
    return out


def _price_json(sched, cost, cap) -> dict[str, Any]:
    return {
        "principal_fen": sched.product.principal_fen, "received_fen": sched.received_fen,
        "term": sched.product.term, "method": sched.product.method, "contract_rate": float(sched.product.rate),
        "apr_irr": cost.apr_irr, "periodic_irr": cost.periodic_irr, "periods_per_year": cost.periods_per_year,
        "ear": cost.ear, "apr_simple": cost.apr_simple, "apr_xirr_monthly": cost.apr_xirr_monthly,
        "nominal_flat_rate_diagnostic_only": cost.nominal_flat_rate, "convention": cost.convention,
        "total_cost_fen": cost.total_cost_fen, "upfront_fen": dict(sched.upfront), "schedule": _periods(sched),
        "items": [i.__dict__ for i in cost.items], "cap_check": cap.to_dict(),
    }


def _price_terminal(sched, cost, cap, early) -> None:
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
    from fengkong.events import EventValidationError
    from fengkong.pricing.compliance import monitor
    from fengkong.pricing.config import load_config
    from fengkong.pricing.errors import PricingError

    try:
        if not loans.is_file():
            raise PricingError("loans", f"file not found: {loans}")
        frame = _read(loans, "disbursement")
        from rich.console import Console

        with Console(stderr=True).status("computing the cost of every loan…"):
            rep = monitor(frame, quarter, as_of=_date(as_of, "as_of"), recent_days=recent_days,
                          what_if_cap=what_if_cap, what_if_from=_date(what_if_from, "what_if_from"),
                          config=load_config(config))
        if html_out:
            from fengkong.pricing.report import compliance_html

            compliance_html(rep, html_out)
        if xlsx_out:
            from fengkong.pricing.report import compliance_xlsx

            compliance_xlsx(rep, xlsx_out)
    except (PricingError, EventValidationError) as exc:
        _fail(exc)
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
    for p in (html_out, xlsx_out):
        if p:
            con.print(f"wrote {p}")


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
    """Decide eligibility, accrue, cap, deduct, post the differences to the ledger, report claims."""
    import polars as pl

    from fengkong import eventio
    from fengkong.events import EventValidationError
    from fengkong.pricing.config import load_config
    from fengkong.pricing.errors import PricingError
    from fengkong.pricing.subsidy import SubsidyRules
    from fengkong.pricing.subsidy_ledger import run_subsidy

    try:
        day = _date(as_of, "as_of")
        assert day is not None
        frames: dict[str, list[pl.DataFrame]] = {"purchase": [], "transfer": []}
        for path in transactions:
            if not path.is_file():
                raise PricingError("transactions", f"file not found: {path}")
            et = eventio.guess_event_type(path)
            if et not in frames:
                raise PricingError("transactions", f"{path} holds {et} events; expected purchase or transfer")
            frames[et].append(_read(path, et))
        loan_frame = _read(loans, "disbursement") if loans else None
        if frames["transfer"] and loan_frame is None:
            raise PricingError("loans", "transfer files need --loans to find each loan's rate and schedule")
        cust = _read(customers, "customer") if customers else None
        auth = None
        if authorizations:
            a = pl.read_csv(authorizations, infer_schema=False)
            if "customer_id" not in a.columns:
                raise PricingError("authorizations", "needs a customer_id column")
            auth = set(a["customer_id"].drop_nulls().to_list())
        from rich.console import Console

        with Console(stderr=True).status("deciding eligibility, accruing and posting the ledger…"):
            run = run_subsidy(pl.concat(frames["purchase"], how="diagonal_relaxed") if frames["purchase"] else None,
                              pl.concat(frames["transfer"], how="diagonal_relaxed") if frames["transfer"] else None,
                              loan_frame, day, rules=SubsidyRules.load(load_config(config)), ledger_path=ledger,
                              customers=cust, authorized=auth)
        if html_out:
            from fengkong.pricing.report import subsidy_html

            subsidy_html(run, html_out)
        if xlsx_out:
            from fengkong.pricing.report import subsidy_xlsx

            subsidy_xlsx(run, xlsx_out)
    except (PricingError, EventValidationError) as exc:
        _fail(exc)
        return
    claims = run.claim_report()
    if as_json:
        typer.echo(json.dumps({
            "as_of": day.isoformat(), "items": run.items.height,
            "eligible": int((run.items["reason"] == "ELIGIBLE").sum()),
            "decisions": dict(run.items.group_by("reason").len().iter_rows()),
            "posted_entries": run.posted.height, "ledger_entries": run.ledger.height,
            "subsidy_fen": int(run.ledger["subsidy_fen"].sum()), "deducted_fen": int(run.ledger["deducted_fen"].sum()),
            "claims": claims.to_dicts(), "ledger": str(ledger)}, ensure_ascii=False))
        return
    _claims_terminal(claims, run.posted.height, ledger)


def _claims_terminal(claims, posted: int, ledger: Path) -> None:
    from rich.table import Table

    from fengkong.pricing.report import yuan

    t = Table(title="Subsidy claims per branch and quarter")
    for c in ("institution", "branch", "quarter", "borrowers", "subsidy (yuan)", "deducted (yuan)"):
        t.add_column(c, justify="right" if c in ("borrowers",) or "yuan" in c else "left")
    for r in claims.iter_rows(named=True):
        t.add_row(r["institution_id"], r["branch"], r["quarter"], f"{r['borrowers']:,}", yuan(r["subsidy_fen"]),
                  yuan(r["deducted_fen"]))
    con = _console()
    con.print(t)
    con.print(f"{posted} ledger entries posted → {ledger}")


@subsidy_app.command("report")
def subsidy_report(
    ledger: Path = typer.Option(Path(".fengkong/subsidy_ledger.parquet"), "--ledger", help="Ledger file."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
) -> None:
    """Quarterly claim report per institution branch from the ledger."""
    import polars as pl

    from fengkong.pricing.errors import PricingError
    from fengkong.pricing.subsidy_ledger import SubsidyRun, _read

    if not ledger.is_file():
        _fail(PricingError("ledger", f"file not found: {ledger}"))
    led = _read(ledger)
    run = SubsidyRun(items=pl.DataFrame(), state=pl.DataFrame(), posted=led.clear(), ledger=led,
                     as_of=led["as_of"].max() if led.height else dt.date.today())  # type: ignore[arg-type]
    claims = run.claim_report()
    if as_json:
        typer.echo(json.dumps({"claims": claims.to_dicts(), "ledger_entries": led.height}, ensure_ascii=False))
        return
    _claims_terminal(claims, 0, ledger)


def register(app: typer.Typer) -> None:
    app.command("price")(price)
    app.command("compliance")(compliance)
    app.add_typer(subsidy_app, name="subsidy")
