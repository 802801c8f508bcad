"""``fengkong labels export`` (case feedback as a training target) and ``fengkong cases import``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from fengkong.errors import fail

DB_HELP = "Store URL (SQLAlchemy); default $FENGKONG_DB or ./fengkong.db."


def _store(db: str | None):
    from fengkong.store import open_error_line, open_store

    try:
        return open_store(db)
    except Exception as exc:
        fail(open_error_line(exc))


def register(app: typer.Typer) -> None:
    labels = typer.Typer(help="Labels written by case decisions (confirmed fraud, false positive, …).",
                         no_args_is_help=True)
    cases = typer.Typer(help="The case store: review outcomes and alerts worked in the console.", no_args_is_help=True)
    app.add_typer(labels, name="labels")
    app.add_typer(cases, name="cases")

    @labels.command("export")
    def export(out: Path = typer.Option(..., "--out", help="Output file (.parquet or .csv)."),
               kind: str = typer.Option("request", help="Subject kind: request, customer, identity, ring, all."),
               db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
        """Newest label per subject with a 0/1 target (fraud/bad = 1, good = 0); request labels carry
        ``event_id`` so they join the modeling pack's training sample."""
        from fengkong.casework import export_labels
        from fengkong.outpath import check_out
        from fengkong.store.labels import SUBJECT_KINDS

        if kind != "all" and kind not in SUBJECT_KINDS:
            fail(f"--kind must be one of {', '.join(SUBJECT_KINDS)}, all; not {kind!r}")
        check_out(out)
        st = _store(db)
        try:
            n = export_labels(st, out, None if kind == "all" else kind)
        except ValueError as exc:
            fail(str(exc))
        finally:
            st.close()
        Console(highlight=False).print(f"{n} labels written to {out}")

    @cases.command("import")
    def import_cases(db: str = typer.Option(None, "--db", help=DB_HELP),
                     world: Path = typer.Option(None, help="World directory: amounts and identity tokens of the "
                                                "reviewed events (else cases carry the decision only).")) -> None:
        """Open a case for every stored ``review`` decision that has none (idempotent)."""
        from fengkong.casework import cases_from_decisions

        st = _store(db)
        try:
            events = {}
            if world is not None:
                from fengkong.casework import review_events

                events = review_events(world, st)
            n = cases_from_decisions(st, events)
        finally:
            st.close()
        Console(highlight=False).print(f"{n} cases opened")
