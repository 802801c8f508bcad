"""The decision audit log: append-only, each row hash-chained to the previous one.

``hash = sha256(prev_hash + "\\n" + canonical JSON of the row)``; editing, deleting or reordering a
row breaks the chain at that row, which :meth:`DecisionLog.verify` reports. Appends are serialised
(SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock) so the chain stays linear
with several writer processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from fengkong.errors import ConflictError

GENESIS = "0" * 64
#: Columns covered by the hash, in this order (``record`` is hashed as its stored text).
HASHED = ("seq", "request_id", "event_type", "event_ts", "customer_id", "strategy_name", "strategy_version",
          "outcome", "record", "created_at", "prev_hash")
COLUMNS = (*HASHED, "hash")
_LOCK_KEY = 7_415_523_113
#: A record's stored text: compact UTF-8 JSON, keys sorted, datetimes (and anything else) as ``str(v)``.
_RECORD_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME  # advisory-lock id of the decision chain (PostgreSQL)


def chain_hash(row: dict[str, Any]) -> str:
    """sha256 over the previous hash, the row's metadata (a JSON list) and its record text."""
    meta = json.dumps([row[k] for k in HASHED if k != "record"], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{row['prev_hash']}\n{meta}\n{row['record']}".encode()).hexdigest()


class DuplicateRequest(ConflictError):
    """A decision with this request id is already stored (returned by the caller instead)."""


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    request_id: str | None = None
    reason: str | None = None


class DecisionLog:
    """Append and read decisions. Uses one DBAPI connection of the engine for the hot path."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._proxy: Any = None
        self._raw: Any = None
        self._wal_thread = ""
        self._connect()
        self._ph = "?" if self.dialect == "sqlite" else "%s"
        cols = ", ".join(COLUMNS)
        self._insert = f"INSERT INTO fk_decisions ({cols}) VALUES ({', '.join([self._ph] * len(COLUMNS))})"
        self._last = "SELECT seq, hash FROM fk_decisions ORDER BY seq DESC LIMIT 1"
        self._get = f"SELECT record FROM fk_decisions WHERE request_id = {self._ph}"
        self._lock = threading.Lock()  # one DBAPI connection: serialise use from several threads

    def _connect(self) -> None:
        self._proxy = self.engine.raw_connection()
        self._raw = self._proxy.driver_connection  # the DBAPI connection itself: no proxy per call
        if self.dialect == "sqlite" and not self._wal_thread:
            from fengkong import walcheckpoint

            path = self.engine.url.database or ""
            walcheckpoint.start(self._raw, path)  # WAL fsyncs off the decision path
            self._wal_thread = path

    def _discard(self) -> None:
        """Drop the connection after a failure (server gone, connection killed): the next call reconnects."""
        proxy, self._proxy, self._raw = self._proxy, None, None
        if proxy is not None:
            with contextlib.suppress(Exception):
                proxy.invalidate()

    def _cursor(self) -> Any:
        if self._raw is None:
            self._connect()
        return self._raw.cursor()

    def close(self) -> None:
        if self._wal_thread:
            from fengkong import walcheckpoint

            walcheckpoint.release(self._wal_thread)
            self._wal_thread = ""
        with contextlib.suppress(Exception):
            if self._proxy is not None:
                self._proxy.close()

    def _begin(self, cur: Any) -> None:
        if self.dialect == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        elif self.dialect == "postgresql":
            cur.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")

    def _commit(self, cur: Any) -> None:
        if self.dialect == "sqlite":
            cur.execute("COMMIT")
        else:
            self._raw.commit()

    def _rollback(self, cur: Any) -> None:
        try:
            if self.dialect == "sqlite":
                cur.execute("ROLLBACK")
            else:
                self._raw.rollback()
        except Exception:  # pragma: no cover
            pass

    def get(self, request_id: str) -> dict[str, Any] | None:
        """The stored decision record of a request id, or None."""
        with self._lock:
            cur = self._cursor()
            try:
                cur.execute(self._get, (request_id,))
                row = cur.fetchone()
                if self.dialect != "sqlite":
                    self._raw.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.close()
                self._discard()
                raise
            cur.close()
        return None if row is None else orjson.loads(row[0])

    def append(self, meta: dict[str, Any], record: dict[str, Any]) -> int:
        """Append one decision; returns its seq. Raises DuplicateRequest if the request id is stored."""
        body = orjson.dumps(record, default=str, option=_RECORD_OPTS).decode()
        with self._lock:
            cur = self._cursor()
            try:
                self._begin(cur)
                try:
                    cur.execute(self._last)
                    last = cur.fetchone()
                    row = dict(meta)
                    row["seq"] = (last[0] + 1) if last else 1
                    row["prev_hash"] = last[1] if last else GENESIS
                    row["record"] = body
                    row["hash"] = chain_hash(row)
                    cur.execute(self._insert, tuple(row[c] for c in COLUMNS))
                    self._commit(cur)
                    return row["seq"]
                except BaseException as exc:
                    self._rollback(cur)
                    if _is_unique_violation(exc):
                        raise DuplicateRequest(meta["request_id"]) from None
                    raise
            except DuplicateRequest:
                raise
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.close()
                self._discard()
                raise
            finally:
                with contextlib.suppress(Exception):
                    cur.close()

    def rows(self, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Every row in chain order."""
        from sqlalchemy import text

        last = 0
        while True:
            with self.engine.connect() as conn:
                res = conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM fk_decisions WHERE seq > :s "
                                        f"ORDER BY seq LIMIT :n"), {"s": last, "n": batch}).mappings().all()
            if not res:
                return
            for r in res:
                yield dict(r)
            last = res[-1]["seq"]

    def verify(self) -> VerifyResult:
        """Recompute the chain; report the first row whose link or content does not match."""
        prev = GENESIS
        expected_seq = None
        n = 0
        for r in self.rows():
            n += 1
            if expected_seq is not None and r["seq"] != expected_seq:
                return VerifyResult(False, n, r["seq"], r["request_id"],
                                    f"gap in the chain: expected seq {expected_seq}, found {r['seq']}")
            if r["prev_hash"] != prev:
                return VerifyResult(False, n, r["seq"], r["request_id"],
                                    "prev_hash does not match the previous record (a record was deleted or edited)")
            if chain_hash(r) != r["hash"]:
                return VerifyResult(False, n, r["seq"], r["request_id"], "content does not match its hash (edited)")
            prev = r["hash"]
            expected_seq = r["seq"] + 1
        return VerifyResult(True, n)

    def count(self) -> int:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM fk_decisions")).scalar() or 0)


def _is_unique_violation(exc: BaseException) -> bool:
    name = type(exc).__name__
    msg = str(exc).lower()
    return name in ("IntegrityError", "UniqueViolation") and ("unique" in msg or "duplicate" in msg)
