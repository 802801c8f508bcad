"""CLI: ``fengkong simulate`` — write a synthetic credit world with planted patterns and ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fengkong.errors import fail


def simulate(
    out: Path = typer.Option(..., "--out", help="Output directory (created if missing)."),
    customers: int = typer.Option(10_000, help="Number of customers."),
    months: int | None = typer.Option(None, help="Length of the world in months (at least 3; default 3, "
                                      "11 for --population hard)."),
    population: str = typer.Option("default", help="Named parameter set: default, or hard (households, large "
                                   "employers, migrants, landlords, back book, look-alikes; docs/simulate.md)."),
    seed: int = typer.Option(7, help="Random seed; same seed + same PII key ⇒ byte-identical files."),
    start: str | None = typer.Option(None, help="First day, ISO date (default 2026-01-01, Asia/Shanghai)."),
    cash_loan_share: float | None = typer.Option(None, help="Share of applications for a cash loan."),
    purchases_per_month: float | None = typer.Option(None, help="Mean credit-line purchases per month."),
    base_bad_rate: float | None = typer.Option(None, help="Mean default probability of ordinary loans."),
    theft_rate: float | None = typer.Option(None, help="Identity-theft applications per customer."),
    attacker_device_reuse: bool | None = typer.Option(
        None, "--attacker-device-reuse/--no-attacker-device-reuse", help="Attackers reuse devices across victims."),
    deepfake_pass_share: float | None = typer.Option(None, help="Theft applications with normal face scores."),
    ring_member_share: float | None = typer.Option(None, help="Share of customers in debt-bearing rings."),
    ring_size_min: int | None = typer.Option(None, help="Smallest ring."),
    ring_size_max: int | None = typer.Option(None, help="Largest ring."),
    ring_burst_days: int | None = typer.Option(None, help="Days within which a ring's members first apply."),
    ring_forged_share: float | None = typer.Option(None, help="Ring applications with edited statements."),
    ring_agent_code_share: float | None = typer.Option(None, help="Rings whose applications carry agent_id."),
    ring_device_share: float | None = typer.Option(None, help="Ring applications from the agent's devices."),
    multi_head_share: float | None = typer.Option(None, help="Share of multi-head borrowers."),
    cash_out_share: float | None = typer.Option(None, help="Share of credit-line customers cashing out."),
    cash_out_merchants: int | None = typer.Option(None, help="Number of colluding cash-out merchants."),
    fund_misuse_share: float | None = typer.Option(None, help="Share of self-payment cash loans misused."),
    complaint_agents: int | None = typer.Option(None, help="Number of complaint agents (代理维权)."),
    organised_complaint_share: float | None = typer.Option(
        None, help="Share of loans entering collections that an agent recruits."),
    param: list[str] = typer.Option([], "--param", help="Any other SimConfig parameter as NAME=VALUE (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as one JSON object."),
) -> None:
    """Generate a deterministic synthetic 花呗-like world: events, outcomes, labels, manifest."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from fengkong.events import pii
    from fengkong.outpath import check_out
    from fengkong.simulate import SimConfigError, simulate_world
    from fengkong.simulate.options import config_from_options

    check_out(out, kind="dir")

    console = Console(stderr=True, soft_wrap=True)
    try:
        cfg = config_from_options(locals(), param, population=population)
        tok = pii.tokenizer()  # never a fresh key: tokens of the same person must not change
    except (SimConfigError, pii.PiiKeyError) as exc:
        fail(str(exc))
    with Progress(TextColumn("[bold]simulate[/bold] {task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=as_json) as bar:
        task = bar.add_task("people", total=9)

        def step(name: str, i: int, n: int) -> None:
            bar.update(task, completed=i, total=n, description=name)
        manifest = simulate_world(out, cfg, tokenizer=tok, progress=step)
    if as_json:
        print(json.dumps(manifest, ensure_ascii=False, sort_keys=True))
        return
    from rich.table import Table

    table = Table(title=f"world written to {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in manifest["rows"].items():
        table.add_row(name, f"{rows:,}")
    Console().print(table)
    labels = ", ".join(f"{p}: {sum(v.values())}" for p, v in manifest["labels"].items())
    Console().print(f"{manifest['events']:,} events; labels — {labels}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
