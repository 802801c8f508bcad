"""Answers of the engine thread handed to event-loop futures in bulk: one loop wake-up per group commit.

A ``concurrent.futures.Future`` wrapped for asyncio costs a ``call_soon_threadsafe`` (a write to the loop's
wake-up pipe, and a callback chain on both threads) per request. A :class:`LoopWaiter` is settled on the
engine thread without touching the loop; :func:`deliver` then passes every settled waiter of a group to its
loop in one call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

_UNSET = object()


class LoopWaiter:
    """The engine-thread side of one asyncio future: the ``cf.Future`` methods the group commit calls."""

    __slots__ = ("error", "fut", "loop", "sent", "value")

    def __init__(self, fut: asyncio.Future, loop: asyncio.AbstractEventLoop):
        self.fut, self.loop = fut, loop
        self.value: Any = _UNSET
        self.error: BaseException | None = None
        self.sent = False  # handed to the loop (each waiter is delivered once)

    def set_running_or_notify_cancel(self) -> bool:
        """False when the caller already gave up (its time bound passed): the request is not decided."""
        return not self.fut.done()

    def set_result(self, value: Any) -> None:
        self.value = value

    def set_exception(self, exc: BaseException) -> None:
        self.error = exc

    def done(self) -> bool:
        return self.error is not None or self.value is not _UNSET


def _settle(waiters: list[LoopWaiter]) -> None:
    """On the loop: resolve the futures whose callers still wait."""
    for w in waiters:
        if w.fut.done():
            continue
        if w.error is not None:
            w.fut.set_exception(w.error)
        else:
            w.fut.set_result(w.value)


def deliver(waiters: Iterable[Any]) -> None:
    """Hand the settled, not yet delivered :class:`LoopWaiter` s among ``waiters`` to their loops, one call
    per loop (other futures among them are left alone)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[LoopWaiter]] = {}
    for w in waiters:
        if type(w) is LoopWaiter and not w.sent and w.done():
            w.sent = True
            by_loop.setdefault(w.loop, []).append(w)
    for loop, ws in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, ws)
