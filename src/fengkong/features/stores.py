"""Online feature state stores: the in-process state and memory store, and what the log-backed stores
(:mod:`~fengkong.features.store_sqlite`, :mod:`~fengkong.features.store_redis`) share.

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
import threading
from array import array
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import orjson

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
