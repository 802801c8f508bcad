"""The Redis feature state store: one event log shared by every replica of the service."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from fengkong.features.stores import Folder, R, StoreUnavailableError, View, _Replicated, _safe, dumps, loads

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
