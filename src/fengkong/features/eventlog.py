"""An append-only log of the events a feature provider folds, beside the feature state (SQLite file).

A provider whose state lives in process memory (complaints, collections) appends each event it folds
(only the fields it reads) and, before reading, applies what other processes appended since, in ``seq``
order: its state is rebuilt at open and several processes sharing the file converge, as the fraud pack's
graph log does. ``append`` is one ``INSERT OR IGNORE`` keyed by ``event_id`` (idempotent).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fengkong import walcheckpoint

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def log_path(state: str, name: str) -> Path | None:
    """Where provider ``name``'s log of feature state ``state`` lives: beside a SQLite state file, else None
    (``memory`` and ``redis://`` states keep the provider in process)."""
    if state == "memory" or "://" in state:
        return None
    p = Path(state)
    return p.with_name(f"{p.name}.{name}-events.sqlite")


class EventLog:
    """The log of one provider (table ``<name>_event``); ``fields``: the event fields kept."""

    def __init__(self, path: str | Path, name: str, fields: Iterable[str]) -> None:
        if not _NAME.match(name):
            raise ValueError(f"event log name {name!r}: lower-case letters, digits and _ only")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.table = f"{name}_event"
        self.fields = frozenset(fields) | {"event_id", "event_type", "ts"}
        # one thread at a time (the engine thread, or the event loop in inline mode); sqlite3 is serialized
        self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit (a killed process loses nothing)
        walcheckpoint.start(self._db, str(self.path))  # WAL fsyncs off the decision path
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "event_id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL)")
        self.last_seq = 0
        self._mine: set[str] = set()  # own appends not yet passed by ``last_seq`` (never applied twice)

    def pending(self) -> list[dict[str, Any]]:
        """Events appended (by anyone) after the last one this process applied, in order."""
        rows = self._db.execute(f"SELECT seq, payload FROM {self.table} WHERE seq > ? ORDER BY seq",
                                (self.last_seq,)).fetchall()
        out = []
        for seq, payload in rows:
            self.last_seq = seq
            ev = json.loads(payload)
            if ev.get("event_id") in self._mine:
                self._mine.discard(ev["event_id"])
                continue
            if ev.get("ts"):
                ev["ts"] = dt.datetime.fromisoformat(ev["ts"])
            out.append(ev)
        return out

    def append(self, event: Mapping[str, Any]) -> bool:
        """Log ``event`` (False when its id was logged before). Call :meth:`pending` first."""
        payload = {k: v for k, v in event.items() if k in self.fields and v is not None}
        ts = event.get("ts")
        payload["ts"] = ts.isoformat() if isinstance(ts, dt.datetime) else ts
        cur = self._db.execute(f"INSERT OR IGNORE INTO {self.table} (event_id, payload) VALUES (?, ?)",
                               (event["event_id"], json.dumps(payload, ensure_ascii=False, default=str)))
        if cur.rowcount == 1:
            if cur.lastrowid == self.last_seq + 1:
                self.last_seq = cur.lastrowid  # nobody else appended in between: the caller folds it itself
            else:
                self._mine.add(event["event_id"])  # skipped when catching up past the others' rows
        return cur.rowcount == 1

    def close(self) -> None:
        if self._db is not None:  # once: the checkpoint thread counts its users
            walcheckpoint.release(str(self.path))
            self._db.close()
            self._db = None  # type: ignore[assignment]
