"""fengkong: big-data risk control for consumer credit.

``import fengkong as fk`` gives the public API (see docs/api.md): ``fk.simulate``, ``fk.read_world``,
``fk.read_events``, ``fk.load_features``, ``fk.backfill``, ``fk.load_strategy``, ``fk.backtest``,
``fk.open_store``, ``fk.open_engine``, ``fk.Engine``, ``fk.Scorecard``, ``fk.load_scorecard``, ``fk.price``,
``fk.evaluate``, ``fk.example_strategy``, ``fk.validate_event``, ``fk.Settings`` / ``fk.configure`` and the
file jobs behind the CLI commands. Names load on first use, so importing the package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {name: ("fengkong.api", name) for name in (
    "simulate", "read_world", "read_events", "load_features", "backfill", "check_parity", "load_strategy",
    "backtest", "open_store", "open_engine", "evaluate", "price", "load_scorecard", "example_strategy",
    "validate_strategies")}
_API.update({name: ("fengkong.modeling.model_dir", name) for name in ("fit_model_dir", "score_table", "report_model")})
_API.update({name: ("fengkong.pricing.file_jobs", name) for name in ("compliance_report", "subsidy_run")})
_API.update({name: ("fengkong.settings", name) for name in ("Settings", "configure", "business_today")})
_API.update({"Offer": ("fengkong.pricing.offer", "Offer"), "Engine": ("fengkong.engine", "Engine"),
             "Scorecard": ("fengkong.modeling", "Scorecard"),
             "validate_event": ("fengkong.events", "validate_event"),
             "EventValidationError": ("fengkong.events", "EventValidationError"),
             "StrategyError": ("fengkong.strategy", "StrategyError")})

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'fengkong' has no attribute {name!r}")
    value = getattr(import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
