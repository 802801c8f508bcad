"""Deciding a stream of events in groups: one commit of the feature state and of the audit log per group."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fengkong.errors import UnavailableError

#: Events decided per group commit (results are handed on after each group's commit).
GROUP = 256


@dataclass(frozen=True)
class Outcome:
    """What became of one event: its ``decision`` (None when only ingested, or on ``error``)."""

    line: int
    event: Any
    decision: Any
    error: str | None


class StreamStoreError(UnavailableError, RuntimeError):
    """The store failed while deciding: the event of ``line`` and the ones after it were not decided (the
    outcomes handed on before are recorded)."""

    def __init__(self, line: int, cause: BaseException):
        self.line = line
        super().__init__(
            f"line {line}: {cause}; this event and the ones after it were not decided (send them again)"
        )


def decide_stream(
    engine: Any, records: Iterable[tuple[int, Any]], ingest: bool = False, group: int = GROUP
) -> Iterator[list[Outcome]]:
    """Decide (or, with ``ingest``, ingest) ``(line, event)`` records group by group, yielding each group's
    outcomes once its commits are done. A bad event is an outcome with ``error`` (not decided, not
    recorded); a store failure raises :class:`StreamStoreError` naming the first event not decided. A group
    that meets an event recorded meanwhile by another process is decided again one event at a time."""
    from fengkong.engine.core import NoStrategyError
    from fengkong.events import EventValidationError
    from fengkong.store import DuplicateRequest, StoreError

    def one(n: int, obj: Any) -> Outcome:
        try:
            if isinstance(obj, Exception):
                raise obj
            if not isinstance(obj, dict):
                raise ValueError(f"line {n}: an event must be a JSON object")
            return Outcome(n, obj, engine.ingest(obj) if ingest else engine.decide(obj), None)
        except (EventValidationError, NoStrategyError, ValueError) as exc:
            return Outcome(n, obj, None, str(exc) if str(exc).startswith("line ") else f"line {n}: {exc}")

    it = iter(records)
    while True:
        pending = [x for _, x in zip(range(group), it, strict=False)]
        if not pending:
            return
        try:
            with engine.batch():
                results = [one(n, obj) for n, obj in pending]
        except DuplicateRequest:  # another process recorded one of them meanwhile: one by one
            results = []
            for n, obj in pending:
                try:
                    results.append(one(n, obj))
                except StoreError as exc:
                    raise StreamStoreError(n, exc) from None
        except StoreError as exc:
            raise StreamStoreError(pending[0][0], exc) from None
        yield results
