"""Pluggable online feature state stores: in-process memory, SQLite (embedded default), Redis (shared).

A store holds JSON-able values under string keys and runs one event's read-and-write as an atomic
transaction: every write of an event lands, or none does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson

R = TypeVar("R")


class StoreUnavailableError(RuntimeError):
    """The state store cannot be reached or used; the message names the store."""


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of a state value (orjson; integers beyond 64 bits are an error)."""
    return orjson.dumps(value)


def loads(raw: bytes | str) -> Any:
    """The state value of JSON text or bytes."""
    return orjson.loads(raw)


class Txn:
    """One transaction: ``get`` reads (and remembers), ``put``/``delete`` stage writes until commit."""

    def __init__(self, reader: Callable[[str], Any]):
        self._reader = reader
        self.cache: dict[str, Any] = {}
        self.writes: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        if key in self.cache:
            return self.cache[key]
        v = self._reader(key)
        self.cache[key] = v
        return v

    def put(self, key: str, value: Any) -> None:
        self.cache[key] = value
        self.writes[key] = value

    def delete(self, key: str) -> None:
        self.cache[key] = None
        self.writes[key] = None


class MemoryStore:
    """In-process dict; values are live Python objects (tests, benchmarks, single-process use)."""

    name = "memory"

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self._lock = threading.Lock()

    def run(self, op: Callable[[Any], R], write: bool = True) -> R:
        with self._lock:
            return op(self)

    # the memory store is its own transaction: reads are live, writes immediate
    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def keys(self, prefix: str = "") -> Iterator[str]:
        return iter([k for k in self.data if k.startswith(prefix)])

    def close(self) -> None:
        pass


class SQLiteStore:
    """State in one SQLite file (WAL); survives restarts; one transaction per event.

    Decoded values are cached in process; the cache is dropped whenever another connection has
    committed to the file (``PRAGMA data_version``) or a transaction fails, so several processes
    may share the file and a rolled-back event leaves no trace in memory either.
    """

    name = "sqlite"

    def __init__(self, path: str | Path, cache_keys: int = 200_000):
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("CREATE TABLE IF NOT EXISTS fk_state (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"SQLite state store {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}
        self._cache_keys = cache_keys
        self._data_version: int | None = None

    def _read(self, key: str) -> Any:
        cache = self._cache
        if key in cache:
            return cache[key]
        row = self.conn.execute("SELECT v FROM fk_state WHERE k = ?", (key,)).fetchone()
        v = None if row is None else loads(row[0])
        if len(cache) >= self._cache_keys:
            cache.clear()
        cache[key] = v
        return v

    def run(self, op: Callable[[Any], R], write: bool = True) -> R:
        with self._lock:
            try:
                conn = self.conn
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                    if version != self._data_version:  # another connection committed: cache is stale
                        self._cache.clear()
                        self._data_version = version
                    txn = Txn(self._read)
                    result = op(txn)
                    if txn.writes:
                        gone = [(k,) for k, v in txn.writes.items() if v is None]
                        kept = [(k, dumps(v)) for k, v in txn.writes.items() if v is not None]
                        if gone:
                            conn.executemany("DELETE FROM fk_state WHERE k = ?", gone)
                        if kept:
                            conn.executemany("INSERT OR REPLACE INTO fk_state (k, v) VALUES (?, ?)", kept)
                    conn.execute("COMMIT")
                    self._cache.update(txn.writes)
                    return result
                except BaseException:
                    self._cache.clear()  # values read in this transaction may have been mutated
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"SQLite state store {self.path}: {exc}") from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        rows = self.conn.execute("SELECT k FROM fk_state WHERE k >= ? AND k < ?", (prefix, prefix + "\uffff"))
        return iter([r[0] for r in rows.fetchall()])

    def close(self) -> None:
        self._cache.clear()
        self.conn.close()


class RedisStore:
    """State in Redis under ``prefix``; optimistic transactions (WATCH/MULTI/EXEC) so replicas can share it."""

    name = "redis"

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", prefix: str = "fk:", retries: int = 50):
        import redis

        self.url, self.prefix, self.retries = url, prefix, retries
        self._redis = redis
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise StoreUnavailableError(f"Redis state store {_safe(url)}: {exc}") from exc

    def run(self, op: Callable[[Any], R], write: bool = True) -> R:
        redis = self._redis
        try:
            for _ in range(self.retries):
                with self.client.pipeline(transaction=True) as pipe:
                    def reader(key: str, pipe: Any = pipe) -> Any:
                        k = self.prefix + key
                        if write:
                            pipe.watch(k)
                            raw = pipe.get(k)
                        else:
                            raw = self.client.get(k)
                        return None if raw is None else loads(raw)

                    txn = Txn(reader)
                    try:
                        result = op(txn)
                        if not write or not txn.writes:
                            pipe.reset()
                            return result
                        pipe.multi()
                        for k, v in txn.writes.items():
                            if v is None:
                                pipe.delete(self.prefix + k)
                            else:
                                pipe.set(self.prefix + k, dumps(v))
                        pipe.execute()
                        return result
                    except redis.WatchError:
                        continue
            raise StoreUnavailableError(f"Redis state store {_safe(self.url)}: too much contention "
                                        f"({self.retries} retries)")
        except redis.RedisError as exc:
            raise StoreUnavailableError(f"Redis state store {_safe(self.url)}: {exc}") from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        n = len(self.prefix)
        try:
            return iter([k.decode()[n:] for k in self.client.scan_iter(match=self.prefix + prefix + "*",
                                                                        count=1000)])
        except self._redis.RedisError as exc:
            raise StoreUnavailableError(f"Redis state store {_safe(self.url)}: {exc}") from exc

    def clear(self) -> None:
        """Delete every key under this store's prefix."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=1000))
        for i in range(0, len(keys), 1000):
            self.client.delete(*keys[i:i + 1000])

    def close(self) -> None:
        self.client.close()


def _safe(url: str) -> str:
    """The URL without a password."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return scheme + "://***@" + rest.split("@", 1)[1]
    return url
