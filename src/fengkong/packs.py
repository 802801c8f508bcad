"""The one extension point for packs: a :class:`Pack` says, by module name, everything a pack contributes.

A pack is a folder of its own (``fengkong/fraud``, or a separate distribution) with one ``pack.py`` holding
``PACK = Pack(...)``, registered once: an entry point in the ``fengkong.packs`` group
(``fraud = "fengkong.fraud.pack:PACK"``) or, in-process, :func:`register_pack`. The platform reads the
registry — the feature providers, the strategy functions and node types, ``fengkong evaluate``,
``fengkong demo``, the console and the command line — so a new pack touches nothing outside its folder. Contributions are module
names imported on first use, so this module imports nothing of fengkong but its errors and sits in the
base layer, below the features and strategy layers that read it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from fengkong.errors import ConfigurationError

GROUP = "fengkong.packs"
#: The entry-point groups of the metadata written before ``fengkong.packs`` existed; a pack named there is
#: found through the ``pack`` module beside the registered one until the package is reinstalled.
LEGACY_GROUPS = ("fengkong.feature_providers", "fengkong.strategy_functions", "fengkong.evaluators")


class PackError(ConfigurationError, RuntimeError):
    """A pack is misdeclared (not a Pack, a missing module or attribute)."""


@dataclass(frozen=True)
class DemoSection:
    """A section of ``fengkong demo``: ``run`` is ``"module:function"`` called as ``function(out, console, world)``
    after the world is simulated (``world.events`` / ``world.features``: the world read and backfilled once); ``order`` places it (core: simulate 10, features 20, scorecard 30,
    decisions 40, console 90, service 100; packs between 40 and 90)."""

    run: str
    order: int = 60
    title: str = ""


@dataclass(frozen=True)
class Pack:
    """What one pack contributes; every field but ``name`` is optional.

    - ``features``: module with ``FEATURE_KINDS``, ``open_online(ctx)`` and ``backfill(events, ctx)``
      (:mod:`fengkong.features.providers`);
    - ``strategy_functions``: modules that call ``register_function`` when imported;
    - ``strategy_node_types``: node type name → ``"module:function"`` lowering a node of that type to a core
      node (:mod:`fengkong.strategy.node_types`);
    - ``lists``: the decision-store lists the pack writes or reads, name → what is on it;
    - ``evaluator``: module with ``evaluate_world(world) -> dict`` and ``render_table(result) -> str``
      (:mod:`fengkong.evaluation`, ``fengkong evaluate``);
    - ``demo``: sections of ``fengkong demo``;
    - ``console_pages``: modules with ``add_routes(router, console)`` (and optionally ``warm(console)``);
      they use the ``console`` object handed to them and do not import ``fengkong.console``;
    - ``cli``: modules with ``register(app: typer.Typer)`` adding the pack's commands;
    - ``engines``: execution engine name → task (``backfill``, ``score``, ``backtest``) → ``"module:function"``
      running that command's work on the engine (``--engine NAME``; :func:`engine_task`).
    """

    name: str
    description: str = ""
    features: str | None = None
    strategy_functions: tuple[str, ...] = ()
    strategy_node_types: Mapping[str, str] = field(default_factory=dict)
    lists: Mapping[str, str] = field(default_factory=dict)
    evaluator: str | None = None
    demo: tuple[DemoSection, ...] = ()
    console_pages: tuple[str, ...] = ()
    cli: tuple[str, ...] = ()
    engines: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def contributions(self) -> dict[str, Any]:
        """What the pack adds, as plain data (``fengkong packs --json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "features": self.features,
            "strategy_functions": list(self.strategy_functions),
            "strategy_node_types": dict(self.strategy_node_types),
            "lists": dict(self.lists),
            "evaluator": self.evaluator,
            "demo": [s.run for s in self.demo],
            "console_pages": list(self.console_pages),
            "cli": list(self.cli),
            "engines": {name: dict(tasks) for name, tasks in self.engines.items()},
        }


_lock = threading.Lock()
_in_process: dict[str, Pack] = {}
_installed: dict[str, Pack] | None = None
_generation = 0


def _as_pack(obj: Any, where: str) -> Pack:
    if not isinstance(obj, Pack):
        raise PackError(f"{where} is not a fengkong.packs.Pack")
    return obj


def _load_ref(ref: str) -> Any:
    """``"module:attribute"`` → the attribute; ``"module"`` → its ``PACK``."""
    mod, _, attr = ref.partition(":")
    return getattr(import_module(mod), attr or "PACK")


def _entry_points(group: str) -> Iterable[Any]:
    from importlib.metadata import entry_points

    return entry_points(group=group)


def _from_metadata() -> dict[str, Pack]:
    out: dict[str, Pack] = {}
    for ep in sorted(_entry_points(GROUP), key=lambda e: e.name):
        out[ep.name] = _as_pack(ep.load(), f"entry point {ep.name} ({ep.value})")
    if out:
        return out
    for group in LEGACY_GROUPS:  # metadata of an install made before the packs group: find each pack module
        for ep in _entry_points(group):
            if ep.name in out:
                continue
            package = ep.value.split(":")[0].rsplit(".", 1)[0]
            try:
                out[ep.name] = _as_pack(_load_ref(f"{package}.pack:PACK"), f"{package}.pack:PACK")
            except ModuleNotFoundError:
                raise PackError(
                    f"entry point {ep.name} ({ep.value}) of {group}: no {package}.pack module; "
                    "reinstall the package (make venv)"
                ) from None
    return out


def packs() -> tuple[Pack, ...]:
    """Every registered pack, by name: the installed ones (entry points) and the in-process ones (which
    replace an installed pack of the same name)."""
    global _installed
    with _lock:
        if _installed is None:
            _installed = _from_metadata()
        merged = {**_installed, **_in_process}
    return tuple(merged[k] for k in sorted(merged))


def get(name: str) -> Pack | None:
    """The registered pack called ``name``."""
    return next((p for p in packs() if p.name == name), None)


def register_pack(pack: Pack) -> Callable[[], None]:
    """Register a pack in this process (as an entry point would); returns the function that removes it."""
    global _generation
    _as_pack(pack, repr(pack))
    with _lock:
        _in_process[pack.name] = pack
        _generation += 1

    def unregister() -> None:
        global _generation
        with _lock:
            if _in_process.get(pack.name) is pack:
                del _in_process[pack.name]
                _generation += 1

    return unregister


def generation() -> int:
    """Changes whenever the in-process registry changes (caches of the packs' contributions key on it)."""
    return _generation


def load(ref: str) -> Any:
    """A contribution by name: ``"module"`` → the module, ``"module:function"`` → the function."""
    mod, _, attr = ref.partition(":")
    m = import_module(mod)
    if not attr:
        return m
    try:
        return getattr(m, attr)
    except AttributeError:
        raise PackError(f"{ref}: module {mod} has no {attr}") from None


def engine_task(engine: str, task: str) -> Callable[..., Any]:
    """The function a pack registered for ``task`` on execution engine ``engine`` (``--engine``); an
    :class:`~fengkong.errors.InputError` naming the engines there are when none has it."""
    from fengkong.errors import InputError

    have = {name: tasks for p in packs() for name, tasks in p.engines.items()}
    if engine not in have or task not in have[engine]:
        known = sorted(["polars", *(n for n, t in have.items() if task in t)])
        raise InputError(f"--engine {engine!r}: not one of {', '.join(known)}")
    return load(have[engine][task])
