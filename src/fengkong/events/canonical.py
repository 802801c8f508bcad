"""Canonical JSON of a validated event and its digest: what idempotency (same id, same payload) compares."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson


def _default(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def canonical(event: Mapping[str, Any]) -> bytes:
    """Canonical JSON of a validated event (sorted keys, ISO timestamps) — what the payload digest covers."""
    return orjson.dumps(dict(event), default=_default, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME)


def digest(event: Mapping[str, Any]) -> str:
    """sha256 of :func:`canonical`: the same request id with another digest is a different request (409)."""
    return hashlib.sha256(canonical(event)).hexdigest()


def jsonable(event: Mapping[str, Any]) -> dict[str, Any]:
    """The validated event as plain JSON types."""
    return orjson.loads(canonical(event))
