"""Query and export the decision audit log: by request id, customer and event-time range, in chain order."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fengkong.settings import BUSINESS_OFFSET
from fengkong.store.schema import decisions

#: Columns of an exported row (the record's lists and maps are JSON text in CSV).
EXPORT_COLUMNS = ("seq", "request_id", "event_type", "event_ts", "customer_id", "strategy", "version", "role",
                  "outcome", "reason_codes", "rules_hit", "scores", "outputs", "features", "error", "latency_ms",
                  "created_at", "hash")


def _bound(value: dt.date | dt.datetime | str | None, end: bool) -> str | None:
    """An ISO bound comparable with the stored ``event_ts`` (always Asia/Shanghai, ``+08:00``)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{'--until' if end else '--since'}: not an ISO date or timestamp: {value!r}") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"{'--until' if end else '--since'}: a timestamp needs its offset (or give a date)")
        return value.astimezone(BUSINESS_OFFSET).isoformat()
    # a date: the whole day in the business calendar (until is inclusive)
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime(day.year, day.month, day.day, tzinfo=BUSINESS_OFFSET).isoformat()


def query(store: Any, request_id: str | None = None, customer_id: str | None = None,
          since: dt.date | dt.datetime | str | None = None, until: dt.date | dt.datetime | str | None = None,
          limit: int | None = None, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Decisions matching every given filter, in chain (``seq``) order, as export rows.

    ``since``/``until`` bound the event time: a date covers its whole business day (``until`` inclusive),
    a timestamp is exact (``until`` exclusive). Reads in batches; never loads the whole log."""
    lo, hi = _bound(since, False), _bound(until, True)
    cols = [decisions.c[k] for k in ("seq", "request_id", "event_type", "event_ts", "customer_id", "strategy_name",
                                     "strategy_version", "outcome", "record", "created_at", "hash")]
    last, n = 0, 0
    while True:
        q = select(*cols).where(decisions.c.seq > last).order_by(decisions.c.seq).limit(batch)
        if request_id is not None:
            q = q.where(decisions.c.request_id == request_id)
        if customer_id is not None:
            q = q.where(decisions.c.customer_id == customer_id)
        if lo is not None:
            q = q.where(decisions.c.event_ts >= lo)
        if hi is not None:
            q = q.where(decisions.c.event_ts < hi)
        with store.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        if not rows:
            return
        for r in rows:
            yield _row(r)
            n += 1
            if limit is not None and n >= limit:
                return
        last = rows[-1]["seq"]


def _row(r: Any) -> dict[str, Any]:
    rec = json.loads(r["record"])
    return {"seq": r["seq"], "request_id": r["request_id"], "event_type": r["event_type"], "event_ts": r["event_ts"],
            "customer_id": r["customer_id"], "strategy": r["strategy_name"], "version": r["strategy_version"],
            "role": rec.get("role"), "outcome": r["outcome"], "reason_codes": rec.get("reason_codes") or [],
            "rules_hit": rec.get("rules_hit") or [], "scores": rec.get("scores") or {},
            "outputs": rec.get("outputs") or {}, "features": rec.get("features") or {}, "error": rec.get("error"),
            "latency_ms": rec.get("latency_ms"), "created_at": r["created_at"], "hash": r["hash"]}


def export(rows: Iterator[dict[str, Any]], out: Path) -> int:
    """Write rows to ``out`` (``.jsonl`` or ``.csv``, chosen by suffix); returns the number written.

    CSV cells that a spreadsheet would run as a formula (leading ``= + - @``) are prefixed with ``'``."""
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise ValueError(f"--out: {out.name}: write .jsonl or .csv")
    if not out.parent.is_dir():
        raise ValueError(f"--out: folder {out.parent} does not exist")
    n = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        if suffix == ".jsonl":
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
            return n
        w = csv.writer(f)
        w.writerow(EXPORT_COLUMNS)
        for r in rows:
            w.writerow([_cell(r[c]) for c in EXPORT_COLUMNS])
            n += 1
    return n


def _cell(v: Any) -> Any:
    if isinstance(v, list | dict):
        v = json.dumps(v, ensure_ascii=False, sort_keys=True)
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v
