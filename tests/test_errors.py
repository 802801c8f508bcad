"""One error root: every exception class fengkong defines is a FengkongError, and the edges report it."""

from __future__ import annotations

import importlib
import pkgutil

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
        if ".spark" in m.name or ".migrations" in m.name or m.name.endswith("__main__"):
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
