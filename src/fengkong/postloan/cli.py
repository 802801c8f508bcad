"""CLI of the post-loan pack: ``fengkong postloan trace|alerts|action|evidence|report``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

from fengkong.errors import fail

postloan_app = typer.Typer(help="Post-loan: fund-flow tracing, alerts and cases, evidence packs, portfolio reports.",
                           no_args_is_help=True)
_EVENTS = typer.Option(..., "--events", "--world", exists=True, file_okay=False,
                       help="World / event directory (<event_type>.parquet files).")
_DB = typer.Option(None, "--db", help="Decision store URL (default $FENGKONG_DB or ./fengkong.db).")


def _history(events_dir: Path) -> tuple[Any, Any]:
    from rich.console import Console

    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world
    from fengkong.postloan.alerts import decide_history
    from fengkong.postloan.tracing import TracingError

    with Console(stderr=True).status("tracing and deciding every transfer…"):
        try:
            events = read_world(events_dir)
            return events, decide_history(events)
        except (EventValidationError, TracingError) as exc:
            fail(f"{events_dir}: {exc}")


@postloan_app.command("trace")
def trace_cmd(loan_id: str = typer.Argument(..., help="Loan id (disbursement loan_id)."), events: Path = _EVENTS,
              as_json: bool = typer.Option(False, "--json")) -> None:
    """The money of one loan: every traced outflow hop by hop, with the loan money attributed and its class."""
    from rich.console import Console
    from rich.table import Table

    from fengkong.postloan.alerts import loan_flows

    _, res = _history(events)
    try:
        v = loan_flows(res, loan_id)
    except KeyError:
        fail(f"loan {loan_id!r}: no disbursement with this loan_id in {events}")
    if as_json:
        typer.echo(json.dumps({k: x for k, x in v.items() if k != "account"}, ensure_ascii=False))
        return
    t = Table(title=f"loan {loan_id}: ¥{v['principal_fen'] / 100:,.2f} disbursed {v['disbursed_at']} to account "
                    f"{v['account']} (rule: loan money leaves first; {v['taxonomy']})")
    for c in ("ts", "hop", "amount ¥", "loan money ¥", "class", "from", "to"):
        t.add_column(c)
    for r in v["flows"]:
        t.add_row(r["ts"][:19], str(r["hop"]), f"{r['amount_fen'] / 100:,.2f}", f"{r['loan_money_fen'] / 100:,.2f}",
                  r["class"], r["from"], r["to"])
    Console().print(t)


@postloan_app.command("alerts")
def alerts_cmd(events: Path = _EVENTS, db: str = _DB,
               open_cases: bool = typer.Option(False, "--open-cases", help="Open one fund_flow case per loan and rule "
                                               "in the store (idempotent)."),
               chain: str = typer.Option(None, "--chain", help="Print the evidence chain of this alerting event id."),
               limit: int = typer.Option(20, help="Alerts to list."),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Fund-flow alerts of the reference transfer/disbursement strategies over a history, optionally as cases."""
    from rich.console import Console
    from rich.table import Table

    from fengkong.postloan.alerts import alert_summary, evidence_chain, render_chain

    _, res = _history(events)
    if chain:
        try:
            ch = evidence_chain(res, chain)
        except KeyError as exc:
            fail(str(exc.args[0]))
        typer.echo(json.dumps(ch, ensure_ascii=False, default=str) if as_json else render_chain(ch))
        return
    summary = alert_summary(res, limit)
    out: dict = {k: summary[k] for k in ("alerts", "loans", "by_rule")}
    if open_cases:
        from fengkong.postloan.alerts import open_cases as _open
        from fengkong.store import open_store

        st = open_store(db)
        try:
            out["cases"] = _open(st, res)
        finally:
            st.close()
    if as_json:
        out["listed"] = summary["listed"]
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    c = Console()
    t = Table(title=f"{out['alerts']:,} alerts on {out['loans']:,} loans ({res.strategies['transfer']}, "
                    f"{res.strategies['disbursement']})")
    for col in ("ts", "event", "rule", "loan", "class", "loan money ¥"):
        t.add_column(col)
    for r in summary["listed"]:
        t.add_row(r["ts"][:19], r["event_id"], r["rule"], r["loan_id"] or "-", r["class"] or "-",
                  f"{r['loan_money_fen'] / 100:,.2f}")
    c.print(t)
    c.print("by rule: " + ", ".join(f"{k} {v:,}" for k, v in out["by_rule"].items()))
    if "cases" in out:
        c.print(f"cases: {out['cases']['opened']:,} opened, {out['cases']['existing']:,} already open")


@postloan_app.command("cases")
def cases_cmd(db: str = _DB) -> None:
    """Open fund_flow cases for the post-loan alerts decided online (review decisions in the audit log)."""
    from fengkong.postloan.alerts import open_cases_from_decisions
    from fengkong.store import open_store

    st = open_store(db)
    try:
        n = open_cases_from_decisions(st)
    finally:
        st.close()
    typer.echo(f"cases: {n['opened']:,} opened, {n['existing']:,} already open")


@postloan_app.command("action")
def action_cmd(case_id: int = typer.Argument(...), action: str = typer.Argument(
        ..., help="warning | request_return | stop_drawdown | cut_line | early_recall | report"),
        note: str = typer.Option(..., "--note"), actor: str = typer.Option(..., "--actor"), db: str = _DB) -> None:
    """Record the action taken on the loan of a post-loan case (on the case's timeline)."""
    from fengkong.postloan.alerts import record_action
    from fengkong.store import open_store
    from fengkong.store.cases import CaseError

    st = open_store(db)
    try:
        c = st.cases.get(case_id, history=False)
        if c is None or c.source != "postloan":
            fail(f"case {case_id}: not a post-loan case")
        record_action(st, case_id, actor, action, note, loan_id=c.ref.partition(":")[0], amount_fen=c.amount_fen)
    except (ValueError, CaseError) as exc:
        fail(str(exc))
    finally:
        st.close()
    typer.echo(f"case {case_id}: {action} recorded")


@postloan_app.command("evidence")
def evidence_cmd(events: Path = _EVENTS, out: Path = typer.Option(..., "--out"),
                 loan: list[str] = typer.Option(None, "--loan", help="Loan ids (one pack each)."),
                 month: str = typer.Option(None, "--month", help="Period pack for this month, YYYY-MM."),
                 db: str = typer.Option(None, "--db", help="Store whose case timeline supplies the actions taken.")) -> None:
    """Write effective-control evidence packs (HTML + Excel) per loan and/or per month."""
    from fengkong.outpath import check_out
    from fengkong.postloan.evidence import loan_pack, period_pack, write_pack

    check_out(out, kind="dir")
    _, res = _history(events)
    st = None
    if db:
        from fengkong.store import open_store

        st = open_store(db)
    try:
        written = []
        for lid in loan or []:
            try:
                written += write_pack(loan_pack(res, lid, st), out, f"evidence_{lid}")
            except KeyError as exc:
                fail(str(exc.args[0]))
        if month:
            try:
                start = dt.date.fromisoformat(month + "-01")
            except ValueError:
                fail(f"--month {month!r}: expected YYYY-MM")
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            written += write_pack(period_pack(res, start, end, st), out, f"evidence_{month}")
        if not written:
            fail("give --loan and/or --month")
    finally:
        if st is not None:
            st.close()
    for p in written:
        typer.echo(str(p))


@postloan_app.command("report")
def report_cmd(world: Path = typer.Option(..., "--world", "--events", exists=True, file_okay=False,
                                          help="World / event directory."),
               out: Path = typer.Option(Path("postloan-report"), "--out", help="Where to write the report."),
               no_bcard: bool = typer.Option(False, "--no-bcard", help="Skip fitting the behaviour score.")) -> None:
    """Portfolio report: vintage curves, roll and flow rates, FPD/SPD and the B card (HTML + Excel)."""
    from rich.console import Console

    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world
    from fengkong.outpath import check_out
    from fengkong.postloan.report import build, write_report

    check_out(out, kind="dir")
    try:
        events = read_world(world)
    except EventValidationError as exc:
        fail(f"{world}: {exc}")
    with Console(stderr=True).status("vintage, roll rates, B card…"):
        rep = build(events, bcard=not no_bcard)
        paths = write_report(rep, out)
    b = rep["bcard"]
    if b is not None:
        typer.echo(f"B card: {', '.join(f'{k} {v:.3f}' for k, v in b.metrics.items() if k in ('auc', 'ks'))} "
                   f"(out of time, {b.test_n:,} loans)")
    elif rep["bcard_note"]:
        typer.echo(f"B card not fitted: {rep['bcard_note']}")
    for p in paths:
        typer.echo(str(p))


def register(app: typer.Typer) -> None:
    app.add_typer(postloan_app, name="postloan")
