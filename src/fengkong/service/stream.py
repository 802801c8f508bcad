"""``fengkong consume``: decide events from a stream; acknowledge only once the decision is durable.

The consumer speaks to an :class:`EventBus` — read a batch, acknowledge, publish, take over stale
deliveries — implemented here for Redis Streams (consumer groups). A Kafka bus implements the same four
methods (poll, commit offsets after the batch is durable, produce, and rebalancing for takeover).

Delivery is at least once and deciding is idempotent by request id, so every event is decided exactly
once in the audit log: a message whose decision was recorded but not acknowledged (the consumer died in
between) is redelivered, finds its stored decision, is published again marked ``replayed`` and acknowledged.
A message that can never be decided (bad JSON, schema error, id reused with another payload) is published
with its error and acknowledged; a store or feature-state failure leaves it unacknowledged for retry.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass
class Message:
    id: str
    payload: bytes | str


class EventBus(Protocol):
    """Where events come from and decisions go."""

    def read(self, count: int, block_ms: int) -> list[Message]:
        """Up to ``count`` messages: first this consumer's unacknowledged ones, then new ones."""

    def claim_stale(self, min_idle_ms: int, count: int) -> list[Message]:
        """Messages another (dead) consumer of the group received but never acknowledged."""

    def ack(self, ids: Iterable[str]) -> None:
        """Mark messages done (their decisions are durable)."""

    def publish(self, record: dict[str, Any]) -> None:
        """Put a decision / alert / error record on the output stream."""

    def rewind(self) -> None:
        """Deliver this consumer's unacknowledged messages again on the next read."""


class RedisStreams:
    """:class:`EventBus` over Redis Streams with a consumer group."""

    def __init__(self, url: str, stream: str, group: str, consumer: str, output: str, maxlen: int = 1_000_000):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=30)
        self.stream, self.group, self.consumer, self.output, self.maxlen = stream, group, consumer, output, maxlen
        try:
            self.client.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._backlog = True  # start by re-reading this consumer's own pending messages

    def read(self, count: int, block_ms: int) -> list[Message]:
        if self._backlog:
            got = self.client.xreadgroup(self.group, self.consumer, {self.stream: "0"}, count=count)
            msgs = _messages(got)
            if msgs:
                return msgs
            self._backlog = False
        got = self.client.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms)
        return _messages(got)

    def claim_stale(self, min_idle_ms: int, count: int) -> list[Message]:
        res = self.client.xautoclaim(self.stream, self.group, self.consumer, min_idle_time=min_idle_ms, count=count)
        return [Message(_s(i), f.get(b"event") or f.get("event") or b"") for i, f in (res[1] or []) if f]

    def ack(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self.client.xack(self.stream, self.group, *ids)

    def publish(self, record: dict[str, Any]) -> None:
        self.client.xadd(self.output, {"record": json.dumps(record, ensure_ascii=False, default=str)},
                         maxlen=self.maxlen, approximate=True)

    def rewind(self) -> None:
        self._backlog = True

    def close(self) -> None:
        self.client.close()


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _messages(got: Any) -> list[Message]:
    out = []
    for _stream, entries in got or []:
        for mid, fields in entries:
            if fields:
                out.append(Message(_s(mid), fields.get(b"event") or fields.get("event") or b""))
    return out


def process(svc: Any, payload: bytes | str) -> dict[str, Any]:
    """Decide (or fold in, when no strategy is active for its type) one message; the record to publish.

    Raises :class:`~fengkong.service.decider.Unavailable` when the store or feature state failed (retry).
    """
    from fengkong.engine import NoStrategyError
    from fengkong.events import EventValidationError
    from fengkong.service.decider import Conflict

    try:
        raw = json.loads(payload)
    except ValueError as exc:
        return {"request_id": None, "kind": "error", "error": f"not valid JSON: {exc}"}
    if not isinstance(raw, dict):
        return {"request_id": None, "kind": "error", "error": "a message must hold one JSON object"}
    try:
        clean, dg = svc.prepare(raw)
    except EventValidationError as exc:
        from fengkong.events.pii import redact

        return {"request_id": raw.get("event_id"), "kind": "error", "error": redact(str(exc))}
    try:
        out = svc.call(svc.decide_clean, clean, dg)
        rec = out.body()
        alerts = [] if rec["outcome"] in ("approve", "allow") else list(rec["reason_codes"])
        return {"request_id": clean["event_id"], "kind": "decision", "outcome": rec["outcome"], "alerts": alerts,
                "replayed": out.replayed, "decision": rec}
    except NoStrategyError:
        pass
    except Conflict as exc:
        return {"request_id": clean["event_id"], "kind": "error", "error": str(exc)}
    try:
        res = svc.call(svc._ingest_only, clean, dg)
    except (Conflict, EventValidationError) as exc:
        return {"request_id": clean["event_id"], "kind": "error", "error": str(exc)}
    return {"request_id": clean["event_id"], "kind": "event", "replayed": res["replayed"], "alerts": []}


def run_consumer(settings: Any, bus: Any, max_events: int | None = None, idle_exit: float | None = None,
                 batch: int = 100, block_ms: int = 1000, claim_idle_ms: int = 30_000) -> int:
    """Consume until stopped (SIGTERM/SIGINT), ``max_events`` handled or ``idle_exit`` seconds without input."""
    from fengkong.service.app import build_state
    from fengkong.service.decider import Unavailable

    state = build_state(settings)
    svc = state["service"]
    stop = {"now": False}

    def _stop(*_a: Any) -> None:
        stop["now"] = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    n, idle_since, last_claim = 0, time.monotonic(), 0.0
    try:
        while not stop["now"] and (max_events is None or n < max_events):
            msgs = bus.read(batch, block_ms)
            if not msgs and time.monotonic() - last_claim > claim_idle_ms / 1000:
                msgs = bus.claim_stale(claim_idle_ms, batch)
                last_claim = time.monotonic()
            if not msgs:
                if idle_exit and time.monotonic() - idle_since > idle_exit:
                    break
                continue
            idle_since = time.monotonic()
            for m in msgs:
                try:
                    rec = process(svc, m.payload)
                except Unavailable as exc:  # not acknowledged: redelivered to this or another consumer
                    log.warning("message %s not decided (%s); retrying later", m.id, exc)
                    bus.rewind()
                    time.sleep(1.0)
                    break
                bus.publish(rec)
                bus.ack([m.id])
                n += 1
                if max_events is not None and n >= max_events:
                    break
    finally:
        svc.close()
        state["store"].close()
    return n
