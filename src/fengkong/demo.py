"""The end-to-end demo (`fengkong demo`): simulate a credit world and run the platform over it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class DemoConfig:
    """Size of the demo world; small enough to run in about a minute on a laptop."""

    customers: int = 5_000
    months: int = 3
    seed: int = 20261124


def _counts_table(title: str, rows: list[tuple[str, int]], what: str) -> Table:
    t = Table(title=title)
    t.add_column(what)
    t.add_column("rows", justify="right")
    for name, n in rows:
        t.add_row(name, f"{n:,}")
    return t


def stage_simulate(out: Path, cfg: DemoConfig, console: Console) -> dict:
    """Simulate the world and print events per type and ground-truth labels per pattern."""
    from fengkong import pii
    from fengkong.simulate import SimConfig, simulate_world

    tok = pii.tokenizer(create=True)
    manifest = simulate_world(out / "world", SimConfig(customers=cfg.customers, months=cfg.months, seed=cfg.seed),
                              tokenizer=tok)
    world = out / "world"
    counts = [(p.stem, pl.scan_parquet(p).select(pl.len()).collect().item())
              for p in sorted(world.glob("*.parquet")) if p.stem not in ("labels", "outcomes")]
    console.print(_counts_table("Events per type", counts, "event type"))
    labels = pl.read_parquet(world / "labels.parquet").group_by("pattern").len().sort("pattern")
    console.print(_counts_table("Ground-truth labels per planted pattern", list(labels.iter_rows()), "pattern"))
    return manifest if isinstance(manifest, dict) else json.loads((world / "manifest.json").read_text())


STAGES = [stage_simulate]


def run(out: Path, cfg: DemoConfig, console: Console) -> None:
    """Run every stage of the demo into ``out``; everything printed is also saved to ``out/demo.log``."""
    out.mkdir(parents=True, exist_ok=True)
    for stage in STAGES:
        console.rule(stage.__doc__.split(":")[0] if stage.__doc__ else stage.__name__)
        stage(out, cfg, console)
    (out / "demo.log").write_text(console.export_text(clear=False), encoding="utf-8")


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("fengkong-demo"), help="Directory for the world, reports and the store."),
        customers: int = typer.Option(DemoConfig.customers, min=200, help="Customers in the simulated world."),
        seed: int = typer.Option(DemoConfig.seed, help="Simulation seed."),
    ) -> None:
        """Simulate a small credit world and run fengkong end to end over it (zero configuration)."""
        console = Console(record=True)
        run(out, DemoConfig(customers=customers, seed=seed), console)
        console.print(f"\n[green]Demo finished.[/green] Outputs in {out}/")
