"""CLI: ``fengkong events validate`` — check an event file, report and quarantine bad rows."""

from __future__ import annotations

from pathlib import Path

import typer

events_app = typer.Typer(help="Inspect and validate event files.", no_args_is_help=True)


@events_app.command("validate")
def validate(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="Parquet, CSV or JSON Lines file."),
    event_type: str = typer.Option(None, "--type", help="Event type (default: from the file name)."),
    quarantine: Path = typer.Option(None, help="Where to write bad rows (default: <file>.quarantine.jsonl)."),
    out: Path = typer.Option(None, help="Write the good rows here as Parquet."),
) -> None:
    """Validate an event file: good rows go on, each bad row is reported and quarantined."""
    from rich.console import Console

    from fengkong.events import files as eventio
    from fengkong.events import pii
    from fengkong.events.model import EventValidationError
    from fengkong.outpath import check_out

    check_out(quarantine, "--quarantine")
    check_out(out, "--out")
    console = Console()
    tok = None
    try:
        try:
            tok = pii.tokenizer()
        except pii.PiiKeyError:
            tok = None
        res = eventio.read_events(path, event_type=event_type, quarantine=quarantine, tokenizer=tok)
    except EventValidationError as exc:
        console.print(f"[red]error:[/red] {path}: {exc}")
        raise typer.Exit(2) from None
    for e in res.errors[:50]:
        console.print(f"[yellow]{path}:[/yellow] {e}")
    if len(res.errors) > 50:
        console.print(f"… and {len(res.errors) - 50} more errors (all in the quarantine file)")
    if out is not None:
        from fengkong.events.files import write_events

        write_events(res.frame, out)
    console.print(
        f"{res.frame.height} good rows, {res.quarantined_rows} quarantined"
        + (f" → {res.quarantine_path}" if res.quarantine_path else "")
    )
    raise typer.Exit(1 if res.quarantined_rows else 0)


@events_app.command("schema")
def schema() -> None:
    """Print the event model (every field, type, rule and meaning) as Markdown."""
    from fengkong.events.doc import render

    typer.echo(render(), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
