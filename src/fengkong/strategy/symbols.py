"""The names an expression may use: the event's fields and the features (standard library and packs')."""

from __future__ import annotations

from collections.abc import Mapping

from fengkong.strategy.expr import Sym


def event_symbols(event_type: str) -> dict[str, Sym]:
    from fengkong.events import fields_of

    out: dict[str, Sym] = {}
    for f in fields_of(event_type):
        kind = f.kind
        s = Sym(f.name, kind, not f.required, f"e_{f.name}", f.name, "event")
        out[f.name] = s
        out[f"event.{f.name}"] = Sym(f"event.{f.name}", kind, not f.required, f"e_{f.name}", f.name, "event")
    return out


def feature_symbols(kinds: Mapping[str, str], events: Mapping[str, Sym]) -> dict[str, Sym]:
    out: dict[str, Sym] = {}
    for name, kind in kinds.items():
        s = Sym(f"feature.{name}", kind, True, f"f_{name}", f"__f.{name}", "feature")
        out[f"feature.{name}"] = s
        if name not in events:
            out[name] = s
    return out


def default_feature_kinds() -> dict[str, str]:
    """Kinds of the shipped feature library plus the registered feature providers' (see
    :mod:`fengkong.features.providers`), or {} when the feature engine is not installed."""
    try:
        from fengkong.features import load_features
        from fengkong.features.providers import combined_kinds
    except ImportError:
        return {}
    return combined_kinds(load_features().kinds)
