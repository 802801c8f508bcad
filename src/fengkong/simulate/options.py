"""A :class:`SimConfig` from command-line style options: typed fields plus ``NAME=VALUE`` parameters."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from fengkong.simulate.config import SimConfig, SimConfigError


def parse_param(item: str) -> tuple[str, Any]:
    """One ``NAME=VALUE`` parameter, the value parsed to the type of the SimConfig field's default."""
    fields = {f.name for f in dataclasses.fields(SimConfig)}
    name, sep, raw = item.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in fields:
        raise SimConfigError(
            name or item, "unknown parameter (use --param NAME=VALUE with a SimConfig field)"
        )
    default = getattr(SimConfig(), name)
    try:
        if isinstance(default, bool):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return name, raw.lower() in ("true", "1")
        if isinstance(default, int):
            return name, int(raw)
        if isinstance(default, float):
            return name, float(raw)
        return name, raw
    except ValueError:
        raise SimConfigError(name, f"cannot parse {raw!r}") from None


def config_from_options(values: Mapping[str, Any], params: Iterable[str] = (),
                        population: str = "default") -> SimConfig:
    """A validated SimConfig of the named population preset: ``values`` (SimConfig fields; None and other
    keys ignored), then each ``NAME=VALUE`` of ``params``; ``start`` may be an ISO string."""
    fields = {f.name for f in dataclasses.fields(SimConfig)}
    chosen = {k: v for k, v in values.items() if k in fields and v is not None}
    for item in params:
        name, value = parse_param(item)
        chosen[name] = value
    if "start" in chosen and not isinstance(chosen["start"], dt.date):
        try:
            chosen["start"] = dt.date.fromisoformat(str(chosen["start"]))
        except ValueError:
            raise SimConfigError("start", f"not an ISO date: {chosen['start']!r}") from None
    return SimConfig.population(population, **chosen).validate()
