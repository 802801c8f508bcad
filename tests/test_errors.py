"""One error root: every exception class fengkong defines is a FengkongError, and the edges report it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import fengkong
from fengkong.errors import FengkongError

#: Control flow, not errors: raised and caught inside one module (parser backtracking, console redirects,
#: a strategy function's argument check turned into a StrategyError by its caller).
INTERNAL = {"fengkong.strategy.expr.ExprSyntaxError", "fengkong.strategy.functions.ArgError",
            "fengkong.console.auth.LoginRequired", "fengkong.console.auth.Forbidden",
            "fengkong.console.auth.CsrfError"}


def _modules():
    for m in pkgutil.walk_packages(fengkong.__path__, "fengkong."):
        if ".migrations" in m.name or m.name.endswith("__main__"):  # alembic's env.py runs only under alembic
            continue
        try:
            yield importlib.import_module(m.name)
        except ImportError:  # an optional extra that is not installed
            continue


def test_every_exception_class_has_the_root():
    missing = []
    for mod in _modules():
        for obj in vars(mod).values():
            if (isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == mod.__name__
                    and not issubclass(obj, FengkongError)):
                name = f"{obj.__module__}.{obj.__qualname__}"
                if name not in INTERNAL:
                    missing.append(name)
    assert not missing, missing


def test_the_cli_reports_an_unhandled_fengkong_error_as_one_line(monkeypatch, capsys):
    import fengkong.cli as cli
    from fengkong.errors import UnavailableError

    def boom() -> None:
        raise UnavailableError("store sqlite:///x.db: down\n  (a wrapped second line)")

    monkeypatch.setattr(cli, "_register_all", lambda: cli.app.command("boom")(boom))
    monkeypatch.setattr("sys.argv", ["fengkong", "boom"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 3
    assert capsys.readouterr().err.strip() == "error: store sqlite:///x.db: down (a wrapped second line)"


def test_the_walk_reaches_every_package():
    names = {m.__name__ for m in _modules()}
    assert {"fengkong.spark.errors", "fengkong.fraud.cli", "fengkong.simulate.config", "fengkong.store.audit_key"} <= names


SRC = Path(fengkong.__file__).parent
def _exits(fn: ast.FunctionDef) -> bool:
    """Whether a function raises typer.Exit / SystemExit (an error printer of its own)."""
    return any(isinstance(n, ast.Raise) and n.exc is not None and "Exit" in ast.unparse(n.exc).split("(")[0]
               for n in ast.walk(fn))


def test_the_command_line_has_one_error_helper():
    own = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in ("_fail", "fail", "_die", "_error") and _exits(node):
                own.setdefault(rel, []).append(node.name)
    assert set(own) == {"errors.py"}, own


def test_no_command_writes_its_own_error_line():
    """``error: …`` is written by fengkong.errors only: a literal elsewhere is a second output style."""
    own = [f"{p.relative_to(SRC).as_posix()}:{i}" for p in sorted(SRC.rglob("*.py")) if p.name != "errors.py"
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if '"error: ' in line or "[red]error:" in line]
    assert not own, own


def test_fail_prints_one_error_line_and_exits_with_the_code():
    import typer
    from typer.testing import CliRunner

    from fengkong.errors import fail

    app = typer.Typer()

    @app.command()
    def boom(code: int = 2) -> None:
        fail("bad --window: 5x", code)

    r = CliRunner().invoke(app, ["--code", "3"])
    assert r.exit_code == 3 and r.output.strip() == "error: bad --window: 5x"


def test_the_service_answers_each_error_with_its_status():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from fengkong import errors
    from fengkong.service.app import _error_handlers

    app = FastAPI()
    _error_handlers(app)
    kinds = {"input": errors.InputError, "config": errors.ConfigurationError, "missing": errors.NotFoundError,
             "conflict": errors.ConflictError, "down": errors.UnavailableError}

    @app.get("/{kind}")
    def raise_it(kind: str) -> None:
        raise kinds[kind](f"{kind} went wrong")

    client = TestClient(app, raise_server_exceptions=False)
    got = {k: client.get(f"/{k}") for k in kinds}
    assert {k: r.status_code for k, r in got.items()} == {k: c.http_status for k, c in kinds.items()}
    assert got["input"].json() == {"detail": "input went wrong"}
    assert got["down"].headers["Retry-After"] == "1"


def test_the_service_never_echoes_identity_data_in_an_error():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from fengkong.service.app import _error_handlers
    from fengkong.service.decider import Conflict, NotFound

    app = FastAPI()
    _error_handlers(app)

    @app.get("/c")
    def conflict() -> None:
        raise Conflict("request r1 was stored for 11010519900307803X, phone 13812345678")

    @app.get("/n")
    def missing() -> None:
        raise NotFound("no customer 11010519900307803X")

    client = TestClient(app)
    for path, status in (("/c", 409), ("/n", 404)):
        r = client.get(path)
        assert r.status_code == status
        assert "11010519900307803X" not in r.text and "13812345678" not in r.text, r.text
