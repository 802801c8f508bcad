"""Identity data at the service boundary: plaintext identity elements in, tokens out, before anything else.

Callers send ``id_no``, ``name``, ``phone``, ``bank_card``, ``contact_phones`` and ``rep_phone`` as their app
has them; :func:`tokenise_event` replaces each by its keyed token (``fengkong.events.pii``), derives age and gender
from an 18-digit ID number (after checking it: GB 11643 check digit, birth date; mobile numbers 1[3-9] + 9
digits), redacts ID/card/phone-looking numbers in free text, and refuses plaintext
identity data in a token field (a 422 naming it), so nothing downstream ever sees it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from fengkong.events import EventValidationError, fields_of, parse_ts, pii
from fengkong.events.canonical import canonical, digest, jsonable  # noqa: F401  (re-exported)

#: Plaintext identity fields accepted at the boundary, per event type (those whose token column it has).
RAW_FIELDS = tuple(pii.RAW_TO_TOKEN)
#: Free-text fields whose identity-looking numbers are masked instead of refused.
FREE_TEXT = frozenset({"text"})
#: Token fields: a caller may send tokens it computed with the same key, never the plaintext.
TOKEN_FIELDS = frozenset(pii.RAW_TO_TOKEN.values())


def raw_fields_of(event_type: str) -> tuple[str, ...]:
    names = {f.name for f in fields_of(event_type)}
    return tuple(r for r in RAW_FIELDS if pii.RAW_TO_TOKEN[r] in names)


def _derive(event: dict[str, Any], id_no: str, names: set[str]) -> None:
    """Age at the event and gender from an 18-digit resident ID number, for fields the caller left empty."""
    v = pii.normalise("id", id_no)
    if len(v) != 18 or not v[:17].isdigit():
        return
    try:
        birth = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return
    if "age" in names and event.get("age") is None and event.get("ts") is not None:
        try:
            ref = parse_ts(event["ts"]).date()
        except EventValidationError:
            return
        age = ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))
        if 0 <= age <= 120:
            event["age"] = age
    if "gender" in names and event.get("gender") is None:
        event["gender"] = "M" if int(v[16]) % 2 == 1 else "F"


_TOKEN_RE = re.compile(rf"^[0-9a-f]{{{pii.TOKEN_HEX_CHARS}}}$")


def _check_plain(field: str, value: Any) -> None:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if isinstance(v, str) and not _TOKEN_RE.match(v) and pii.redact(v) != v:
            raise EventValidationError(field, "looks like a plaintext ID, card or phone number; send identity "
                                              "elements in id_no / phone / bank_card / contact_phones / rep_phone")


def tokenise_event(raw: Mapping[str, Any], tok: pii.Tokenizer) -> dict[str, Any]:
    """A copy of ``raw`` with plaintext identity fields replaced by tokens (raises EventValidationError)."""
    event = dict(raw)
    et = event.get("event_type")
    if not isinstance(et, str):
        raise EventValidationError("event_type", "required field is missing")
    names = {f.name for f in fields_of(et)}
    allowed = raw_fields_of(et)
    for r in RAW_FIELDS:
        if r not in event:
            continue
        value = event.pop(r)
        if r not in allowed:
            raise EventValidationError(r, f"unknown field for event type {et!r}")
        if value is None:
            continue
        col = pii.RAW_TO_TOKEN[r]
        if event.get(col) is not None:
            raise EventValidationError(r, f"give either {r} or {col}, not both")
        kind = pii.TOKEN_KIND[col]
        if isinstance(value, list):
            if not all(isinstance(x, str) for x in value):
                raise EventValidationError(r, "expected a list of strings")
            for i, x in enumerate(value):
                if (problem := pii.identity_problem(r, x)) is not None:
                    raise EventValidationError(f"{r}[{i}]", problem)
            event[col] = [t for t in tok.tokens(kind, value) if t is not None]
        elif isinstance(value, str):
            if (problem := pii.identity_problem(r, value)) is not None:
                raise EventValidationError(r, problem)  # the value itself is never echoed
            if r == "id_no":
                _derive(event, value, names)
            event[col] = tok.token(kind, value)
        else:
            raise EventValidationError(r, f"expected text, got {type(value).__name__}")
    for k, v in event.items():
        if k in FREE_TEXT and isinstance(v, str):
            event[k] = pii.redact(v)
        elif k in TOKEN_FIELDS:
            _check_plain(k, v)
    return event

