"""Online feature state stores: in-process memory, SQLite (durable, embedded), Redis (shared by replicas).

Every store keeps the live state in process memory (plain Python objects, updated in place) so one
event costs O(features) Python work. The durable stores add an append-only **event log** and periodic
**checkpoints**: an event is acknowledged once its log entry is committed; on restart a store loads the
last checkpoint and replays the log after it; several processes sharing one store catch up on each
other's log entries before every event, so they compute exactly what one process would in log order.
See docs/features.md ("State layout and durability").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson

from fengkong import walcheckpoint
from fengkong.errors import UnavailableError

R = TypeVar("R")


class StoreUnavailableError(UnavailableError, RuntimeError):
    """The state store cannot be reached or used; the message names the store."""


def _default(o: Any) -> Any:
    if isinstance(o, array):
        return o.tolist()
    raise TypeError(f"cannot store a {type(o).__name__} in feature state")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of a state value (orjson; int64 arrays as lists; integers beyond 64 bits are an error)."""
    return orjson.dumps(value, default=_default)


#: Fields of a state value held as int64 arrays (timestamps): compact and not tracked by the cyclic GC.
ARRAY_FIELDS = ("t", "ls", "cs", "cn")


def loads(raw: bytes | str) -> Any:
    """The state value of JSON text or bytes (timestamp lists back to int64 arrays)."""
    v = orjson.loads(raw)
    if isinstance(v, dict):
        for k in ARRAY_FIELDS:
            x = v.get(k)
            if type(x) is list:
                with contextlib.suppress(OverflowError):  # a sum beyond int64 stays a list of exact integers
                    v[k] = array("q", x)
    return v


class Folder(Protocol):
    """What a store needs from the feature engine to replay its log (``OnlineFeatures`` implements it)."""

    def check(self, view: Any, event: dict, t: int) -> None: ...  # raise LateEventError if too late
    def seen(self, view: Any, event_id: str) -> bool: ...  # already folded in
    def apply(self, view: Any, event: dict, t: int) -> None: ...  # fold the event into the state
    def encode(self, event: dict, t: int) -> bytes: ...  # the log entry of an event
    def decode(self, body: bytes) -> tuple[dict, int]: ...  # (event, t) of a log entry


class View:
    """The state as seen by one operation: a dict of live objects, with the keys written since the last
    checkpoint (``dirty``) and a write counter (to know whether a failed operation touched anything)."""

    __slots__ = ("data", "dirty", "writes")
    #: generated feature writers mark the keys they change in ``dirty`` (and bump ``writes``) when true
    tracks_dirty = True

    def __init__(self, data: dict[str, Any] | None = None):
        self.data: dict[str, Any] = {} if data is None else data
        self.dirty: set[str] = set()
        self.writes = 0

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.dirty.add(key)
        self.writes += 1

    def delete(self, key: str) -> None:
        self.data.pop(key, None)
        self.dirty.add(key)
        self.writes += 1

    def keys(self, prefix: str = "") -> Iterator[str]:
        return iter([k for k in self.data if k.startswith(prefix)])


class MemoryStore(View):
    """In-process dict; values are live Python objects (tests, benchmarks, single-process use).

    Not durable: the state is gone when the process ends.
    """

    name = "memory"
    tracks_dirty = False

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def put(self, key: str, value: Any) -> None:  # no dirty tracking: nothing is ever checkpointed
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def attach(self, folder: Folder) -> None:
        pass

    def run(self, op: Callable[[Any], R], write: bool = True) -> R:
        with self._lock:
            return op(self)

    def event(self, e: dict, t: int, read: Callable[[Any, dict, int], Any] | None, folder: Folder) -> Any:
        """``read`` (may raise before writing anything), then fold the event in; under one lock."""
        with self._lock:
            out = read(self, e, t) if read is not None else folder.check(self, e, t)
            folder.apply(self, e, t)
            return out

    def close(self) -> None:
        pass


class _Replicated:
    """Shared logic of the log-backed stores: an in-process replica of the state at log position ``seq``."""

    name = "?"

    def __init__(self, checkpoint_every: int) -> None:
        self.view = View()
        self.seq = 0
        self.checkpoint_every = checkpoint_every
        self._since_ckpt = 0
        self._lock = threading.RLock()
        self.folder: Folder | None = None

    # backend hooks -------------------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> StoreUnavailableError:
        raise NotImplementedError

    def _load(self) -> tuple[dict[str, Any], int, list[tuple[int, bytes]]]:
        """(checkpointed state, its seq, log entries after it) read atomically."""
        raise NotImplementedError

    # shared ---------------------------------------------------------------------------------------
    @property
    def data(self) -> dict[str, Any]:
        return self.view.data

    def attach(self, folder: Folder) -> None:
        """Use ``folder`` to replay log entries, and load the state (checkpoint + log tail)."""
        self.folder = folder
        with self._lock:
            self._reload()

    def _reload(self) -> None:
        if self.folder is None:
            raise StoreUnavailableError(f"{self.name} state store: no feature set attached")
        state, seq, tail = self._load()
        self.view = View({k: v for k, v in state.items() if v is not None})
        self.seq = seq
        self._replay(tail)  # keys the tail changes are dirty: the next checkpoint writes them

    def _replay(self, entries: list[tuple[int, bytes]]) -> bool:
        """Fold other writers' entries (seq contiguous after ours); False if there is a gap (reload)."""
        folder = self.folder
        assert folder is not None
        for seq, body in entries:
            if seq != self.seq + 1:
                return False
            e, t = folder.decode(body)
            folder.apply(self.view, e, t)
            self.seq = seq
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        return self.view.keys(prefix)

    def get(self, key: str) -> Any:
        return self.view.get(key)

    def _after_failure(self, writes_before: int) -> None:
        """An operation failed: if it had written to the replica, rebuild the replica from the store."""
        if self.view.writes != writes_before:
            try:
                self._reload()
            except StoreUnavailableError:
                self.view = View()
                self.seq = -1  # unusable until a reload succeeds (next operation retries)

    def _ensure(self) -> None:
        if self.seq < 0:
            self._reload()

    def _tick(self) -> None:
        self._since_ckpt += 1
        if self.checkpoint_every and self._since_ckpt >= self.checkpoint_every:
            self.checkpoint()


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


_APPEND = """
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
local base = tonumber(redis.call('GET', KEYS[3]) or '0')
local my = tonumber(ARGV[1])
if my < base then return {-1} end
if my == head then
  if ARGV[2] ~= '' then
    redis.call('RPUSH', KEYS[1], ARGV[2])
    redis.call('SET', KEYS[2], head + 1)
    return {head + 1}
  end
  return {head}
end
return {head, redis.call('LRANGE', KEYS[1], my - base, head - base - 1)}
"""


class RedisStore(_Replicated):
    """State shared by several processes through Redis: the event log is a Redis list.

    One round trip per event: a server-side script appends the event's log entry only if this process
    has already folded in every earlier entry (compare-and-append); otherwise it returns the missing
    entries, which the process folds in before recomputing the event (so the values are those of one
    process reading the log in order). Checkpoints go to a Redis hash; the log before them is trimmed.
    """

    name = "redis"

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", prefix: str = "fk:", retries: int = 1000,
                 checkpoint_every: int = 100_000):
        import redis

        super().__init__(checkpoint_every)
        self.url, self.prefix, self.retries = url, prefix, retries
        self._redis = redis
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._k_log, self._k_head, self._k_base, self._k_state = (prefix + s for s in ("log", "head", "base", "state"))
        self._conn: Any = None  # the connection of the per-event calls (see _call)
        try:
            self.client.ping()
            self._sha = self.client.script_load(_APPEND)
        except redis.RedisError as exc:
            raise StoreUnavailableError(f"Redis state store {_safe(url)}: {exc}") from exc

    def _fail(self, exc: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(f"Redis state store {_safe(self.url)}: {exc}")

    def _load(self) -> tuple[dict[str, Any], int, list[tuple[int, bytes]]]:
        try:
            with self.client.pipeline(transaction=True) as p:
                p.hgetall(self._k_state)
                p.get(self._k_base)
                p.lrange(self._k_log, 0, -1)
                state, base, log = p.execute()
        except self._redis.RedisError as exc:
            raise self._fail(exc) from exc
        b = int(base or 0)
        return ({k.decode(): loads(v) for k, v in state.items()}, b,
                [(b + 1 + i, body) for i, body in enumerate(log)])

    def _call(self, body: bytes) -> list:
        """One EVALSHA of the append script on this store's own connection (no pool round per event);
        the script is loaded again when the server lost it (NOSCRIPT, e.g. after a restart)."""
        conn = self._conn
        if conn is None:
            conn = self._conn = self.client.connection_pool.make_connection()
        args = ("EVALSHA", self._sha, 3, self._k_log, self._k_head, self._k_base, self.seq, body)
        try:
            try:
                conn.send_command(*args)
                return conn.read_response()
            except self._redis.exceptions.NoScriptError:
                self.client.script_load(_APPEND)
                conn.send_command(*args)
                return conn.read_response()
        except BaseException:
            self._conn = None
            conn.disconnect()
            raise

    def _sync(self, res: list) -> None:
        """Fold the entries a refused append returned (or reload when the log was trimmed past us)."""
        if res[0] == -1:
            self._reload()
            return
        head, entries = int(res[0]), res[1]
        start = self.seq + 1
        if not self._replay([(start + i, body) for i, body in enumerate(entries)]) or self.seq != head:
            self._reload()

    def run(self, op: Callable[[Any], R], write: bool = True) -> R:
        """Run ``op(view)`` on the replica brought up to date (maintenance such as expiry; not logged)."""
        with self._lock:
            before = self.view.writes
            try:
                self._ensure()
                res = self._call(b"")
                if len(res) > 1 or res[0] == -1:
                    self._sync(res)
                before = self.view.writes
                return op(self.view)
            except BaseException as exc:
                self._after_failure(before)
                if isinstance(exc, self._redis.RedisError):
                    raise self._fail(exc) from exc
                raise

    def event(self, e: dict, t: int, read: Callable[[Any, dict, int], Any] | None, folder: Folder) -> Any:
        """Read (optional) and fold in one event; returns once Redis holds its log entry."""
        with self._lock:
            before = self.view.writes
            try:
                self._ensure()
                body = folder.encode(e, t)
                eid = e["event_id"]
                for _ in range(self.retries):
                    view = self.view
                    before = view.writes
                    out = read(view, e, t) if read is not None else folder.check(view, e, t)
                    dup = folder.seen(view, eid)
                    res = self._call(b"" if dup else body)
                    if len(res) == 1 and res[0] != -1:
                        if dup:
                            return out
                        self.seq = int(res[0])
                        folder.apply(view, e, t)
                        break
                    self._sync(res)
                else:
                    raise StoreUnavailableError(f"Redis state store {_safe(self.url)}: too much contention "
                                                f"({self.retries} retries)")
            except BaseException as exc:
                self._after_failure(before)
                if isinstance(exc, self._redis.RedisError):
                    raise self._fail(exc) from exc
                raise
            self._tick()
            return out

    def checkpoint(self) -> bool:
        """Write the keys changed since the last checkpoint and trim the log; False if another process
        appended meanwhile (the next checkpoint retries)."""
        redis = self._redis
        with self._lock:
            self._ensure()
            view = self.view
            dirty = view.dirty
            data = view.data
            try:
                with self.client.pipeline(transaction=True) as p:
                    p.watch(self._k_head, self._k_base)
                    head, base = int(p.get(self._k_head) or 0), int(p.get(self._k_base) or 0)
                    if head != self.seq or base > self.seq:
                        p.reset()
                        return False
                    p.multi()
                    kept = {k: dumps(data[k]) for k in dirty if k in data}
                    gone = [k for k in dirty if k not in data]
                    items = list(kept.items())
                    for i in range(0, len(items), 5000):
                        p.hset(self._k_state, mapping=dict(items[i:i + 5000]))
                    for i in range(0, len(gone), 5000):
                        p.hdel(self._k_state, *gone[i:i + 5000])
                    p.ltrim(self._k_log, self.seq - base, -1)
                    p.set(self._k_base, self.seq)
                    p.execute()
            except redis.WatchError:
                return False
            except redis.RedisError as exc:
                raise self._fail(exc) from exc
            view.dirty = set()
            self._since_ckpt = 0
            return True

    def log_length(self) -> int:
        """Log entries not yet covered by a checkpoint."""
        return int(self.client.llen(self._k_log))

    def clear(self) -> None:
        """Delete every key under this store's prefix (and forget the replica)."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=1000))
        for i in range(0, len(keys), 1000):
            self.client.delete(*keys[i:i + 1000])
        self.view = View()
        self.seq = 0
        self.folder = None

    def close(self) -> None:
        try:
            if self.checkpoint_every and self.folder is not None and self.seq >= 0 and (self.view.dirty or self._since_ckpt):
                with contextlib.suppress(StoreUnavailableError):  # the log still holds every entry
                    self.checkpoint()
        finally:
            if self._conn is not None:
                self._conn.disconnect()
                self._conn = None
            self.client.close()


def decode_event(raw: dict, datetimes: frozenset[str], dates: frozenset[str]) -> dict:
    """A logged event back to the dict the features saw (ISO datetimes/dates parsed again)."""
    for k in datetimes:
        v = raw.get(k)
        if isinstance(v, str):
            raw[k] = dt.datetime.fromisoformat(v)
    for k in dates:
        v = raw.get(k)
        if isinstance(v, str):
            raw[k] = dt.date.fromisoformat(v)
    return raw


def _safe(url: str) -> str:
    """The URL without a password."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return scheme + "://***@" + rest.split("@", 1)[1]
    return url
