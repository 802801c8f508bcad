"""Render the event model (every field, type and meaning) as Markdown for docs/events.md."""

from __future__ import annotations

from fengkong.events.model import COMMON, ENTITY_KEYS, EVENT_TYPES, SPECS, Field

INTRO = """# The event model

Every risk question in fengkong starts with an **event**. There are eight event types; each
is a typed record (`fengkong.events.Application`, …) and a row of one tabular schema
(`fengkong.events.EVENT_SCHEMA`, Polars/Arrow dtypes): a stream of mixed events is one
frame whose columns are the union of all fields, and a field name has one dtype everywhere.

Rules that hold for every event:

- `event_id` is unique; a second event with the same id is a duplicate (rejected in a file,
  returned from the stored decision online).
- `ts` is timezone-aware. Text without an offset is rejected; values are stored in
  Asia/Shanghai (the business calendar).
- `event_id` is 1–128 printable characters; `ts` lies in 1970-01-01 .. 2099-12-31.
- Money is integer fen (`*_fen`, 1 yuan = 100 fen, at most 10^15 fen); integers must fit their
  column's type; rates are annual decimals (0.18 = 18 %).
- Online (`fengkong decide`, `fengkong ingest`, the service) an event more than 5 minutes ahead of the
  machine's clock, or older than the feature state's newest event minus the late tolerance (1 hour), is
  refused on its own (`field 'ts'`, exit 1 / HTTP 422): it is not decided, not recorded and does not
  move the state's watermark; the events after it are decided as usual.
- Identity elements (ID number, name, phone, bank card, contact and representative phones) are
  never stored: only their keyed tokens (`*_token`, see [pii.md](pii.md)). A file may carry the
  raw columns `id_no`, `name`, `phone`, `bank_card`, `contact_phones`, `rep_phone`; they are
  tokenised at the boundary, before validation, and dropped. Age and gender are derived from an
  ID number when the file does not give them.
- *Entity keys* are the fields features can be keyed by (velocity per phone, distinct IDs per
  device…). The list-valued key `contact_tokens` keys a feature per listed contact (an event's value
  is the largest over its contacts) and also feeds the cross-entity features `shared_applicants`
  and `contacts_overdue_share` (see [features.md](features.md)).

## Reading a file of events

```sh
cat > application.csv <<'CSV'
event_id,event_type,ts,customer_id,product,amount_fen,term_months
A1,application,2026-03-01T10:00:00+08:00,C1,credit_line,500000,12
A2,application,2026-03-01T10:05:00+08:00,C2,cash_loan,2000000,6
A3,application,2026-03-01T10:07:00+08:00,C3,mortgage,90000000,240
CSV
fengkong events validate application.csv --out good.parquet || echo "exit $?"
#> application.csv: row 3: field 'product': 'mortgage' is not one of credit_line, cash_loan
#> application.csv: row 3: field 'term_months': 240 is above the maximum 120
#> 2 good rows, 1 quarantined → application.csv.quarantine.jsonl
#> exit 1
```

Parquet, CSV and JSON Lines are accepted; the event type comes from the file name
(`application.csv`, `purchase-2026-01.parquet`) or `--type`. Each field is validated column by
column (type, required, allowed values, range) and every bad row is reported as
`row N: field 'F': reason` (rows are 1-based data rows; in a CSV, line = row + 1) and written,
with its original values and reasons, to `<file>.quarantine.jsonl`. Good rows go on; the
command exits 1 when anything was quarantined. Nothing is dropped silently: good rows +
quarantined rows = rows read. Each error is one line, never wrapped (also when the output is piped). A file
that cannot be read at all — an empty CSV, a binary or non-UTF-8 file, a corrupt Parquet file — is one line
naming it and exit 2:

```sh
: > empty.csv
fengkong events validate empty.csv --type application || echo "exit $?"
#> error: empty.csv: field 'path': empty file (no header, no rows)
#> exit 2
```

In Python:

```python
from fengkong.events import files as eventio
res = eventio.read_events("application.csv")
print(res.frame.height)        #> 2 (the good rows, typed)
print(res.errors[0])           #> row 3: field 'product': 'mortgage' is not one of credit_line, cash_loan
print(res.quarantine_path)     #> application.csv.quarantine.jsonl
```

A single event (the online path) is checked by `fengkong.events.validate_event(dict)`, which
raises `EventValidationError` naming the field; unknown fields are an error there too.

## From files to a stream

`fengkong events convert` writes the events of a world directory (`<type>.parquet` files) or of one
file as JSON Lines in time order (`ts`, then `event_id`) — the input of `fengkong decide`, `fengkong
ingest` and `POST /v1/events`. Each file is validated first (bad rows quarantined and named on stderr);
only the fields an event sets are written; timestamps keep their offset.

```sh
fengkong events convert application.csv --out events.jsonl
#> 2 events written to events.jsonl
head -1 events.jsonl
#> {"event_id":"A1","event_type":"application","ts":"2026-03-01T10:00:00+08:00","customer_id":"C1","product":"credit_line","amount_fen":500000,"term_months":12}
```

`--types disbursement,transfer` keeps some event types, `--limit N` the first N events, `--out -`
(the default) writes to stdout.
"""


def _type_name(f: Field) -> str:
    return {"datetime": "timestamp (tz)", "date": "date", "bool": "bool", "int": str(f.dtype).lower(),
            "float": "float64", "list": "list[str]", "str": "str"}[f.kind]


def _rule(f: Field) -> str:
    parts = []
    if f.required:
        parts.append("required")
    if f.choices:
        parts.append("one of " + ", ".join(f"`{c}`" for c in f.choices))
    if f.min is not None:
        parts.append(f"≥ {f.min:g}")
    if f.max is not None:
        parts.append(f"≤ {f.max:g}")
    if f.entity:
        parts.append("entity key")
    return "; ".join(parts)


def _table(fields: tuple[Field, ...]) -> str:
    rows = ["| field | type | rules | meaning |", "|---|---|---|---|"]
    rows += [f"| `{f.name}` | {_type_name(f)} | {_rule(f)} | {f.doc} |" for f in fields]
    return "\n".join(rows)


def render() -> str:
    """The whole of docs/events.md."""
    out = [INTRO, "## Fields every event has\n", _table(COMMON), ""]
    for et in EVENT_TYPES:
        out.append(f"## `{et}`\n")
        out.append("Entity keys: " + ", ".join(f"`{k}`" for k in ENTITY_KEYS[et]) + ".\n")
        out.append(_table(SPECS[et]))
        out.append("")
    return "\n".join(out)
