"""The event layer: what an event is, reading and writing event files, and identity tokens.

Public face (everything else lives in the submodules it is named after):

- :mod:`fengkong.events.model` — fields, types, the one tabular schema, ``validate_event``;
- :mod:`fengkong.events.files` — event files with row-level quarantine (``read_events``, ``read_world``);
- :mod:`fengkong.events.pii` — keyed tokens, masking and log redaction of identity data;
- :mod:`fengkong.events.doc` — the Markdown reference of the model (docs/events.md);
- :mod:`fengkong.events.cli` — ``fengkong events ...``.
"""

from fengkong.events.model import (
    CATEGORIES,
    COMMON,
    ENTITY_KEYS,
    EVENT_SCHEMA,
    EVENT_TYPES,
    PROHIBITED_CATEGORIES,
    RECORDS,
    SPECS,
    TS_DTYPE,
    TZ,
    TZ_NAME,
    UNION_FIELDS,
    Application,
    CollectionContact,
    Complaint,
    Customer,
    Disbursement,
    EventValidationError,
    Field,
    Purchase,
    Repayment,
    Transfer,
    empty_frame,
    fields_of,
    parse_ts,
    record_from_dict,
    schema_of,
    to_union,
    validate_event,
)

__all__ = [
    "CATEGORIES",
    "COMMON",
    "ENTITY_KEYS",
    "EVENT_SCHEMA",
    "EVENT_TYPES",
    "PROHIBITED_CATEGORIES",
    "RECORDS",
    "SPECS",
    "TS_DTYPE",
    "TZ",
    "TZ_NAME",
    "UNION_FIELDS",
    "Application",
    "CollectionContact",
    "Complaint",
    "Customer",
    "Disbursement",
    "EventValidationError",
    "Field",
    "Purchase",
    "Repayment",
    "Transfer",
    "empty_frame",
    "fields_of",
    "parse_ts",
    "record_from_dict",
    "schema_of",
    "to_union",
    "validate_event",
]
