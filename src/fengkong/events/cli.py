"""CLI: ``fengkong events validate|convert|schema`` — check event files, quarantine bad rows, write JSON Lines."""

from __future__ import annotations

from pathlib import Path

import typer

from fengkong.errors import fail

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
    console = Console(soft_wrap=True, highlight=False)  # one error per line, unwrapped when piped
    try:
        res = eventio.read_events(path, event_type=event_type, quarantine=quarantine,
                                  tokenizer=pii.optional_tokenizer())
    except EventValidationError as exc:
        fail(f"{path}: {exc}")
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


@events_app.command("convert")
def convert(
    source: Path = typer.Argument(..., exists=True, help="A world directory (<type>.parquet files) or one Parquet, "
                                  "CSV or JSON Lines event file."),
    out: str = typer.Option("-", "--out", "-o", help="JSON Lines file to write, or - for stdout."),
    types: str = typer.Option(None, "--types", help="Comma-separated event types to keep (default: all)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Write only the first N events (in time order)."),
) -> None:
    """Write events as JSON Lines in time order (ts, event_id): the input of `fengkong decide` and the service.

    Every file is validated first; bad rows are quarantined beside their file and named on stderr."""
    import sys

    from fengkong.events import files as eventio
    from fengkong.events import pii
    from fengkong.events.model import EVENT_TYPES, EventValidationError

    wanted = tuple(t.strip() for t in types.split(",") if t.strip()) if types else EVENT_TYPES
    try:
        frame = eventio.events_in_time_order(source, wanted, limit, tokenizer=pii.optional_tokenizer(),
                                             on_bad_rows=_report_bad_rows)
    except eventio.EventTypeError as exc:
        fail(f"--types: {exc}")
    except EventValidationError as exc:
        fail(f"{source}: {exc}")
    if out != "-" and not Path(out).parent.is_dir():
        fail(f"--out: folder {Path(out).parent} does not exist")
    sink = sys.stdout.buffer if out == "-" else open(out, "wb")  # noqa: SIM115
    try:
        for line in eventio.iter_jsonl(frame):
            sink.write(line)
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
    if out != "-":
        typer.echo(f"{frame.height} events written to {out}", err=True)


def _report_bad_rows(path: Path, res: object) -> None:
    typer.echo(f"{path}: {res.quarantined_rows} bad rows quarantined to {res.quarantine_path} "  # type: ignore[attr-defined]
               f"(first: {res.errors[0]})", err=True)  # type: ignore[attr-defined]


@events_app.command("schema")
def schema() -> None:
    """Print the event model (every field, type, rule and meaning) as Markdown."""
    from fengkong.events.doc import render

    typer.echo(render(), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
