"""The one root of fengkong's errors and how the edges (CLI exit status, HTTP status) report them.

Every exception fengkong raises on purpose — bad input, a bad configuration, a dependency that is down —
is a :class:`FengkongError`. Each class also keeps its built-in base (``ValueError``, ``LookupError``,
``RuntimeError``…) so existing ``except`` clauses keep working. The CLI prints ``error: <message>`` on one
line and exits with :attr:`FengkongError.exit_code`; the service answers :attr:`FengkongError.http_status`.
A command that reports an error itself does it with :func:`fail`, the one output style of the CLI.
"""

from __future__ import annotations

from typing import NoReturn


class FengkongError(Exception):
    """Root of fengkong's errors. Subclasses set the exit code and HTTP status of their kind."""

    exit_code = 2
    http_status = 400


class InputError(FengkongError):
    """Bad input: an event, a file, a strategy, an option (exit 2, HTTP 422)."""

    http_status = 422


class ConfigurationError(FengkongError):
    """The deployment's configuration is wrong or missing (a key, a setting) (exit 2, HTTP 500)."""

    http_status = 500


class NotFoundError(FengkongError):
    """What was asked for does not exist (exit 2, HTTP 404)."""

    http_status = 404


class ConflictError(FengkongError):
    """The request contradicts what is stored (exit 2, HTTP 409)."""

    http_status = 409


class UnavailableError(FengkongError):
    """A dependency (store, feature state, Redis) failed; nothing half-written (exit 3, HTTP 503)."""

    exit_code = 3
    http_status = 503


def one_line(exc: BaseException) -> str:
    """The message of an error as one line (newlines of wrapped driver messages folded)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def print_error(message: str) -> None:
    """Write ``error: <message>`` to stderr (``error:`` in red on a terminal): how the command line reports."""
    import typer

    typer.echo(f"{typer.style('error:', fg='red')} {message}", err=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """End the running command: :func:`print_error` ``message`` and exit with ``code``."""
    import typer

    print_error(message)
    raise typer.Exit(code)
