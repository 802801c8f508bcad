"""The synthetic credit world: a seeded 花呗-like business with planted fraud/abuse patterns and ground truth.

``simulate_world(out_dir, SimConfig(...))`` writes every event type, outcomes, labels and a manifest.
"""

import dataclasses
import sys
import types
from pathlib import Path
from typing import Any

from fengkong.simulate.config import SimConfig, SimConfigError
from fengkong.simulate.world import PATTERNS, plaintext_identities, simulate_world

__all__ = ["PATTERNS", "SimConfig", "SimConfigError", "plaintext_identities", "simulate_world", "write_world"]


def write_world(out: str | Path, customers: int = 3000, months: int = 3, seed: int = 7, **config: Any) -> Path:
    """``fk.simulate``: write a deterministic world to ``out`` (``config``: any other SimConfig field; ``start``
    may be an ISO date string), validated as ``fengkong simulate`` validates its options."""
    from fengkong.simulate.options import config_from_options

    unknown = sorted(set(config) - {f.name for f in dataclasses.fields(SimConfig)})
    if unknown:
        raise SimConfigError(unknown[0], "unknown parameter (not a SimConfig field)")
    simulate_world(out, config_from_options({"customers": customers, "months": months, "seed": seed, **config}))
    return Path(out)


class _CallablePackage(types.ModuleType):
    """``fk.simulate`` is both this package and the public function: importing the package replaces the
    ``fengkong.simulate`` attribute, so the package itself answers the call."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return write_world(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
