"""Reading and writing event files: vectorised validation with row-level quarantine.

A file of events (Parquet, CSV or JSON Lines) is validated column by column. Each
bad row is reported with its row number, field and reason and written to a
quarantine file; good rows go on. Nothing is silently dropped.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.errors import InputError
from fengkong.events.model import (
    EVENT_ID_MAX,
    EVENT_SCHEMA,
    EVENT_TYPES,
    TS_DTYPE,
    TS_MAX,
    TS_MIN,
    EventValidationError,
    Field,
    fields_of,
    schema_of,
    to_union,
)

_TS_MIN_US = int(TS_MIN.timestamp()) * 1_000_000
_TS_MAX_US = int(TS_MAX.timestamp()) * 1_000_000


@dataclass(frozen=True)
class RowError:
    """One reason a row was rejected. ``row`` is 1-based over data rows (CSV line = row + 1)."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: field '{self.field}': {self.reason}"


@dataclass
class LoadResult:
    """Good rows (typed) plus every rejected row's errors."""

    frame: pl.DataFrame
    errors: list[RowError] = field(default_factory=list)
    quarantined_rows: int = 0
    quarantine_path: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _read_raw(path: Path) -> pl.DataFrame:
    """Read a file with every scalar column as text; an unreadable file is one EventValidationError naming it."""
    try:
        return _read_raw_file(path)
    except EventValidationError:
        raise
    except pl.exceptions.NoDataError:
        raise EventValidationError("path", "empty file (no header, no rows)") from None
    except UnicodeDecodeError as exc:
        raise EventValidationError("path", f"not UTF-8 text (undecodable byte at offset {exc.start}; a binary "
                                           "file?)") from None
    except (pl.exceptions.PolarsError, OSError, csv.Error) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        what = "Parquet" if path.suffix.lower() == ".parquet" else "event"
        raise EventValidationError("path", f"not a readable {what} file ({type(exc).__name__}: {first})") from None


def _check_text(path: Path) -> None:
    """A CSV / JSON Lines file must start as UTF-8 text (Polars would read a binary header lossily)."""
    import codecs

    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if b"\x00" in head:
        raise EventValidationError("path", "a binary file (NUL bytes), not CSV or JSON Lines text")
    codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # UnicodeDecodeError → one line


def _read_raw_file(path: Path) -> pl.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl", ".ndjson", ".json"):
        _check_text(path)
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix == ".csv":
        try:
            return pl.read_csv(path, infer_schema=False)
        except pl.exceptions.ComputeError:  # ragged rows or broken quoting: find the bad rows one by one
            return _read_csv_rows(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        rows: list[dict[str, str | None]] = []
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    obj = {"__bad_json__": f"line {lineno} is not valid JSON ({exc.msg})"}
                if not isinstance(obj, dict):
                    obj = {"__bad_json__": f"line {lineno} is not a JSON object"}
                rows.append({k: _as_text(v) for k, v in obj.items()})
        if not rows:
            return pl.DataFrame()
        keys = list(dict.fromkeys(k for r in rows for k in r))
        return pl.DataFrame({k: [r.get(k) for r in rows] for k in keys}, schema=dict.fromkeys(keys, pl.Utf8))
    raise EventValidationError("path", f"unsupported file type {suffix!r} (use .parquet, .csv or .jsonl)")


def _read_csv_rows(path: Path) -> pl.DataFrame:
    """A CSV that Polars cannot parse as a whole: rows whose field count differs from the header's
    (or that the csv module cannot read) become bad rows naming their line; the rest are kept."""
    rows: list[dict[str, str | None]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except (StopIteration, csv.Error) as exc:
            raise EventValidationError("path", f"{path.name}: no readable CSV header ({exc})") from None
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                rows.append({"__bad_json__": f"line {start} is not valid CSV ({exc})"})
                continue
            if not values:
                continue
            if len(values) != len(header):
                rows.append({"__bad_json__": f"line {start} has {len(values)} fields, the header has {len(header)}"
                             + (" (an unbalanced quote?)" if any("\n" in v for v in values) else "")})
                continue
            rows.append({k: (v if v != "" else None) for k, v in zip(header, values, strict=True)})
    keys = list(dict.fromkeys([*header, *(k for r in rows for k in r)]))
    return pl.DataFrame({k: [r.get(k) for r in rows] for k in keys}, schema=dict.fromkeys(keys, pl.Utf8))


def _as_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _cast_text(col: pl.Expr, f: Field) -> pl.Expr:
    kind = f.kind
    if kind == "datetime":
        return col.str.to_datetime(time_zone="UTC", strict=False, time_unit="us").dt.convert_time_zone(
            TS_DTYPE.time_zone
        )
    if kind == "date":
        return col.str.to_date(strict=False)
    if kind == "bool":
        low = col.str.to_lowercase().str.strip_chars()
        return pl.when(low.is_in(["true", "1"])).then(True).when(low.is_in(["false", "0"])).then(False)
    if kind == "list":
        s = col.str.strip_chars()
        as_json = s.str.json_decode(pl.List(pl.Utf8))
        return pl.when(s.str.starts_with("[")).then(as_json).otherwise(s.str.split("|"))
    if kind == "int":
        return col.str.strip_chars().cast(pl.Float64, strict=False).pipe(
            lambda x: pl.when(x == x.round(0)).then(x)
        ).cast(f.dtype, strict=False)
    return col.cast(f.dtype, strict=False)


_PII_PROBLEM = "__identity_problem__"  # = pii.PROBLEM_PREFIX


def validate_frame(raw: pl.DataFrame, event_type: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a raw frame into (good typed rows, error table with row/field/reason)."""
    fields = fields_of(event_type)
    n = raw.height
    df = raw.with_row_index("__row", offset=1)
    if "event_type" not in df.columns:
        df = df.with_columns(pl.lit(event_type).alias("event_type"))
    typed: list[pl.Expr] = []
    checks: list[pl.Expr] = []  # each yields a reason string or null per row
    known = {f.name for f in fields}
    for name in df.columns:
        if name in ("__row", "__bad_json__"):
            continue
        if name.startswith(_PII_PROBLEM):  # an invalid ID / mobile number found while tokenising
            field = name[len(_PII_PROBLEM):]
            checks.append(pl.when(pl.col(name).is_not_null()).then(pl.lit(f"{field}\x1f") + pl.col(name)))
            continue
        if name not in known:
            reason = f"unknown field for event type {event_type!r}"
            checks.append(pl.when(pl.col(name).is_not_null()).then(pl.lit(f"{name}\x1f{reason}")))
    line_check = len(checks)
    if "__bad_json__" in df.columns:
        checks.append(pl.when(pl.col("__bad_json__").is_not_null())
                      .then(pl.lit("(line)\x1f") + pl.col("__bad_json__")))
    for f in fields:
        if f.name not in df.columns:
            if f.required:
                checks.append(pl.lit(f"{f.name}\x1frequired field is missing"))
            typed.append(pl.lit(None, dtype=f.dtype).alias(f.name))
            continue
        src = pl.col(f.name)
        is_text = df.schema[f.name] == pl.Utf8 and f.dtype != pl.Utf8
        present = src.is_not_null() & (src.cast(pl.Utf8).str.strip_chars() != "") if is_text else src.is_not_null()
        if is_text:
            val = pl.when(present).then(_cast_text(src, f))
        elif df.schema[f.name] != f.dtype:
            if f.kind == "datetime" and isinstance(df.schema[f.name], pl.Datetime):
                if df.schema[f.name].time_zone is None:  # type: ignore[union-attr]
                    checks.append(pl.when(present).then(pl.lit(f"{f.name}\x1ftimestamp has no timezone")))
                    val = pl.lit(None, dtype=f.dtype)
                else:
                    val = src.dt.convert_time_zone(TS_DTYPE.time_zone).dt.cast_time_unit("us")
            else:
                val = src.cast(f.dtype, strict=False)
        else:
            val = src
        typed.append(val.alias(f.name))
        if f.required:
            checks.append(pl.when(~present).then(pl.lit(f"{f.name}\x1frequired field is missing")))
        what = {"datetime": "a timezone-aware ISO-8601 timestamp", "date": "an ISO date", "bool": "a boolean",
                "int": "an integer", "float": "a number", "list": "a list of strings", "str": "text"}[f.kind]
        shown = src.cast(pl.Utf8, strict=False).str.slice(0, 40) if f.kind != "list" else pl.lit("value")
        bad_value = present & val.is_null()
        if f.kind == "datetime" and is_text:
            naive = ~src.str.contains(r"(Z|[+-]\d\d:?\d\d)\s*$")
            checks.append(pl.when(present & naive).then(pl.lit(f"{f.name}\x1ftimestamp has no timezone offset")))
            bad_value &= ~naive
        checks.append(pl.when(bad_value).then(pl.lit(f"{f.name}\x1fnot {what}: '") + shown + pl.lit("'")))
        if f.kind == "float":
            checks.append(pl.when(val.is_nan() | val.is_infinite()).then(pl.lit(f"{f.name}\x1fnot a finite number")))
        if f.kind == "datetime":
            us = val.dt.epoch("us")
            checks.append(pl.when((us < _TS_MIN_US) | (us >= _TS_MAX_US))
                          .then(pl.lit(f"{f.name}\x1f") + val.cast(pl.Utf8) + pl.lit(" is outside 1970-01-01 .. 2099-12-31")))
        if f.kind == "str" and f.required:
            checks.append(pl.when(present & (val.str.strip_chars() == ""))
                          .then(pl.lit(f"{f.name}\x1frequired field is empty")))
        if f.name == "event_id":
            checks.append(pl.when((val.str.len_chars() > EVENT_ID_MAX) | val.str.contains(r"[[:cntrl:]]"))
                          .then(pl.lit(f"{f.name}\x1fmust be at most {EVENT_ID_MAX} printable characters")))
        if f.choices is not None:
            checks.append(pl.when(val.is_not_null() & ~val.is_in(list(f.choices)))
                          .then(pl.lit(f"{f.name}\x1f'") + val.cast(pl.Utf8) + pl.lit(f"' is not one of {', '.join(f.choices)}")))
        if f.min is not None:
            checks.append(pl.when(val < f.min).then(pl.lit(f"{f.name}\x1f") + val.cast(pl.Utf8) + pl.lit(f" is below the minimum {f.min:g}")))
        if f.max is not None:
            checks.append(pl.when(val > f.max).then(pl.lit(f"{f.name}\x1f") + val.cast(pl.Utf8) + pl.lit(f" is above the maximum {f.max:g}")))
    if n == 0:
        return pl.DataFrame(schema={f.name: f.dtype for f in fields}), _empty_errors()
    if "__bad_json__" in df.columns:  # an unreadable line is one error, not one per missing field
        line_ok = pl.col("__bad_json__").is_null()
        checks = [c if i == line_check else pl.when(line_ok).then(c) for i, c in enumerate(checks)]
    evaluated = df.select(pl.col("__row"), *typed, pl.concat_list([c.cast(pl.Utf8) for c in checks]).alias("__err")
                          if checks else pl.lit(None, dtype=pl.List(pl.Utf8)).alias("__err"))
    evaluated = evaluated.with_columns(pl.col("__err").list.drop_nulls())
    bad_mask = evaluated["__err"].list.len() > 0
    # duplicated event ids within one file: the second and later copies are rejected
    dup = evaluated["event_id"].is_duplicated() & ~evaluated["event_id"].is_first_distinct()
    dup &= evaluated["event_id"].is_not_null()
    good = evaluated.filter(~bad_mask & ~dup).drop("__row", "__err")
    errs = (
        evaluated.filter(bad_mask).select("__row", pl.col("__err").alias("e")).explode("e")
        .with_columns(pl.col("e").str.split_exact("\x1f", 1).struct.rename_fields(["field", "reason"]))
        .unnest("e").rename({"__row": "row"})
    )
    dups = evaluated.filter(dup & ~bad_mask).select(
        pl.col("__row").alias("row"), pl.lit("event_id").alias("field"),
        (pl.lit("duplicate event_id '") + pl.col("event_id") + pl.lit("' earlier in the file")).alias("reason"),
    )
    errs = pl.concat([errs.cast({"row": pl.UInt32}), dups.cast({"row": pl.UInt32})]).sort("row", maintain_order=True)
    return good, errs


def _empty_errors() -> pl.DataFrame:
    return pl.DataFrame(schema={"row": pl.UInt32, "field": pl.Utf8, "reason": pl.Utf8})


def guess_event_type(path: Path) -> str:
    """Event type from a file name such as ``application.parquet`` or ``purchase-2026.csv``."""
    stem = path.name.split(".")[0]
    for et in EVENT_TYPES:
        if stem == et or stem.startswith(et + "-") or stem.startswith(et + "_") or stem == et + "s":
            return et
    raise EventValidationError("event_type", f"cannot tell the event type from file name {path.name!r}; "
                               f"name it after one of {', '.join(EVENT_TYPES)} or pass the type")


def read_events(
    path: str | Path,
    event_type: str | None = None,
    quarantine: str | Path | None = None,
    tokenizer: object | None = None,
) -> LoadResult:
    """Read one event file; bad rows are reported and written to a quarantine file.

    ``quarantine`` defaults to ``<file>.quarantine.jsonl`` beside the input when
    there are bad rows. Raw identity columns (``id_no``, ``phone``, ``name``,
    ``bank_card``…) are tokenised with ``tokenizer`` before anything else sees
    them; without a tokenizer their presence is an error.
    """
    path = Path(path)
    et = event_type or guess_event_type(path)
    raw = _read_raw(path)
    from fengkong.events import pii

    raw_pii = [c for c in pii.RAW_TO_TOKEN if c in raw.columns]
    if raw_pii:
        if tokenizer is None:
            try:
                pii.load_key()
                cause = "no tokenisation key was passed (tokenizer=None)"
            except pii.PiiKeyError as exc:
                cause = str(exc)
            raise EventValidationError(raw_pii[0], f"raw identity data given but {cause}")
        raw = tokenizer.tokenise_frame(raw)  # type: ignore[attr-defined]
    good, errs = validate_frame(raw, et)
    result = LoadResult(frame=good, errors=[RowError(r, f, m) for r, f, m in errs.iter_rows()])
    bad_rows = errs["row"].unique().sort()
    result.quarantined_rows = bad_rows.len()
    if result.quarantined_rows:
        qpath = Path(quarantine) if quarantine else path.with_name(path.name + ".quarantine.jsonl")
        reasons = errs.group_by("row", maintain_order=True).agg(
            (pl.col("field") + pl.lit(": ") + pl.col("reason")).alias("_errors"))
        bad = (raw.with_row_index("_row", offset=1).cast({"_row": pl.UInt32})
               .join(reasons.rename({"row": "_row"}), on="_row", how="inner"))
        bad = bad.drop([c for c in bad.columns if c.startswith(_PII_PROBLEM)])
        bad = bad.select([pl.col(c).cast(pl.Utf8) if bad.schema[c] not in (pl.Utf8, pl.List(pl.Utf8), pl.UInt32)
                          else pl.col(c) for c in bad.columns])
        qpath.parent.mkdir(parents=True, exist_ok=True)
        bad.write_ndjson(qpath)
        result.quarantine_path = qpath
    return result


def write_events(frame: pl.DataFrame, path: str | Path) -> None:
    """Write typed events as Parquet, sorted by (ts, event_id), deterministically."""
    frame.sort(["ts", "event_id"]).write_parquet(Path(path), compression="zstd", statistics=True)


def read_world(
    directory: str | Path,
    event_types: tuple[str, ...] = EVENT_TYPES,
    validate: bool = True,
    on_bad_rows: Callable[[Path, LoadResult], None] | None = None,
) -> pl.DataFrame:
    """All events of a world directory (``<type>.parquet`` files) as one frame in the union schema.

    Each file is validated like :func:`read_events`: bad rows are quarantined beside the file and
    reported to ``on_bad_rows`` (default: a warning on the ``fengkong.events.files`` logger naming the
    file, the count, the first error and the quarantine file); good rows go on.
    """
    d = Path(directory)
    parts = []
    for et in event_types:
        p = d / f"{et}.parquet"
        if not p.exists():
            continue
        if not validate:
            parts.append(to_union(pl.read_parquet(p)))
            continue
        try:
            res = read_events(p, et)
        except EventValidationError as exc:
            if exc.field != "path" or exc.reason.startswith(p.name):
                raise
            raise EventValidationError("path", f"{p.name}: {exc.reason}") from None
        if res.errors:
            (on_bad_rows or _warn_bad_rows)(p, res)
        parts.append(to_union(res.frame))
    if not parts:
        raise EventValidationError("events", f"no event files (<type>.parquet) found in {d}")
    return pl.concat(parts, how="vertical").sort(["ts", "event_id"]).select(list(EVENT_SCHEMA))


class EventTypeError(InputError, ValueError):
    """An event type that fengkong does not have was asked for."""


def events_in_time_order(source: str | Path, event_types: tuple[str, ...] = EVENT_TYPES, limit: int | None = None,
                         tokenizer: Any = None,
                         on_bad_rows: Callable[[Path, LoadResult], None] | None = None) -> pl.DataFrame:
    """The events of a world directory or of one event file, validated, in time order (``ts``, ``event_id``),
    only ``event_types``, at most ``limit`` (``fengkong events convert``). Bad rows are quarantined beside
    their file and reported to ``on_bad_rows``; an unknown event type is an error."""
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown:
        raise EventTypeError(f"unknown event type {unknown[0]!r} (one of {', '.join(EVENT_TYPES)})")
    src = Path(source)
    if src.is_dir():
        frame = read_world(src, event_types, on_bad_rows=on_bad_rows)
    else:
        res = read_events(src, tokenizer=tokenizer)
        if res.errors:
            (on_bad_rows or _warn_bad_rows)(src, res)
        frame = res.frame.sort(["ts", "event_id"])
        if frame["event_type"].len() and frame["event_type"][0] not in event_types:
            frame = frame.clear()
    return frame.head(limit) if limit is not None else frame


def _warn_bad_rows(path: Path, res: LoadResult) -> None:
    logging.getLogger("fengkong.events.files").warning(
        "%s: %d bad rows quarantined to %s (first: %s)", path, res.quarantined_rows, res.quarantine_path,
        res.errors[0])


def iter_jsonl(frame: pl.DataFrame) -> Iterator[bytes]:
    """Each event of ``frame`` (one type or the union schema) as one JSON line, in frame order.

    Only the fields of the event's own type that are set are written; timestamps are RFC 3339 with
    their offset, dates ISO, money integer fen, exactly as ``fengkong decide`` and ``POST /v1/events``
    read them.
    """
    import orjson

    own = {et: [f for f in schema_of(et) if f in frame.columns] for et in EVENT_TYPES}
    for row in frame.iter_rows(named=True):
        cols = own.get(row["event_type"]) or list(row)
        yield orjson.dumps({c: row[c] for c in cols if row[c] is not None}) + b"\n"
