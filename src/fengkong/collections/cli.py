"""CLI of the collections pack: ``fengkong collections report`` (violations by agency and collector)."""

from __future__ import annotations

from pathlib import Path

import typer

from fengkong.errors import fail

collections_app = typer.Typer(help="Collection contact policy: the violation report.", no_args_is_help=True)


@collections_app.command("report")
def report(world: Path = typer.Argument(..., help="Directory of event files with collection_contact events."),
           collectors: Path = typer.Option(None, help="Registered caller numbers (collector_id, agency_id, "
                                           "caller_number_token); default <world>/collectors.parquet."),
           top: int = typer.Option(20, min=1, help="Rows to print.")) -> None:
    """Audit the recorded contacts against the contact policy; print violations by agency and collector."""
    import polars as pl
    from rich.console import Console

    from fengkong.collections.report import audit_contacts, registry_from_frame, violation_report
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world

    path = collectors or world / "collectors.parquet"
    if not path.exists():
        fail(f"{path}: no collector registry (needed to check caller numbers)")
    try:
        events = read_world(world)
    except EventValidationError as exc:
        fail(f"{world}: {exc}")
    aud = audit_contacts(events, registry_from_frame(pl.read_parquet(path)))
    Console().print(f"{int(aud['violation'].sum())} of {aud.height} contacts broke the policy")
    Console().print(violation_report(aud).head(top))


def register(app: typer.Typer) -> None:
    app.add_typer(collections_app, name="collections")
