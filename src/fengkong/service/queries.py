"""Read models of the service over the store: decisions by customer (paged), events accepted without a decision."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from fengkong.store.ingested import event_digest, record_event  # noqa: F401  (re-exported)
from fengkong.store.schema import decisions, service_events


def decisions_of(store: Any, customer_id: str, limit: int = 50, before: int | None = None) -> tuple[list[dict], int | None]:
    """Newest first; ``before`` is the seq to page below. Returns (records, seq to pass for the next page)."""
    q = (select(decisions.c.seq, decisions.c.record).where(decisions.c.customer_id == customer_id)
         .order_by(decisions.c.seq.desc()).limit(limit + 1))
    if before is not None:
        q = q.where(decisions.c.seq < before)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    out = []
    for seq, rec in rows:
        r = json.loads(rec)
        r.pop("event", None)
        r.pop("payload_sha256", None)
        r["seq"] = seq
        out.append(r)
    return out, (rows[-1][0] if more and rows else None)


def customer_events(store: Any, customer_ids: set[str]) -> list[dict[str, Any]]:
    """Every tokenised event the service saw for these customers (decided ones from the audit log)."""
    out: list[dict[str, Any]] = []
    if not customer_ids:
        return out
    with store.engine.connect() as conn:
        for (rec,) in conn.execute(select(decisions.c.record).where(decisions.c.customer_id.in_(sorted(customer_ids)))):
            ev = json.loads(rec).get("event")
            if ev:
                out.append(ev)
        for (body,) in conn.execute(select(service_events.c.body)
                                    .where(service_events.c.customer_id.in_(sorted(customer_ids)))):
            out.append(json.loads(body))
    return out


def decided_events(store: Any, request_ids: list[str]) -> list[dict[str, Any]]:
    """The tokenised events behind these request ids (from the audit log), where recorded."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(decisions.c.record).where(decisions.c.request_id.in_(request_ids))).all()
    return [ev for (rec,) in rows if (ev := json.loads(rec).get("event"))]


def expire_entries(store: Any, list_name: str, value: str, at: dt.datetime) -> int:
    """Set the expiry of a value's active entries of a list to ``at``; returns how many."""
    from sqlalchemy import update

    from fengkong.store.schema import lists

    with store.engine.begin() as conn:
        return conn.execute(update(lists).where(lists.c.list_name == list_name, lists.c.value == value,
                                                lists.c.removed_at.is_(None))
                            .values(expires_at=at.astimezone(dt.UTC).isoformat())).rowcount
