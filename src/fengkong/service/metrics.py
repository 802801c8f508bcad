"""Prometheus metrics of one service process (its own registry, so several apps can live in one process)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LAT = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Request and decision latency, outcomes, rule hits, store errors, feature-state lag."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Histogram("fengkong_http_request_seconds", "HTTP request latency by route and status.",
                                  ("method", "route", "status"), registry=r, buckets=_LAT)
        self.decision_latency = Histogram("fengkong_decision_seconds", "Engine decision latency (features, "
                                          "strategy, audit append) by event type and strategy version.",
                                          ("event_type", "strategy", "version"), registry=r, buckets=_LAT)
        self.decisions = Counter("fengkong_decisions", "Decisions by event type, outcome and role.",
                                 ("event_type", "outcome", "role"), registry=r)
        self.rule_hits = Counter("fengkong_rule_hits", "Rule hits by strategy and rule.", ("strategy", "rule"),
                                 registry=r)
        self.fallbacks = Counter("fengkong_fallback_decisions", "Decisions taken by the fallback outcome "
                                 "because a dependency failed.", ("event_type",), registry=r)
        self.events = Counter("fengkong_events_ingested", "Events folded into the state without a decision.",
                              ("event_type",), registry=r)
        self.store_errors = Counter("fengkong_store_errors", "Store failures by action.", ("action",), registry=r)
        self.lag = Gauge("fengkong_feature_state_lag_seconds", "Wall clock minus the timestamp of the newest event "
                         "folded into the feature state by this process.", registry=r)
        self._newest: float | None = None
        self.lag.set_function(self._lag)

    def _lag(self) -> float:
        return 0.0 if self._newest is None else max(time.time() - self._newest, 0.0)

    def note_event_ts(self, ts: Any) -> None:
        if isinstance(ts, dt.datetime):
            t = ts.timestamp()
            if self._newest is None or t > self._newest:
                self._newest = t

    def observe(self, d: Any, event: dict[str, Any]) -> None:
        """Count one new decision (``d`` a :class:`fengkong.engine.Decision`)."""
        self.decision_latency.labels(d.event_type, d.strategy, d.version).observe(d.latency_ms / 1000)
        self.decisions.labels(d.event_type, d.outcome, d.role).inc()
        for rule in d.rules_hit:
            self.rule_hits.labels(d.strategy, rule).inc()
        if d.error:
            self.fallbacks.labels(d.event_type).inc()
        self.note_event_ts(event.get("ts"))

    def render(self) -> bytes:
        return generate_latest(self.registry)
