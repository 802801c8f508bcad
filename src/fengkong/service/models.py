"""Request and response models of API v1, generated from the one event schema (``fengkong.events``).

Each event type gets a model with its fields (types, required, choices, ranges) plus the plaintext identity
fields the boundary accepts; ``Event`` is their union discriminated by ``event_type``, so a schema error is a
422 naming the field path and the OpenAPI document says exactly what is accepted.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from fengkong.events import EVENT_TYPES, fields_of
from fengkong.service.boundary import raw_fields_of

_PY = {"datetime": AwareDatetime, "date": dt.date, "bool": bool, "int": int, "float": float, "list": list[str],
       "str": str}
_RAW_DOC = {
    "id_no": "Plaintext national ID number; tokenised (and age/gender derived) at the boundary, never stored.",
    "name": "Plaintext name; tokenised at the boundary, never stored.",
    "phone": "Plaintext mobile number; tokenised at the boundary, never stored.",
    "bank_card": "Plaintext bank card / account number; tokenised at the boundary, never stored.",
    "contact_phones": "Plaintext contact phone numbers; tokenised at the boundary, never stored.",
    "rep_phone": "Plaintext phone of a representative; tokenised at the boundary, never stored.",
}


_INT_RANGE = {"Int16": (-(2**15), 2**15 - 1), "Int32": (-(2**31), 2**31 - 1), "Int64": (-(2**63), 2**63 - 1)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _model(event_type: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for f in fields_of(event_type):
        if f.name == "event_type":
            fields["event_type"] = (Literal[event_type], Field(description=f.doc))  # type: ignore[valid-type]
            continue
        t: Any = Literal[f.choices] if f.choices else _PY[f.kind]  # type: ignore[valid-type]
        kw: dict[str, Any] = {"description": f.doc}
        if f.kind in ("int", "float"):
            lo, hi = _INT_RANGE.get(str(f.dtype), (None, None))
            kw["ge"] = f.min if f.min is not None else lo
            kw["le"] = f.max if f.max is not None else hi
            if kw["ge"] is None:
                del kw["ge"]
            if kw["le"] is None:
                del kw["le"]
            if f.kind == "float":
                kw["allow_inf_nan"] = False
        if f.kind == "str" and f.name in ("event_id", "customer_id"):
            kw.update(min_length=1, max_length=128)
        if f.required:
            fields[f.name] = (t, Field(**kw))
        else:
            fields[f.name] = (t | None, Field(None, **kw))
    for r in raw_fields_of(event_type):
        t = list[str] if r == "contact_phones" else str
        fields[r] = (t | None, Field(None, description=_RAW_DOC[r]))
    name = "".join(p.capitalize() for p in event_type.split("_")) + "Event"
    return create_model(name, __base__=_Strict, **fields)


EVENT_MODELS: dict[str, type[BaseModel]] = {et: _model(et) for et in EVENT_TYPES}
Event = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="event_type")]  # type: ignore[valid-type]  # noqa: UP007


def event_dict(m: BaseModel) -> dict[str, Any]:
    """The fields the caller set (and event_type), as Python values."""
    d = m.model_dump(exclude_unset=True)
    d["event_type"] = m.event_type  # type: ignore[attr-defined]
    return d


class Batch(_Strict):
    events: list[Event] = Field(..., min_length=1, description="Events to decide, in order (at most max_batch).")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class DecisionOut(_Open):
    """A recorded decision (identity data only as tokens)."""

    request_id: str
    event_type: str
    outcome: str
    outputs: dict[str, Any]
    scores: dict[str, Any]
    reason_codes: list[str]
    reasons: list[str]
    rules_hit: list[str]
    features: dict[str, Any]
    strategy: str
    version: str
    role: str
    shadows: list[dict[str, Any]]
    latency_ms: float
    replayed: bool = Field(description="True when this is the stored decision of an earlier request with this id.")


class BatchItem(_Open):
    index: int
    status: int
    decision: DecisionOut | None = None
    detail: Any = None


class BatchOut(_Open):
    results: list[BatchItem]


class EventAccepted(_Open):
    request_id: str
    accepted: bool
    decided: bool
    replayed: bool
    outcome: str | None = None
    alerts: list[str] = Field(default_factory=list)


class DecisionPage(_Open):
    customer_id: str
    decisions: list[dict[str, Any]]
    next_before: int | None = Field(None, description="Pass as ?before= for the next (older) page.")


class ListEntryIn(_Strict):
    value: str = Field(..., min_length=1, max_length=256, description="A token or key (never plaintext identity).")
    kind: Literal["block", "allow", "watch"] = "block"
    reason: str | None = Field(None, max_length=512)
    source: str | None = Field(None, max_length=128)
    expires_at: AwareDatetime | None = None
    expires_days: float | None = Field(None, gt=0, le=36500)


class ListRemoveIn(_Strict):
    value: str = Field(..., min_length=1, max_length=256)


class ListExpireIn(_Strict):
    value: str = Field(..., min_length=1, max_length=256)
    expires_at: AwareDatetime


class IdentityIn(_Strict):
    """Exactly one of ``id_no`` (plaintext, tokenised here) or ``id_token``."""

    id_no: str | None = Field(None, max_length=64)
    id_token: str | None = Field(None, max_length=64)
    actor: Literal["person", "lender"] = "lender"
    reason: str = Field(..., min_length=1, max_length=512)


class NotMeIn(IdentityIn):
    application_ids: list[str] = Field(..., min_length=1, max_length=1000)
    lock: bool = True


class DeployIn(_Strict):
    source: str = Field(..., min_length=1, max_length=1_000_000, description="The strategy YAML text.")
    activate: Literal["champion", "challenger", "shadow"] | None = None
    percent: float = Field(0.0, ge=0, le=100)
    split_key: str | None = Field(None, max_length=64)


class ActivateIn(_Strict):
    role: Literal["champion", "challenger", "shadow", "off"] = "champion"
    percent: float = Field(0.0, ge=0, le=100)
    split_key: str | None = Field(None, max_length=64)


class RollbackIn(_Strict):
    target: str = Field(..., min_length=1, max_length=256, description="Route (event_type[/product]) or strategy name.")


class RejectIn(_Strict):
    note: str | None = Field(None, max_length=1024)


class BacktestIn(_Strict):
    strategy: str = Field(..., min_length=1, max_length=256, description="name@version (or name = latest).")
    events: str = Field(..., min_length=1, max_length=1024, description="World directory under the data_dir.")
    against: str | None = Field(None, max_length=256)


class KeyIn(_Strict):
    name: str = Field(..., min_length=1, max_length=256)
    roles: list[str] = Field(..., min_length=1)


class UserIn(_Strict):
    username: str = Field(..., min_length=1, max_length=128)
    password: str = Field(..., min_length=8, max_length=256)
    roles: list[str] = Field(..., min_length=1)
    display_name: str | None = Field(None, max_length=256)
