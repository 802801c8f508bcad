"""Feature providers: the extension point through which domain packs add features to decisions.

A pack names a module as ``Pack.features`` in its registration (:mod:`fengkong.packs`). The module
defines ``FEATURE_KINDS`` (feature name → kind, for the strategy type checker),
``open_online(ctx)`` (an object with ``read_update(event) -> dict`` and ``close()``, the online path)
and ``backfill(events, ctx)`` (a frame of ``event_id`` + one column per feature, point-in-time, the
offline twin used by backtests). The engine sees one :class:`CombinedFeatures`; strategies are type-checked against
:func:`combined_kinds` (see ``fengkong.strategy.spec.default_feature_kinds``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import polars as pl

from fengkong.errors import ConfigurationError

PROVIDER_GROUP = "fengkong.feature_providers"  # the entry-point group of installs made before fengkong.packs


class ProviderError(ConfigurationError, RuntimeError):
    """A feature provider is misdeclared (missing attribute, clashing feature name)."""


@dataclass(frozen=True)
class ProviderContext:
    """Where state lives: ``state`` is the feature state (SQLite path, ``memory`` or a ``redis://`` URL),
    ``db`` the decision store's SQLAlchemy URL (lists, locks), or None."""

    state: str = "memory"
    db: str | None = None


def provider_modules() -> tuple[ModuleType, ...]:
    """The feature-provider modules of the registered packs, in pack name order."""
    from fengkong import packs

    return _provider_modules(packs.generation())


@functools.cache
def _provider_modules(_generation: int) -> tuple[ModuleType, ...]:
    import importlib

    from fengkong import packs

    mods = []
    for pack in packs.packs():
        if pack.features is None:
            continue
        mod = importlib.import_module(pack.features)
        for attr in ("FEATURE_KINDS", "open_online", "backfill"):
            if not hasattr(mod, attr):
                raise ProviderError(f"feature provider {pack.name} ({pack.features}) has no {attr}")
        mods.append(mod)
    return tuple(mods)


def combined_kinds(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Feature kinds of the base feature set plus every provider's; a name declared twice is an error."""
    out = dict(base or {})
    for mod in provider_modules():
        for name, kind in mod.FEATURE_KINDS.items():
            if name in out and out[name] != kind:
                raise ProviderError(f"feature {name!r} of provider {mod.__name__} clashes with another feature")
            out[name] = kind
    return out


class CombinedFeatures:
    """The standard online features (``base``, an ``OnlineFeatures`` or None) plus provider features."""

    def __init__(self, base: Any, providers: list[Any], kinds: Mapping[str, str]):
        self.base = base
        self.providers = providers
        self.kinds = dict(kinds)
        self.fs = getattr(base, "fs", None)

    def read_update(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Every feature for ``event`` from state strictly before it, then fold the event in."""
        out = self.base.read_update(event) if self.base is not None else {}
        for p in self.providers:
            out.update(p.read_update(event))
        return out

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit of the standard features' state log (see ``OnlineFeatures.batch``) and of every
        provider log that supports it (the fraud graph's); the others stay durable event by event."""
        with contextlib.ExitStack() as stack:
            if self.base is not None:
                stack.enter_context(self.base.batch())
            for p in self.providers:
                batch = getattr(p, "batch", None)
                if batch is not None:
                    stack.enter_context(batch())
            yield

    def update(self, event: Mapping[str, Any]) -> None:
        """Fold an event in without reading (``engine.replay`` for event types it does not decide)."""
        if self.base is not None:
            self.base.update(event)
        for p in self.providers:
            p.update(event)

    def close(self) -> None:
        for p in self.providers:
            p.close()
        store = getattr(self.base, "store", None)
        if store is not None:
            store.close()


def open_features(base: Any, ctx: ProviderContext) -> CombinedFeatures:
    """``base`` plus every registered provider opened against ``ctx``."""
    kinds = combined_kinds(base.fs.kinds if base is not None else None)
    return CombinedFeatures(base, [mod.open_online(ctx) for mod in provider_modules()], kinds)


def backfill_all(events: pl.DataFrame, fs: Any, ctx: ProviderContext, names: set[str] | None = None) -> pl.DataFrame:
    """Offline twin of :class:`CombinedFeatures`: the feature set's backfill joined with each provider's.

    ``names``: only the features a strategy uses (providers none of whose features are used are skipped).
    """
    from fengkong.features.offline import backfill

    out = backfill(events, fs)
    for mod in provider_modules():
        if names is not None and not names & set(mod.FEATURE_KINDS):
            continue
        extra = mod.backfill(events, ctx)
        keep = ["event_id", *(c for c in extra.columns if c in mod.FEATURE_KINDS and c not in out.columns)]
        out = out.join(extra.select(keep), on="event_id", how="left", maintain_order="left")
    return out
