"""The end-to-end demo (`fengkong demo`): simulate a credit world and run the platform over it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


class DemoWorld:
    """The demo's world, read once, and its point-in-time features (the standard library and every pack's),
    backfilled once: every section is handed this object instead of reading and backfilling again."""

    def __init__(self, out: Path) -> None:
        self.dir = out / "world"
        self._events: pl.DataFrame | None = None
        self._features: pl.DataFrame | None = None
        self.reads = 0  # how often the world was read and backfilled (once each, whatever the sections)
        self.backfills = 0

    @property
    def events(self) -> pl.DataFrame:
        """Every event of the world, validated, in time order."""
        if self._events is None:
            from fengkong.events.files import read_world

            self._events = read_world(self.dir)
            self.reads += 1
        return self._events

    @property
    def features(self) -> pl.DataFrame:
        """``event_id`` + every feature (standard and the packs'), point-in-time, for every event."""
        if self._features is None:
            from fengkong.features import load_features
            from fengkong.features.providers import ProviderContext, backfill_all

            self._features = backfill_all(self.events, load_features(), ProviderContext())
            self.backfills += 1
        return self._features


def _counts_table(title: str, rows: list[tuple[str, int]], what: str) -> Table:
    t = Table(title=title)
    t.add_column(what)
    t.add_column("rows", justify="right")
    for name, n in rows:
        t.add_row(name, f"{n:,}")
    return t


def stage_simulate(out: Path, cfg: DemoConfig, console: Console, world: DemoWorld) -> dict:
    """Simulate the world and print events per type and ground-truth labels per pattern."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from fengkong.events import pii
    from fengkong.simulate import SimConfig, simulate_world

    tok = pii.tokenizer(create=True)
    with Progress(TextColumn("[bold]simulate[/bold] {task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("people", total=9)

        def step(name: str, i: int, n: int) -> None:
            bar.update(task, completed=i, total=n, description=name)

        manifest = simulate_world(out / "world", SimConfig(customers=cfg.customers, months=cfg.months,
                                                           seed=cfg.seed), tokenizer=tok, progress=step)
    wdir = world.dir
    counts = [(p.stem, pl.scan_parquet(p).select(pl.len()).collect().item())
              for p in sorted(wdir.glob("*.parquet")) if p.stem not in ("labels", "outcomes")]
    console.print(_counts_table("Events per type", counts, "event type"))
    labels = pl.read_parquet(wdir / "labels.parquet").group_by("pattern").len().sort("pattern")
    console.print(_counts_table("Ground-truth labels per planted pattern", list(labels.iter_rows()), "pattern"))
    return manifest if isinstance(manifest, dict) else json.loads((wdir / "manifest.json").read_text())


def stage_features(out: Path, cfg: DemoConfig, console: Console, world: DemoWorld) -> None:
    """Point-in-time features: the standard library backfilled over every event of the world."""
    from fengkong.features import load_features

    fs = load_features()
    events = world.events
    table = world.features.select("event_id", *fs.names)  # the standard library's part of the one backfill
    table.write_parquet(out / "features.parquet")
    apps = table.join(events.filter(pl.col("event_type") == "application").select("event_id"), on="event_id")
    t = Table(title=f"{len(fs.names)} standard features × {table.height:,} events (application means shown)")
    t.add_column("feature")
    t.add_column("mean over applications", justify="right")
    t.add_column("max", justify="right")
    for name in fs.names[:12]:
        col = apps[name]
        if col.dtype.is_numeric():
            t.add_row(name, f"{col.mean():.3f}" if col.mean() is not None else "-",
                      f"{col.max()}" if col.max() is not None else "-")
    console.print(t)
    console.print(f"… and {max(len(fs.names) - 12, 0)} more; full table in features.parquet")


def stage_scorecard(out: Path, cfg: DemoConfig, console: Console, world: DemoWorld) -> None:
    """Application scorecard: trained on month 1–2 outcomes with the point-in-time features."""
    from fengkong.modeling.world import train_application_scorecard

    feats = pl.read_parquet(out / "features.parquet")
    _scorecard, res = train_application_scorecard(out / "world", feats)
    t = Table(title=f"Scorecard on {len(res['features'])} characteristics ({res['split']})")
    for c in ("sample", "n", "bad rate", "AUC", "KS", "Gini"):
        t.add_column(c, justify="right")
    for part in ("train", "test"):
        m = res[part]
        t.add_row(part, f"{m['n']:,}", f"{m['bad_rate']:.3f}", f"{m['auc']:.3f}", f"{m['ks']:.3f}",
                  f"{m['gini']:.3f}")
    console.print(t)


def stage_decisions(out: Path, cfg: DemoConfig, console: Console, world: DemoWorld) -> None:
    """Decisions: backtest the application strategy on months 1–2, replay month 3 online, audit."""
    from fengkong.engine import demo_story

    db = out / "fengkong.db"
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    demo_story(out / "world", db_url=f"sqlite:///{db}", console=console, events=world.events,
               features=world.features)


def stage_console(out: Path, cfg: DemoConfig, console: Console, world: DemoWorld) -> None:
    """The console: cases, a ring, strategy versions and compliance pages filled from the demo world."""
    from fengkong.console.demo import stage_console as run_console
    from fengkong.store import open_store

    with open_store(f"sqlite:///{out / 'fengkong.db'}") as store:
        run_console(out, store, console, events=world.events)


def stage_service(out: Path, cfg: DemoConfig, console: Console, world: DemoWorld) -> None:
    """The decision service, last: `fengkong serve` started briefly, a few events decided over HTTP."""
    from fengkong.service.demo import stage_service as run_service

    run_service(out, cfg, console)


#: The platform's own sections and where they go; the packs' sections (``Pack.demo``) fall in between.
Stage = Callable[[Path, DemoConfig, Console, DemoWorld], Any]
CORE_STAGES: list[tuple[int, Stage]] = [
    (10, stage_simulate), (20, stage_features), (30, stage_scorecard), (40, stage_decisions),
    (90, stage_console), (100, stage_service)]


def _title(fn: Callable[..., Any]) -> str:
    return fn.__doc__.split(":")[0] if fn.__doc__ else fn.__name__


def stages() -> list[tuple[str, Stage]]:
    """The demo's sections in order, (title, run): the core ones and every registered pack's (a pack's
    section is called as ``function(out, console, world)``, ``world`` the shared :class:`DemoWorld`)."""
    from fengkong.packs import load, packs

    items: list[tuple[int, str, Stage]] = [(order, _title(fn), fn) for order, fn in CORE_STAGES]
    for pack in packs():
        for section in pack.demo:
            fn = load(section.run)
            items.append((section.order, section.title or _title(fn),
                          lambda out, cfg, console, world, fn=fn: fn(out, console, world)))
    return [(title, fn) for _, title, fn in sorted(items, key=lambda x: x[0])]


def run(out: Path, cfg: DemoConfig, console: Console) -> DemoWorld:
    """Run every section of the demo into ``out``; everything printed is also saved to ``out/demo.log``.
    Returns the shared world (read and backfilled once)."""
    out.mkdir(parents=True, exist_ok=True)
    world = DemoWorld(out)
    for title, stage in stages():
        console.rule(title)
        stage(out, cfg, console, world)
    (out / "demo.log").write_text(console.export_text(clear=False), encoding="utf-8")
    return world


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("fengkong-demo"), help="Directory for the world, reports and the store."),
        customers: int = typer.Option(DemoConfig.customers, min=200, help="Customers in the simulated world."),
        seed: int = typer.Option(DemoConfig.seed, help="Simulation seed."),
    ) -> None:
        """Simulate a small credit world and run fengkong end to end over it (zero configuration)."""
        from fengkong.outpath import check_out

        check_out(out, kind="dir")
        console = Console(record=True)
        run(out, DemoConfig(customers=customers, seed=seed), console)
        console.print(f"\n[green]Demo finished.[/green] Outputs in {out}/")
