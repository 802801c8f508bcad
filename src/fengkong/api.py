"""The public Python API (``import fengkong as fk``): what the CLI does, as functions for notebooks and jobs.

Each function is a thin, documented door to the module that owns the work; the CLI commands call the same
functions. Heavy modules are imported on first use, so ``import fengkong`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from fengkong.pricing.offer import Offer


def simulate(out: str | Path, customers: int = 3000, months: int = 3, seed: int = 7, **config: Any) -> Path:
    """Write a deterministic synthetic credit world (``<type>.parquet`` files, outcomes, labels) to ``out``.

    ``config``: any other :class:`fengkong.simulate.SimConfig` field (``start``, ring sizes, shares…)."""
    from fengkong.simulate import write_world

    return write_world(out, customers, months, seed, **config)


def read_world(directory: str | Path, event_types: Iterable[str] | None = None) -> pl.DataFrame:
    """Every event of a world directory, validated, in time order, as one frame in the union schema."""
    from fengkong.events.files import read_world as _read_world
    from fengkong.events.model import EVENT_TYPES

    return _read_world(directory, tuple(event_types) if event_types else EVENT_TYPES)


def read_events(path: str | Path, event_type: str | None = None, tokenizer: Any = None) -> Any:
    """One event file (Parquet, CSV, JSON Lines) validated row by row: ``.frame`` good rows, ``.errors`` the
    bad ones (also quarantined beside the file)."""
    from fengkong.events.files import read_events as _read_events

    return _read_events(path, event_type=event_type, tokenizer=tokenizer)


def load_features(path: str | Path | None = None) -> Any:
    """A feature set from a YAML file (default: the standard library)."""
    from fengkong.features import load_features as _load

    return _load(path) if path is not None else _load()


def backfill(events: pl.DataFrame, features: Any = None, names: Iterable[str] | None = None,
             db: str | None = None) -> pl.DataFrame:
    """Point-in-time features for every event (state strictly before it, ties by event order): the standard
    library (or ``features``) plus every registered pack's features; ``names`` limits the columns; ``db``
    is the decision store the packs read (identity locks, lists)."""
    from fengkong.features.providers import ProviderContext, backfill_all

    fs = features if features is not None else load_features()
    wanted = list(dict.fromkeys(names)) if names else None
    out = backfill_all(events, fs, ProviderContext(state="memory", db=db), names=set(wanted) if wanted else None)
    if wanted:
        missing = [n for n in wanted if n not in out.columns]
        if missing:
            raise ValueError(f"no feature named {missing[0]!r}")
        out = out.select(["event_id", *wanted])
    return out


def check_parity(events: pl.DataFrame | str | Path, features: Any = None, store: str = "memory",
                 store_url: str | None = None) -> Any:
    """Backfill offline, replay online against a fresh ``store`` (memory, sqlite, redis) and compare every
    value (``fengkong features check``): a report with ``events``, ``features``, ``mismatches``."""
    from fengkong.features.parity import check_with_store

    ev = events if isinstance(events, pl.DataFrame) else read_world(events)
    fs = features if features is not None and not isinstance(features, str | Path) else load_features(features)
    return check_with_store(ev, fs, store, store_url)


def load_strategy(path: str | Path) -> Any:
    """Type-check and compile a strategy file against the event schema and every feature a pack provides;
    a feature with no value for the strategy's event type is an error."""
    from fengkong.runtime import check_applicable, strategy_kinds
    from fengkong.strategy import load_strategy as _load

    s = _load(path, features=strategy_kinds())
    check_applicable(s)
    return s


def validate_strategies(files: Iterable[str | Path], events: str | Path | None = None) -> dict[str, Any]:
    """Type-check strategy files (``fengkong strategy validate``): ``{"ok", "results"}``, one result per file
    (name, version, event type, nodes, rules; or the error with its line and column). With ``events`` (a
    world directory) each loaded strategy's result also gets ``inputs``, the share of events on which each
    rule's inputs are missing, and ``warnings`` for the rules that can never fire. A bad ``events``
    directory raises its ValueError."""
    from fengkong.runtime import check_applicable, strategy_kinds
    from fengkong.strategy import StrategyError
    from fengkong.strategy import load_strategy as _load

    results: list[dict[str, Any]] = []
    loaded: list[tuple[dict[str, Any], Any]] = []
    kinds = strategy_kinds()
    for f in files:
        try:
            s = _load(f, features=kinds)
            s.check_models()
            try:
                check_applicable(s)
            except StrategyError as exc:
                raise StrategyError(exc.message, str(f)) from None
            results.append({"file": str(f), "ok": True, "name": s.name, "version": s.version,
                            "event_type": s.event_type, "nodes": len(s.spec.nodes), "rules": len(s.rules)})
            loaded.append((results[-1], s))
        except StrategyError as exc:
            results.append({"file": str(f), "ok": False, "error": str(exc), "line": exc.line, "column": exc.col})
    if events is not None and loaded:
        _coverage(loaded, Path(events))
    return {"ok": all(r["ok"] for r in results), "results": results}


def _coverage(loaded: list[tuple[dict[str, Any], Any]], events: Path) -> None:
    """Add each strategy's per-rule input null shares (and warnings for inputs always missing) to its result."""
    from fengkong.strategy.coverage import input_null_rates, never_firing

    ev = read_world(events)
    used = set().union(*(set(s.used_features) for _, s in loaded))
    feats = backfill(ev, names=used) if used else None
    for r, s in loaded:
        rates = input_null_rates(s, ev, feats)
        r["inputs"] = rates.to_dicts()
        r["warnings"] = [f"rule {rule} can never fire on {events}: an input it reads is missing on every "
                         f"{s.event_type} event" for rule in never_firing(rates)]


def example_strategy(event_type: str) -> Path:
    """The shipped reference strategy for an event type (``application``, ``purchase``, ``transfer``…)."""
    p = Path(__file__).parent / "strategies" / f"{event_type}.yaml"
    if not p.is_file():
        shipped = sorted(x.stem for x in p.parent.glob("*.yaml"))
        raise ValueError(f"no shipped strategy for {event_type!r} (one of {', '.join(shipped)})")
    return p


def backtest(strategy: Any, events: pl.DataFrame | str | Path, labels: pl.DataFrame | str | Path | None = None,
             against: Any = None, lists: Mapping[str, Any] | None = None, features: pl.DataFrame | None = None,
             db: str | None = None) -> Any:
    """Vectorised backtest: outcome mix, rule hits, bad rate by outcome (with ``labels``: event_id + bad) and
    the swap set against a second strategy. ``strategy``/``against``: a Strategy or a file; ``events``: a
    frame or a world directory (whose ``outcomes.parquet`` is the default labels)."""
    from fengkong.strategy import backtest as bt

    s = strategy if hasattr(strategy, "evaluate") else load_strategy(strategy)
    other = against if against is None or hasattr(against, "evaluate") else load_strategy(against)
    if not isinstance(events, pl.DataFrame):
        world = Path(events)
        events = read_world(world)
        if labels is None and (world / "outcomes.parquet").exists():
            labels = world / "outcomes.parquet"
    if isinstance(labels, str | Path):
        labels = bt.load_labels(labels)
    if features is None:
        used = set(s.used_features) | (set(other.used_features) if other else set())
        features = backfill(events, names=used, db=db) if used else None
    frame = bt.prepare_frame(events, s, features=features)
    return bt.run(s, frame, labels, other, lists or {})


def open_store(url: str | None = None) -> Any:
    """The decision store (audit log, strategy versions, routing, lists, cases) at a SQLAlchemy URL
    (default ``$FENGKONG_DB`` or ``./fengkong.db``), migrated to the current schema."""
    from fengkong.store import open_store as _open

    return _open(url)


def open_engine(store: Any = None, state: str | None = "memory", strategy: Any = None) -> Any:
    """An :class:`fengkong.engine.Engine` with the standard online features and every pack's, deciding
    against ``store``'s active strategies (or one fixed ``strategy``); ``state``: ``memory``, a SQLite path
    or a ``redis://`` URL."""
    from fengkong.runtime import open_engine as _open

    s = strategy if strategy is None or hasattr(strategy, "evaluate") else load_strategy(strategy)
    return _open(store, state=state, strategy=s)


def evaluate(world: str | Path, packs: Iterable[str] | None = None, drop_fields: Iterable[str] | None = None,
             with_tables: bool = False) -> Any:
    """Every registered pack's detectors (or ``packs``) measured against the patterns planted in a simulated
    world — recall, precision, costs — merged by pattern; ``drop_fields`` nulls those event fields first (the
    figures for a lender without them). ``with_tables``: also the rendered table of each pack."""
    from fengkong.evaluation import evaluate_packs

    merged, texts = evaluate_packs(Path(world), list(packs) if packs else None,
                                   list(drop_fields) if drop_fields else None)
    return (merged, texts) if with_tables else merged


def price(principal: float | None = None, term: int | None = None, rate: float | None = None,
          method: str | None = None, fee_rate: float | None = None, upfront_fee: float | None = None,
          start: dt.date | str | None = None, lender_type: str | None = None, channel: str | None = None,
          config: str | Path | None = None, **options: Any) -> Offer:
    """Schedule, annualised cost, cap check and disclosure of one offer (amounts in yuan, rates annual decimals;
    the schedule's money is integer fen), exactly as ``fengkong price`` computes it. ``options``:
    ``total_fee_rate``, ``daily_rate``, ``first_due``, ``product`` (a YAML product file), ``pd`` / ``score`` /
    ``lgd`` (the risk-based price; ``offer.declined`` when it is above the cap), ``prepay_after``."""
    from fengkong.pricing.offer import price_offer

    product = options.pop("product", None)
    return price_offer(principal, term, method=method, rate=rate, fee_rate=fee_rate, upfront_fee=upfront_fee,
                       start=start, lender_type=lender_type, channel=channel,
                       config=Path(config) if config is not None else None,
                       product=Path(product) if product is not None else None, **options)


def load_scorecard(path: str | Path) -> Any:
    """A scorecard saved by ``Scorecard.save`` / ``fengkong scorecard fit --out``."""
    from fengkong.modeling import Scorecard

    return Scorecard.load(path)
