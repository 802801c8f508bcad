"""CLI of the complaints pack: ``fengkong complaints groups`` and ``fengkong complaints not-me``."""

from __future__ import annotations

from pathlib import Path

import typer

from fengkong.errors import fail

complaints_app = typer.Typer(help="Organised complaints (groups → cases) and 'not me' claims.", no_args_is_help=True)


def _events(world: Path):
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world

    if not world.is_dir():
        fail(f"{world}: not a directory of event files")
    try:
        return read_world(world)
    except EventValidationError as exc:
        fail(f"{world}: {exc}")


@complaints_app.command("groups")
def groups(world: Path = typer.Argument(..., help="Directory of event files (e.g. from `fengkong simulate`)."),
           db: str = typer.Option(None, "--db", help="Store URL; with --open-cases the groups become cases."),
           open_cases_: bool = typer.Option(False, "--open-cases", help="Open one case per organised group."),
           top: int = typer.Option(10, min=1, help="Groups to print.")) -> None:
    """Decide every complaint with the reference strategy and print the complaint groups."""
    from rich.console import Console

    from fengkong.complaints.groups import complaint_groups, decide_complaints, open_cases

    g, _ = complaint_groups(decide_complaints(_events(world)))
    Console().print(g.select("group", "organised", "complaints", "customers", "group_score", "demand_set",
                             "first", "last", "template_excerpt").head(top))
    if open_cases_:
        from fengkong.store import open_store

        with open_store(db) as st:
            ids = open_cases(st, g)
        typer.echo(f"{len(ids)} organised group case(s) open in queue complaints")


@complaints_app.command("not-me")
def not_me(world: Path = typer.Argument(..., help="Directory of event files with the disputed loans."),
           loan: list[str] = typer.Option(..., "--loan", help="A loan the person did not take out (repeatable)."),
           ref: str = typer.Option(..., "--ref", help="The claim's reference (complaint event id or request id)."),
           customer: str = typer.Option(None, "--customer", help="Customer id of the claimant."),
           db: str = typer.Option(None, "--db", help="Store URL (default $FENGKONG_DB or ./fengkong.db)."),
           no_lock: bool = typer.Option(False, "--no-lock", help="Do not lock the identity.")) -> None:
    """Open the identity-theft case for a "not me" claim: freeze collection, lock, list, case."""
    from fengkong.complaints.notme import NotMeError, open_not_me
    from fengkong.fraud.cli import registry_path
    from fengkong.fraud.locks import IdentityLocks
    from fengkong.store import open_store

    events = _events(world)
    with open_store(db) as st:
        locks = IdentityLocks(registry_path(db), lists=st.lists)
        try:
            r = open_not_me(st, locks, events, loan_ids=loan, customer_id=customer, ref=ref, lock=not no_lock)
        except NotMeError as exc:
            fail(str(exc))
        finally:
            locks.close()
    typer.echo(f"case {r['case_id']} ({'opened' if r['new'] else 'already open'}): loans frozen {r['loans']}, "
               f"identity locked {r['identity_locked']}, risky elements {len(r['risky_elements'])}, "
               f"credit dispute deadline {r['credit_dispute_deadline']}")


def register(app: typer.Typer) -> None:
    app.add_typer(complaints_app, name="complaints")
