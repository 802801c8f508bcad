"""The SQLite feature state store: durable and embedded, an event log and checkpoints in one file."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fengkong import walcheckpoint
from fengkong.features.stores import Folder, R, StoreUnavailableError, View, _Replicated, dumps, loads

_APPEND_IF_CURRENT = ("INSERT INTO fk_log (body) SELECT ? WHERE coalesce((SELECT seq FROM sqlite_sequence "
                      "WHERE name = 'fk_log'), 0) = ?")


class SQLiteStore(_Replicated):
    """State in one SQLite file (WAL): an event log (``fk_log``) plus checkpoints (``fk_state``).

    ``event()`` commits the event's log entry before returning (``synchronous=NORMAL`` survives a killed
    process; pass ``synchronous="FULL"`` to survive a power cut too). Several processes may share the file:
    under the write lock each first replays the entries the others appended.
    """

    name = "sqlite"

    def __init__(self, path: str | Path, checkpoint_every: int = 100_000, synchronous: str = "NORMAL"):
        super().__init__(checkpoint_every)
        self._in_batch = False
        self.path = str(path)
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous={synchronous!r} is not OFF, NORMAL, FULL or EXTRA")
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self.conn.execute("PRAGMA busy_timeout=10000")
            walcheckpoint.start(self.conn, self.path)  # WAL fsyncs off the event path
            self.conn.execute("CREATE TABLE IF NOT EXISTS fk_state (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
            self.conn.execute("CREATE TABLE IF NOT EXISTS fk_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                              "body BLOB NOT NULL)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS fk_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"SQLite state store {self.path}: {exc}") from exc

    def _fail(self, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(f"SQLite state store {self.path}: {exc}")

    def _load(self) -> tuple[dict[str, Any], int, list[tuple[int, bytes]]]:
        c = self.conn
        try:
            c.execute("BEGIN")
            try:
                row = c.execute("SELECT v FROM fk_meta WHERE k = 'ckpt'").fetchone()
                seq = row[0] if row else 0
                state = {k: loads(v) for k, v in c.execute("SELECT k, v FROM fk_state")}
                tail = c.execute("SELECT seq, body FROM fk_log WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
            finally:
                c.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc
        return state, seq, tail

    def _catch_up(self) -> None:
        """Inside a transaction: replay entries appended by other connections since ours."""
        rows = self.conn.execute("SELECT seq, body FROM fk_log WHERE seq > ? ORDER BY seq", (self.seq,)).fetchall()
        if rows and not self._replay(rows):
            self._reload_in_txn()

    def _reload_in_txn(self) -> None:
        c = self.conn
        row = c.execute("SELECT v FROM fk_meta WHERE k = 'ckpt'").fetchone()
        seq = row[0] if row else 0
        self.view = View({k: loads(v) for k, v in c.execute("SELECT k, v FROM fk_state")})
        self.seq = seq
        self._replay(c.execute("SELECT seq, body FROM fk_log WHERE seq > ? ORDER BY seq", (seq,)).fetchall())

    def run(self, op: Callable[[Any], R], write: bool = True) -> R:
        """Run ``op(view)`` atomically (for value-preserving maintenance such as expiry; not logged)."""
        with self._lock:
            if self._in_batch:  # already inside the batch's transaction, at the log's end
                return op(self.view)
            self._ensure()
            c = self.conn
            before = self.view.writes
            try:
                c.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    self._catch_up()
                    before = self.view.writes
                    result = op(self.view)
                    c.execute("COMMIT")
                    return result
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
            except BaseException as exc:
                self._after_failure(before)
                if isinstance(exc, sqlite3.Error):
                    raise self._fail(exc) from exc
                raise

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit: the events folded inside are logged in one transaction, durable when the block
        ends (not before: a caller acknowledges them after it). Holds the write lock for the block, so
        other writers wait; an error inside rolls the log back and the replica is rebuilt from the file.
        Nested blocks join the outer one."""
        with self._lock:
            if self._in_batch:
                yield
                return
            c = self.conn
            self._ensure()
            before = self.view.writes  # an event folded inside moves it: a failure then rebuilds the replica
            try:
                c.execute("BEGIN IMMEDIATE")
                self._catch_up()
                self._in_batch = True
                yield
                c.execute("COMMIT")
            except BaseException as exc:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                self._in_batch = False
                self._after_failure(before)
                if isinstance(exc, sqlite3.Error):
                    raise self._fail(exc) from exc
                raise
            finally:
                self._in_batch = False
            if self.checkpoint_every and self._since_ckpt >= self.checkpoint_every:
                self.checkpoint()

    def _event_in_batch(self, e: dict, t: int, read: Callable[[Any, dict, int], Any] | None,
                        folder: Folder) -> Any:
        """Inside :meth:`batch`: the write lock is held and the replica is at the log's end, so the entry is
        appended without the compare step; it becomes durable when the batch commits."""
        view = self.view
        out = read(view, e, t) if read is not None else folder.check(view, e, t)
        if folder.seen(view, e["event_id"]):
            return out
        cur = self.conn.execute("INSERT INTO fk_log (body) VALUES (?)", (folder.encode(e, t),))
        self.seq = cur.lastrowid
        folder.apply(view, e, t)
        self._since_ckpt += 1
        return out

    def event(self, e: dict, t: int, read: Callable[[Any, dict, int], Any] | None, folder: Folder) -> Any:
        """Read (optional) and fold in one event; returns only after its log entry is committed
        (inside :meth:`batch`: when the batch commits).

        Optimistic, one statement when no other process appended meanwhile: the values are computed on
        the replica, then the entry is inserted only if the log still ends at the replica's position
        (``sqlite_sequence`` holds the last seq even after checkpoints trimmed the log); otherwise the
        other writers' entries are folded in and the event is computed again.
        """
        with self._lock:
            if self._in_batch:
                try:
                    return self._event_in_batch(e, t, read, folder)
                except sqlite3.Error as exc:
                    raise self._fail(exc) from exc
            c = self.conn
            before = self.view.writes
            try:
                self._ensure()
                body = folder.encode(e, t)
                eid = e["event_id"]
                for _ in range(1000):
                    view = self.view
                    before = view.writes
                    out = read(view, e, t) if read is not None else folder.check(view, e, t)
                    if folder.seen(view, eid):  # a redelivery: nothing to log; values as of the log's end
                        if self._tail_rows():
                            self._catch_up_now()
                            continue
                        return out
                    try:
                        cur = c.execute(_APPEND_IF_CURRENT, (body, self.seq))
                    except sqlite3.OperationalError as exc:  # another writer won the race (stale snapshot)
                        if "locked" not in str(exc) and "busy" not in str(exc):
                            raise
                        self._catch_up_now()
                        continue
                    if cur.rowcount == 1:
                        self.seq = cur.lastrowid
                        folder.apply(view, e, t)
                        break
                    self._catch_up_now()
                else:
                    raise StoreUnavailableError(f"SQLite state store {self.path}: too much contention")
            except BaseException as exc:
                self._after_failure(before)
                if isinstance(exc, sqlite3.Error):
                    raise self._fail(exc) from exc
                raise
            self._tick()
            return out

    def _tail_rows(self) -> list[tuple[int, bytes]]:
        return self.conn.execute("SELECT seq, body FROM fk_log WHERE seq > ? ORDER BY seq", (self.seq,)).fetchall()

    def _catch_up_now(self) -> None:
        """Outside a transaction: fold in other writers' entries (or reload if the log was trimmed past us)."""
        c = self.conn
        c.execute("BEGIN")
        try:
            self._catch_up()
        finally:
            c.execute("COMMIT")

    def checkpoint(self) -> None:
        """Write the keys changed since the last checkpoint and drop the log entries it covers."""
        with self._lock:
            self._ensure()
            c = self.conn
            try:
                c.execute("BEGIN IMMEDIATE")
                try:
                    self._catch_up()
                    view = self.view
                    dirty = sorted(view.dirty)  # key order: B-tree pages filled in sequence
                    data = view.data
                    gone = [(k,) for k in dirty if k not in data]
                    kept = [(k, dumps(data[k])) for k in dirty if k in data]
                    if gone:
                        c.executemany("DELETE FROM fk_state WHERE k = ?", gone)
                    if kept:
                        c.executemany("INSERT OR REPLACE INTO fk_state (k, v) VALUES (?, ?)", kept)
                    c.execute("INSERT OR REPLACE INTO fk_meta (k, v) VALUES ('ckpt', ?)", (self.seq,))
                    c.execute("DELETE FROM fk_log WHERE seq <= ?", (self.seq,))
                    c.execute("COMMIT")
                except BaseException:
                    if c.in_transaction:
                        c.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
            view.dirty = set()
            self._since_ckpt = 0

    def log_length(self) -> int:
        """Log entries not yet covered by a checkpoint."""
        return int(self.conn.execute("SELECT count(*) FROM fk_log").fetchone()[0])

    def close(self) -> None:
        try:
            if self.checkpoint_every and self.folder is not None and self.seq >= 0 and (self.view.dirty or self._since_ckpt):
                self.checkpoint()
        finally:
            walcheckpoint.release(self.path)
            self.conn.close()
