"""Events as JSON: one document, an array of them, or JSON Lines (a file or standard input), numbered by line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fengkong.errors import InputError


class EventSourceError(InputError, ValueError):
    """The event source as a whole cannot be read (missing, not UTF-8, not JSON); the message names it."""


def _parse(line: str, n: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return ValueError(f"line {n}: not valid JSON ({exc.msg})")


def event_records(source: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON or the ValueError of that line) for each event of a file, or of standard
    input for ``"-"`` (JSON Lines). A file is one JSON object, a JSON array, or JSON Lines; a source that is
    none of them raises :class:`EventSourceError` before any record."""
    if str(source) == "-":
        for n, line in enumerate(sys.stdin, 1):
            if line.strip():
                yield n, _parse(line, n)
        return
    p = Path(source)
    if not p.exists():
        raise EventSourceError(f"{source}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EventSourceError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise EventSourceError(f"{source}: cannot read: {exc.strerror}") from None
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        whole = None
        # not JSON as a whole: JSON Lines only if the first line (or, when that one is the broken one,
        # the second) is a complete object on its own; otherwise it is one (pretty-printed) document
        # with one error, where the parser stopped
        head = [ln for ln in text.splitlines()[:50] if ln.strip()][:2]
        if not any(isinstance(_parse(ln, 1), dict) for ln in head):
            raise EventSourceError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    if isinstance(whole, dict):
        yield 1, whole
        return
    if isinstance(whole, list):
        yield from enumerate(whole, 1)
        return
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield n, _parse(line, n)
