"""Events accepted without a decision (no active strategy for their type): kept with their payload digest."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from fengkong.store.schema import service_events


def event_digest(store: Any, request_id: str) -> str | None:
    """The payload digest of an event accepted by ``POST /v1/events``, or None."""
    with store.engine.connect() as conn:
        r = conn.execute(select(service_events.c.payload_sha256)
                         .where(service_events.c.request_id == request_id)).first()
    return None if r is None else r[0]


def record_event(store: Any, clean: dict[str, Any], dg: str, body: dict[str, Any]) -> None:
    """Keep an accepted (tokenised) event; a concurrent insert of the same id is not an error."""
    from sqlalchemy.exc import IntegrityError

    ts = clean.get("ts")
    row = {"request_id": clean["event_id"], "event_type": clean["event_type"], "customer_id": clean.get("customer_id"),
           "event_ts": ts.isoformat() if isinstance(ts, dt.datetime) else ts, "payload_sha256": dg,
           "body": json.dumps(body, ensure_ascii=False, sort_keys=True),
           "received_at": dt.datetime.now(dt.UTC).isoformat()}
    try:
        with store.engine.begin() as conn:
            conn.execute(service_events.insert().values(**row))
    except IntegrityError:
        if event_digest(store, clean["event_id"]) is None:
            raise
