"""Credit risk modeling: optimal binning, WOE/IV, feature selection, scorecards, LightGBM, metrics,
reports and deployment exports (decision-engine nodes and SQL)."""

from __future__ import annotations

import importlib
from typing import Any

#: public names → the module that defines them; imported on first use, so that importing a
#: submodule (the command line registers ``fengkong.modeling.cli``) does not load scikit-learn
_LAZY = {"Binner": "fengkong.modeling.binner", "FeatureBinning": "fengkong.modeling.binning",
         "Scorecard": "fengkong.modeling.scorecard"}

__all__ = ["Binner", "FeatureBinning", "Scorecard"]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'fengkong.modeling' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value
