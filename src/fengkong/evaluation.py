"""`fengkong evaluate`'s extension point: each pack measures its detectors on a simulated world.

A pack registers a module under the entry-point group ``fengkong.evaluators``; the module has
``evaluate_world(world: Path) -> dict`` (keyed by planted pattern, keys unique across packs) and
``render_table(result: dict) -> str``. A pack's ``EvaluationError``-style failure is a ``ValueError``.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from types import ModuleType

GROUP = "fengkong.evaluators"


def evaluators() -> dict[str, ModuleType]:
    """The registered evaluator modules by pack name (fraud first, then by name)."""
    eps = sorted(entry_points(group=GROUP), key=lambda e: (e.name != "fraud", e.name))
    return {ep.name: import_module(ep.value) for ep in eps}
