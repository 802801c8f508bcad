"""The ``fengkong`` command line: one Typer app; each pack registers its own commands."""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from rich.console import Console

from fengkong import __version__
from fengkong.events import pii

app = typer.Typer(
    name="fengkong",
    help="fengkong (风控): big-data risk control for consumer credit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)

#: The platform's own command modules; every registered pack adds its own (``Pack.cli``, see fengkong.packs).
#: Each defines ``register(app: typer.Typer) -> None`` and imports its heavy dependencies inside the
#: command bodies, so ``fengkong --help`` stays fast.
COMMAND_MODULES: list[str] = [
    "fengkong.events.cli",
    "fengkong.features.cli",
    "fengkong.simulate.cli",
    "fengkong.modeling.cli",
    "fengkong.strategy_cli",
    "fengkong.demo",
    "fengkong.service.cli",
    "fengkong.casework_cli",
    "fengkong.evaluate_cli",
]


@app.callback(invoke_without_command=True)
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")) -> None:
    if version:
        console.print(f"fengkong {__version__}")
        raise typer.Exit(0)


def command_modules() -> list[str]:
    """The command modules: the platform's, then each registered pack's."""
    from fengkong.packs import packs

    return list(dict.fromkeys([*COMMAND_MODULES, *(m for p in packs() for m in p.cli)]))


def _register_all() -> None:
    for name in command_modules():
        importlib.import_module(name).register(app)
    app.command("packs")(packs_command)


def packs_command(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """The registered packs and what each adds (features, functions, lists, evaluation, demo, pages, commands)."""
    import json

    from fengkong.packs import packs

    found = [p.contributions() for p in packs()]
    if as_json:
        typer.echo(json.dumps({"packs": found}, ensure_ascii=False))
        return
    for p in found:
        adds = [f"{k.replace('_', ' ')}: {', '.join(v) if isinstance(v, list | dict) else v}"
                for k, v in p.items() if k not in ("name", "description") and v]
        typer.echo(f"{p['name']}: {p['description']}")
        for line in adds:
            typer.echo(f"  {line}")


def main() -> None:
    """Entry point of the ``fengkong`` console script."""
    from fengkong.settings import Settings, configure

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    previous = configure(Settings.from_env())  # the one read of the environment; every command uses these
    pii.install_log_redaction()
    _register_all()
    from fengkong.errors import FengkongError, one_line, print_error

    try:
        app(prog_name="fengkong")
    except FengkongError as exc:  # anything a command did not report itself: one line, its exit status
        print_error(pii.redact(one_line(exc)))
        raise SystemExit(exc.exit_code) from None
    finally:
        configure(previous)  # in-process callers (tests) get their own environment back


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
