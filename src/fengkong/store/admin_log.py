"""The append-only, hash-chained admin log: deploys, approvals, keys, users, case decisions.

Same chaining as the decision audit log: ``hash = sha256(prev_hash + "\\n" + canonical JSON of the row)``;
:meth:`AdminLog.verify` finds the first edited, deleted or reordered row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, text

from fengkong.store.decisions import GENESIS, VerifyResult
from fengkong.store.schema import admin_log

_FIELDS = ("seq", "at", "actor", "action", "target", "detail", "prev_hash")
_LOCK_KEY = 7_415_523_114  # advisory-lock id of the admin chain (PostgreSQL)


def admin_hash(row: Mapping[str, Any]) -> str:
    body = json.dumps([row[k] for k in _FIELDS], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{row['prev_hash']}\n{body}".encode()).hexdigest()


class AdminLog:
    """Append and verify administrative actions (``detail`` must hold no plaintext identity data)."""

    def __init__(self, engine: Any):
        self.engine = engine

    def append(self, actor: str, action: str, target: str | None = None,
               detail: Mapping[str, Any] | None = None) -> int:
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"))
            last = conn.execute(select(admin_log.c.seq, admin_log.c.hash).order_by(admin_log.c.seq.desc())
                                .limit(1)).first()
            row = {"seq": (last[0] + 1) if last else 1, "at": dt.datetime.now(dt.UTC).isoformat(),
                   "actor": actor, "action": action, "target": target,
                   "detail": json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str),
                   "prev_hash": last[1] if last else GENESIS}
            row["hash"] = admin_hash(row)
            conn.execute(admin_log.insert().values(**row))
            return int(row["seq"])

    def entries(self, limit: int = 100, offset: int = 0, action: str | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        q = select(admin_log).order_by(admin_log.c.seq.desc()).limit(limit).offset(offset)
        if action:
            q = q.where(admin_log.c.action == action)
        with self.engine.connect() as conn:
            return [{**dict(r), "detail": json.loads(r["detail"])} for r in conn.execute(q).mappings().all()]

    def verify(self) -> VerifyResult:
        prev, n, expected = GENESIS, 0, 1
        with self.engine.connect() as conn:
            rows = conn.execute(select(admin_log).order_by(admin_log.c.seq)).mappings()
            for r in rows:
                n += 1
                if r["seq"] != expected:
                    return VerifyResult(False, n, r["seq"], None, f"gap in the chain: expected seq {expected}")
                if r["prev_hash"] != prev:
                    return VerifyResult(False, n, r["seq"], None, "prev_hash does not match the previous row")
                if admin_hash(r) != r["hash"]:
                    return VerifyResult(False, n, r["seq"], None, "content does not match its hash (edited)")
                prev, expected = r["hash"], expected + 1
        return VerifyResult(True, n)
