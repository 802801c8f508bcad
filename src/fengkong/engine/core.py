"""Engine: routing to champion/challenger/shadow versions, features, evaluation, fallback, audit."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fengkong.engine.decision import Decision
from fengkong.errors import NotFoundError
from fengkong.features.online import LateEventError
from fengkong.strategy import NodeError, Strategy, strategy_from_text

log = logging.getLogger(__name__)


def _store_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean the store failed (imported on first use)."""
    global _STORE_ERRORS
    if _STORE_ERRORS is None:
        from fengkong.store import STORE_ERRORS

        _STORE_ERRORS = STORE_ERRORS
    return _STORE_ERRORS


_STORE_ERRORS: tuple[type[BaseException], ...] | None = None


class NoStrategyError(NotFoundError, LookupError):
    """No strategy is active for the event's type (and product)."""


def bucket_of(route: str, key: Any) -> int:
    """Stable bucket 0..9999 of a split key (blake2b), the same in every process and run."""
    h = hashlib.blake2b(f"{route}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") % 10_000


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return v


class Engine:
    """Decides events against the active strategies of a store (or one fixed strategy).

    ``store``: a :class:`fengkong.store.Store` (None = decide without recording, e.g. benchmarks).
    ``features``: an ``OnlineFeatures`` (None = no feature state; strategies see no features).
    ``strategy``: a fixed Strategy used for every event (overrides the store's routing).
    """

    def __init__(self, store: Any = None, features: Any = None, strategy: Strategy | None = None,
                 feature_kinds: Mapping[str, str] | None = None, refresh_seconds: float = 10.0,
                 validate: bool = True):
        self.store = store
        self.features = features
        self.fixed = strategy
        if feature_kinds is None and features is not None:
            kinds = getattr(features, "kinds", None)  # a CombinedFeatures, else an OnlineFeatures
            feature_kinds = dict(kinds if kinds is not None else features.fs.kinds)
        self.feature_kinds = feature_kinds
        self.refresh_seconds = refresh_seconds
        self.validate = validate
        self._compiled: dict[tuple[str, str], Strategy] = {}
        self._routes: dict[str, Any] = {}
        self._lists: Mapping[str, frozenset] = {}
        self._next_refresh = 0.0
        self._snapshot_at: str | None = None
        if store is None:
            self.refresh()
        else:
            from fengkong.store import StoreError

            try:
                self.refresh()
            except StoreError as exc:  # no snapshot yet: every decide() tries again (and raises) until it works
                log.warning("%s; will retry on the first decision", exc)
                self._next_refresh = 0.0

    # ------------------------------------------------------------ configuration

    def _store_call(self, action: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a store method; a database failure becomes one :class:`fengkong.store.StoreError`."""
        try:
            return fn(*args)
        except _store_errors() as exc:
            from fengkong.store import StoreError

            raise StoreError(getattr(self.store, "name", "?"), action, exc) from exc

    def refresh(self) -> None:
        """Reload routing and list snapshots from the store.

        When the store fails, the last good snapshot stays in force (a warning is logged) and the next
        refresh, ``refresh_seconds`` later, tries again; with no snapshot yet the
        :class:`fengkong.store.StoreError` is raised.
        """
        if self.store is not None:
            from fengkong.store import StoreError

            try:
                routes = self._store_call("reading the routing", self.store.versions.routes)
                lists = self._store_call("reading the lists", self.store.lists.snapshot)
            except StoreError as exc:
                if self._snapshot_at is None:
                    raise
                log.warning("%s; keeping the routing and lists read at %s, retrying in %g s",
                            exc, self._snapshot_at, self.refresh_seconds)
                self._next_refresh = time.monotonic() + self.refresh_seconds
                return
            self._routes, self._lists = routes, lists
            self._snapshot_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._next_refresh = time.monotonic() + self.refresh_seconds

    def set_lists(self, lists: Mapping[str, frozenset]) -> None:
        """Use these list contents (name → set of values) instead of the store's."""
        self._lists = {k: frozenset(v) for k, v in lists.items()}
        self._next_refresh = float("inf")

    def compiled(self, name: str, version: str) -> Strategy:
        key = (name, str(version))
        s = self._compiled.get(key)
        if s is None:
            sv = (self._store_call(f"reading strategy {name} version {version}", self.store.versions.get, name,
                                   str(version)) if self.store is not None else None)
            if sv is None:
                raise NoStrategyError(f"strategy {name} version {version} is not deployed")
            s = strategy_from_text(sv.source, f"{name}@{version}", features=self.feature_kinds,
                                   artifacts=sv.artifacts)
            self._compiled[key] = s
        return s

    def _route(self, event: Mapping[str, Any]) -> tuple[str, Any]:
        et = event["event_type"]
        product = event.get("product")
        if product and f"{et}/{product}" in self._routes:
            return f"{et}/{product}", self._routes[f"{et}/{product}"]
        if et in self._routes:
            return et, self._routes[et]
        raise NoStrategyError(f"no active strategy for event type {et!r}"
                              + (f" (product {product!r})" if product else "")
                              + "; deploy one with `fengkong strategy deploy FILE --activate`")

    def _select(self, event: Mapping[str, Any]) -> tuple[Strategy, str, list[Strategy]]:
        if self.fixed is not None:
            if self.fixed.event_type != event["event_type"]:
                raise NoStrategyError(f"strategy {self.fixed.name} is for {self.fixed.event_type!r} events, "
                                      f"not {event['event_type']!r}")
            return self.fixed, "champion", []
        route, cfg = self._route(event)
        if cfg.champion is None:
            raise NoStrategyError(f"route {route!r} has no champion")
        chosen, role = cfg.champion, "champion"
        if cfg.challengers:
            b = bucket_of(route, event.get(cfg.split_key))
            edge = 0.0
            for c in cfg.challengers:
                edge += float(c["percent"]) * 100
                if b < edge:
                    chosen, role = (c["name"], c["version"]), "challenger"
                    break
        shadows = [self.compiled(*s) for s in cfg.shadows]
        return self.compiled(*chosen), role, shadows

    # ------------------------------------------------------------ deciding

    def decide(self, event: Mapping[str, Any], extra: Mapping[str, Any] | None = None,
               looked_up: bool = False, validated: bool = False) -> Decision:
        """Decide one event (a dict as from ``fengkong.events.validate_event`` or raw JSON).

        ``extra``: fields added to the audit record beside the decision (e.g. the service's payload digest).
        ``looked_up``: the caller has just looked the request id up and found nothing, so the lookup is not
        repeated (a request id decided meanwhile by another process is still caught by the append).
        ``validated``: ``event`` is already the output of ``validate_event`` (not validated again).

        The decision is returned only once it is recorded: if the store fails (looking up the request id,
        loading a strategy version or appending to the audit log) a :class:`fengkong.store.StoreError` is
        raised instead and nothing is returned for this event, so the caller knows to send it again.
        """
        t0 = time.perf_counter()
        if self.validate and not validated:
            from fengkong.events import validate_event

            event = validate_event(event)
        rid = event["event_id"]
        if self.store is not None and not looked_up:
            stored = self._store_call("looking up the request id", self.store.decisions.get, rid)
            if stored is not None:
                return Decision.from_dict(stored, replayed=True)
        if time.monotonic() >= self._next_refresh:
            self.refresh()
        strategy, role, shadows = self._select(event)
        error: str | None = None
        feats: Mapping[str, Any] = {}
        if self.features is not None:
            try:
                feats = self.features.read_update(event)
            except LateEventError:  # the caller's error (too late, or ahead of the clock): not decided, not recorded
                raise
            except Exception as exc:  # store down, …: decide with the fallback
                error = f"features: {type(exc).__name__}: {exc}"
        ev = None
        if error is None:
            try:
                ev = strategy.evaluate(event, feats, self._lists)
            except NodeError as exc:
                error = str(exc)
        used = {k: _jsonable(feats.get(k)) for k in strategy.used_features}
        if ev is None:
            d = Decision(rid, event["event_type"], strategy.fallback, {}, {}, ["ENGINE_ERROR"],
                         [f"decided by the fallback outcome because {error}"], [], used, strategy.name,
                         strategy.version, role, error=error)
        else:
            d = Decision(rid, event["event_type"], ev.outcome, {k: _jsonable(v) for k, v in ev.outputs.items()},
                         ev.scores, ev.reason_codes, ev.reasons, ev.rules_hit, used, strategy.name,
                         strategy.version, role, score_reasons=ev.score_reasons)
        for sh in shadows:
            try:
                se = sh.evaluate(event, feats, self._lists)
                d.shadows.append({"strategy": sh.name, "version": sh.version, "outcome": se.outcome,
                                  "reason_codes": se.reason_codes, "outputs": se.outputs, "scores": se.scores})
            except NodeError as exc:
                d.shadows.append({"strategy": sh.name, "version": sh.version, "error": str(exc)})
        d.customer_id = event.get("customer_id")
        ts = event.get("ts")
        d.event_ts = ts.isoformat() if isinstance(ts, dt.datetime) else ts
        d.decided_at = dt.datetime.now(dt.UTC).isoformat()
        d.latency_ms = round((time.perf_counter() - t0) * 1000, 4)
        if self.store is not None:
            from fengkong.store import DuplicateRequest

            meta = {"request_id": rid, "event_type": d.event_type, "event_ts": d.event_ts,
                    "customer_id": d.customer_id, "strategy_name": d.strategy, "strategy_version": d.version,
                    "outcome": d.outcome, "created_at": d.decided_at}
            try:
                self._store_call(f"recording the decision of {rid!r} in the audit log",
                                 self.store.decisions.append, meta, {**d.to_dict(), **(extra or {})})
            except DuplicateRequest:  # another process decided it first: its decision stands
                stored = self._store_call("looking up the request id", self.store.decisions.get, rid)
                return Decision.from_dict(stored or d.to_dict(), replayed=True)
        return d

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit of the decisions made inside the block: their audit records are written in one
        transaction and the feature state's log entries in another, when the block ends (the feature state
        first, so a recorded decision always has its event counted). Nothing decided inside is durable
        before, so nothing should be acknowledged before; an error inside, or at a commit, records none of
        the decisions (a retry with the same request ids decides them again and counts nothing twice)."""
        group = getattr(getattr(self.store, "decisions", None), "group", None)
        feats = getattr(self.features, "batch", None)
        with group() if group is not None else contextlib.nullcontext(), \
                feats() if feats is not None else contextlib.nullcontext():
            yield

    def ingest(self, event: Mapping[str, Any]) -> Decision | None:
        """Decide ``event`` when a strategy is active for its type; otherwise fold it into the feature state
        and record it as ingested (idempotent by event id: a second delivery folds nothing twice).

        Returns the Decision, or None for an event that was only ingested. Raises EventValidationError for a
        bad, late or future-dated event (nothing folded, nothing recorded)."""
        from fengkong.events import validate_event
        from fengkong.events.canonical import digest, jsonable

        clean = validate_event(event) if self.validate else dict(event)
        try:
            return self.decide(clean, validated=True)
        except NoStrategyError:
            pass
        if self.features is not None:
            self.features.update(clean)
        if self.store is not None:
            from fengkong.store.ingested import record_event

            self._store_call(f"recording event {clean['event_id']!r} as ingested", record_event, self.store,
                             clean, digest(clean), jsonable(clean))
        return None
