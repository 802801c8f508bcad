"""CLI: ``fengkong features backfill`` (training table) and ``fengkong features check`` (parity)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fengkong.errors import InputError, fail

features_app = typer.Typer(help="Compute features offline and check online/offline parity.", no_args_is_help=True)


def _load(events: Path, features: Path | None) -> tuple:
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world
    from fengkong.features import FeatureSpecError, load_features

    try:
        fs = load_features(features)
        df = read_world(events)
    except (FeatureSpecError, EventValidationError) as exc:
        fail(f"{exc}")
    return fs, df


@features_app.command("backfill")
def backfill_cmd(
    events: Path = typer.Option(..., "--events", exists=True, file_okay=False, help="World directory "
                                "(<type>.parquet files)."),
    out: Path = typer.Option(..., "--out", help="Output Parquet file: event_id + one column per feature."),
    features: Path = typer.Option(None, "--features", exists=True, dir_okay=False,
                                  help="Feature YAML (default: the standard library)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    engine: str = typer.Option("polars", "--engine", help="polars (this machine) or spark (--out becomes a "
                               "Parquet dataset partitioned by date; see docs/spark.md)."),
    master: str = typer.Option(None, "--master", help="Spark master, e.g. local[2] (engine spark)."),
) -> None:
    """Compute every declared feature for every event, point-in-time correct."""
    import time

    from rich.progress import Progress

    from fengkong.outpath import check_out

    check_out(out, kind="file" if engine == "polars" else "dir")
    if engine != "polars":
        from fengkong.packs import engine_task

        try:
            run = engine_task(engine, "backfill")
        except InputError as exc:
            fail(str(exc))
        run(events, out, features, master, as_json)
        return

    from fengkong.features.offline import backfill

    fs, df = _load(events, features)
    t0 = time.perf_counter()
    with Progress(transient=True, disable=as_json) as bar:
        task = bar.add_task("backfill", total=len(fs))

        def step(name: str) -> None:
            bar.update(task, advance=1, description=f"backfill {name}")

        table = backfill(df, fs, progress=step)
    table.write_parquet(out)
    secs = time.perf_counter() - t0
    if as_json:
        typer.echo(json.dumps({"events": df.height, "features": len(fs), "out": str(out),
                               "seconds": round(secs, 3)}))
    else:
        typer.echo(f"wrote {out}: {df.height} events x {len(fs)} features in {secs:.1f}s")


@features_app.command("check")
def check_cmd(
    events: Path = typer.Option(..., "--events", exists=True, file_okay=False, help="World directory."),
    features: Path = typer.Option(None, "--features", exists=True, dir_okay=False,
                                  help="Feature YAML (default: the standard library)."),
    store: str = typer.Option("memory", "--store", help="Online store for the replay: memory, sqlite, redis."),
    store_url: str = typer.Option(None, "--store-url", help="SQLite path or Redis URL for --store."),
    show: int = typer.Option(20, "--show", help="How many mismatches to print."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
) -> None:
    """Backfill offline, replay online, and report every value that differs (exit 1 if any)."""
    from rich.progress import Progress

    from fengkong.features import parity
    from fengkong.features.stores import StoreUnavailableError

    fs, df = _load(events, features)
    try:
        with Progress(transient=True, disable=as_json) as bar:
            task = bar.add_task("online replay", total=df.height)
            report = parity.check_with_store(df, fs, store, store_url, tick=lambda k: bar.update(task, advance=k))
    except (StoreUnavailableError, parity.StoreKindError) as exc:
        fail(f"{exc}")
    if as_json:
        typer.echo(json.dumps({"events": report.events, "features": report.features,
                               "mismatches": len(report.mismatches),
                               "examples": [str(m) for m in report.mismatches[:show]]}))
    else:
        for m in report.mismatches[:show]:
            typer.echo(f"mismatch: {m}")
        typer.echo(report.summary())
    raise typer.Exit(1 if report.mismatches else 0)


def register(app: typer.Typer) -> None:
    app.add_typer(features_app, name="features")
