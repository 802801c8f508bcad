"""Building the online runtime: feature state (SQLite / memory / Redis) + providers, and the Engine over a store.

Shared by ``fengkong decide``, ``fengkong serve`` and ``fengkong consume`` so every entry point decides with
the same construction.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fengkong.errors import ConflictError
from fengkong.settings import Settings, current

DEFAULT_STATE_FILE = "fengkong_state.db"


def resolve_state(state: str | None = None, settings: Settings | None = None) -> str:
    """The feature-state location: explicit, else ``settings.state`` ($FENGKONG_STATE), else ./fengkong_state.db."""
    return state or (settings or current()).state or str(Path.cwd() / DEFAULT_STATE_FILE)


class StateInUseError(ConflictError, RuntimeError):
    """Another deciding process holds this SQLite feature state."""


def claim_state(state: str | None = None) -> Any:
    """Hold a SQLite feature state for this deciding process (released when the returned handle is closed or
    the process exits); None for memory / Redis state. A second process deciding on the same file would fold
    its events into one watermark in arrival order, not time order, and silently diverge from one process
    deciding the whole stream: it is refused with :class:`StateInUseError` instead."""
    import fcntl

    state = resolve_state(state)
    if state == "memory" or state.startswith(("redis://", "rediss://", "unix://")):
        return None
    path = Path(state + ".lock")
    if not path.parent.is_dir():
        return None  # the store itself reports the missing folder
    fh = path.open("a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise StateInUseError(f"feature state {state} is in use by another deciding process (pid {holder}); "
                              "decide one stream in one process, or run `fengkong serve` with a redis:// "
                              "state for several") from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh


def open_feature_state(state: str | None = None, db: str | None = None, redis_prefix: str = "fk:",
                       max_ahead: str | None = "5m") -> Any:
    """The standard online features over ``state`` (SQLite path, ``memory`` or ``redis://`` URL) plus every
    registered feature provider opened against the same state and the decision store ``db``.

    ``max_ahead``: events further ahead of this machine's clock are refused (live traffic; None for a
    replay of a future-dated history)."""
    from fengkong.features import load_features
    from fengkong.features.online import OnlineFeatures
    from fengkong.features.providers import ProviderContext, open_features
    from fengkong.features.store_redis import RedisStore
    from fengkong.features.store_sqlite import SQLiteStore
    from fengkong.features.stores import MemoryStore

    state = resolve_state(state)
    if state == "memory":
        store: Any = MemoryStore()
    elif state.startswith(("redis://", "rediss://", "unix://")):
        store = RedisStore(state, prefix=redis_prefix)
    else:
        store = SQLiteStore(state)
    return open_features(OnlineFeatures(load_features(), store, max_ahead=max_ahead),
                         ProviderContext(state=state, db=db))


def open_engine(store: Any, state: str | None = None, db: str | None = None, strategy: Any = None,
                features: bool = True, refresh_seconds: float = 10.0, redis_prefix: str = "fk:") -> Any:
    """An :class:`fengkong.engine.Engine` deciding against ``store`` with the feature state at ``state``."""
    from fengkong.engine import Engine

    feats = open_feature_state(state, db, redis_prefix=redis_prefix) if features else None
    return Engine(store, feats, strategy=strategy, refresh_seconds=refresh_seconds)


def strategy_kinds() -> dict[str, str]:
    """Feature kinds a strategy may use: the standard library plus every registered feature provider's."""
    from fengkong.features import load_features
    from fengkong.features.providers import combined_kinds

    return combined_kinds(load_features().kinds)


def check_applicable(strategy: Any) -> None:
    """Raise a StrategyError when the strategy reads a standard feature that has no value for its event type
    (it would be null on every event, and a rule treating null as 0 would fire on defaults)."""
    from fengkong.features import load_features
    from fengkong.strategy import StrategyError

    fs = load_features()
    for name in sorted(strategy.used_features):
        if name not in fs.by_name:
            continue  # a provider's feature: its pack says where it applies
        types = fs.applies(name)
        if strategy.event_type not in types:
            raise StrategyError(f"strategy {strategy.name} ({strategy.event_type} events) reads feature {name!r}, "
                                f"which has no value for {strategy.event_type} events (it applies to "
                                f"{', '.join(types) or 'no event type'})")
