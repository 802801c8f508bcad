"""Identity-data protection: keyed deterministic tokens, masking, and log redaction.

ID number, phone, name and bank card are replaced at the boundary by HMAC-SHA256
tokens under a secret key, so joins and velocity counts still work while the
plaintext never reaches logs, stores or reports.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from fengkong.errors import ConfigurationError
from fengkong.settings import ENV, Settings, current

KEY_ENV = ENV["pii_key"]
KEY_FILE_ENV = ENV["pii_key_file"]
DEFAULT_KEY_FILE = Path(".fengkong") / "pii.key"

#: Raw identity columns accepted at the boundary and the token column each becomes.
RAW_TO_TOKEN: dict[str, str] = {
    "id_no": "id_token",
    "name": "name_token",
    "phone": "phone_token",
    "bank_card": "card_token",
    "contact_phones": "contact_tokens",
    "rep_phone": "rep_phone_token",
}
#: The kind of identity element behind each token column (part of the HMAC input).
TOKEN_KIND: dict[str, str] = {
    "id_token": "id",
    "name_token": "name",
    "phone_token": "phone",
    "card_token": "card",
    "contact_tokens": "phone",
    "rep_phone_token": "phone",
}

TOKEN_HEX_CHARS = 24


class PiiKeyError(ConfigurationError, RuntimeError):
    """No usable tokenisation key was configured (the message names the cause)."""


def normalise(kind: str, value: str) -> str:
    """Canonical form of an identity element before hashing (so formatting differences join)."""
    v = unicodedata.normalize("NFKC", value).strip()
    if kind in ("phone", "card"):
        v = re.sub(r"[\s\-]", "", v)
        if kind == "phone" and v.startswith("+86"):
            v = v[3:]
    elif kind == "id":
        v = v.upper()
    elif kind == "name":
        v = re.sub(r"\s+", "", v)
    return v


#: GB 11643 / ISO 7064 MOD 11-2 weights of the first 17 digits and the check character per remainder.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_FORMAT = re.compile(r"\d{17}[\dX]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
#: Raw fields holding mobile numbers (checked like ``phone``).
PHONE_FIELDS = ("phone", "contact_phones", "rep_phone")


def id_no_problem(value: str) -> str | None:
    """Why ``value`` is not an 18-digit resident ID number (GB 11643 checksum, real birth date), or None."""
    import datetime as dt

    v = normalise("id", value)
    if not _ID_FORMAT.fullmatch(v):
        return "not an 18-digit resident ID number (17 digits and a check digit 0-9 or X)"
    if _ID_CHECK[sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True)) % 11] != v[17]:
        return "resident ID number check digit does not match (GB 11643, ISO 7064 MOD 11-2)"
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "resident ID number holds no valid birth date"
    if not 1900 <= int(v[6:10]) <= 2100:
        return "resident ID number holds no valid birth date"
    return None


def phone_problem(value: str) -> str | None:
    """Why ``value`` is not a mainland mobile number (11 digits starting 13-19; +86, spaces, dashes allowed)."""
    if not _MOBILE.fullmatch(normalise("phone", value)):
        return "not a mainland mobile number (11 digits starting 13-19)"
    return None


def identity_problem(field: str, value: str) -> str | None:
    """The problem of one raw identity value of ``field`` (ID number and mobile fields are checked), or None."""
    if field == "id_no":
        return id_no_problem(value)
    if field in PHONE_FIELDS:
        return phone_problem(value)
    return None


#: Prefix of the per-field problem columns :meth:`Tokenizer.tokenise_frame` adds (the reader rejects those rows).
PROBLEM_PREFIX = "__identity_problem__"


class Tokenizer:
    """HMAC-SHA256 tokens of identity elements under one secret key."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise PiiKeyError("the PII key must be at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:  # never print the key
        return "Tokenizer(key=<hidden>)"

    def token(self, kind: str, value: str | None) -> str | None:
        """Token of one identity element (``None`` stays ``None``)."""
        if value is None:
            return None
        msg = f"{kind}\x1f{normalise(kind, value)}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:TOKEN_HEX_CHARS]

    def tokens(self, kind: str, values: Iterable[str | None]) -> list[str | None]:
        """Tokens of many values of one kind."""
        return [self.token(kind, v) for v in values]

    def tokenise_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Replace raw identity columns of a frame by token columns; derive age/gender from ID numbers.

        Invalid ID numbers and mobile numbers get a ``__identity_problem__<field>`` column with the reason
        (never the value); :func:`fengkong.events.files.validate_frame` rejects those rows.
        """
        out = frame
        if "id_no" in frame.columns:
            out = _derive_from_id(out)
        for raw, tok in RAW_TO_TOKEN.items():
            if raw not in out.columns:
                continue
            kind = TOKEN_KIND[tok]
            col = out[raw]
            adds = []
            if col.dtype == pl.List(pl.Utf8):
                uniq = col.explode().drop_nulls().unique().to_list()
                mapping = dict(zip(uniq, self.tokens(kind, uniq), strict=True))
                new = col.list.eval(pl.element().replace_strict(mapping, default=None))
                problems = {v: p for v in uniq if (p := identity_problem(raw, v)) is not None}
                if problems:
                    adds.append(col.list.eval(pl.element().replace_strict(problems, default=None))
                                .list.drop_nulls().list.first().alias(PROBLEM_PREFIX + raw))
            else:
                col = col.cast(pl.Utf8)
                uniq = col.drop_nulls().unique().to_list()
                mapping = dict(zip(uniq, self.tokens(kind, uniq), strict=True))
                new = col.replace_strict(mapping, default=None, return_dtype=pl.Utf8)
                problems = {v: p for v in uniq if (p := identity_problem(raw, v)) is not None}
                if problems:
                    adds.append(col.replace_strict(problems, default=None, return_dtype=pl.Utf8)
                                .alias(PROBLEM_PREFIX + raw))
            out = out.with_columns(new.alias(tok), *adds).drop(raw)
        return out


def _derive_from_id(frame: pl.DataFrame) -> pl.DataFrame:
    """Age at the event and gender from an 18-digit resident ID number (before it is dropped)."""
    idn = pl.col("id_no").cast(pl.Utf8)
    birth = idn.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    adds = []
    if "age" not in frame.columns and "ts" in frame.columns:
        ts = pl.col("ts")
        ref = ts.str.slice(0, 10).str.to_date(strict=False) if frame["ts"].dtype == pl.Utf8 else ts.dt.date()
        def mmdd(d: pl.Expr) -> pl.Expr:
            return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

        age = (ref.dt.year() - birth.dt.year()) - (mmdd(ref) < mmdd(birth)).cast(pl.Int32)
        adds.append(age.cast(pl.Int16).alias("age"))
    if "gender" not in frame.columns:
        digit = idn.str.slice(16, 1).cast(pl.Int32, strict=False)
        adds.append(pl.when(digit.is_null()).then(None).when(digit % 2 == 1).then(pl.lit("M"))
                    .otherwise(pl.lit("F")).alias("gender"))
    return frame.with_columns(adds) if adds else frame


#: Hex digits a configured tokenisation (or audit) key must have: 32 bytes.
KEY_HEX_DIGITS = 64
_HEX = re.compile(r"[0-9a-fA-F]+")


def parse_hex_key(value: str, source: str) -> bytes:
    """A key from its hex text; the error names ``source`` and the cause (not hex / too short), never the value."""
    v = value.strip()
    if not _HEX.fullmatch(v):
        raise PiiKeyError(f"{source} is not hex (need {KEY_HEX_DIGITS} hex digits)")
    if len(v) < KEY_HEX_DIGITS:
        raise PiiKeyError(f"{source} is too short: {len(v)} hex digits, need {KEY_HEX_DIGITS}")
    if len(v) % 2:
        raise PiiKeyError(f"{source} has an odd number of hex digits ({len(v)})")
    return bytes.fromhex(v)


def key_path(key_file: Path | None = None, settings: Settings | None = None) -> Path:
    """The key file looked at: ``key_file``, ``$FENGKONG_PII_KEY_FILE`` (``settings.pii_key_file``) or
    ``.fengkong/pii.key``."""
    return Path(key_file or (settings or current()).pii_key_file or DEFAULT_KEY_FILE)


def load_key(create: bool = False, key_file: Path | None = None, settings: Settings | None = None) -> bytes:
    """The tokenisation key: ``$FENGKONG_PII_KEY`` (64 hex digits), else the key file.

    The key file is ``key_file``, ``$FENGKONG_PII_KEY_FILE`` or ``.fengkong/pii.key``. Only with
    ``create`` (``fengkong demo``) is a missing file made, with a fresh random key and mode 0600; otherwise
    :class:`PiiKeyError` names the cause: not set, file missing or unreadable, not hex, too short.
    """
    cfg = settings or current()
    if cfg.pii_key is not None and cfg.pii_key.strip():
        return parse_hex_key(cfg.pii_key, KEY_ENV)
    path = key_path(key_file, cfg)
    if path.exists():
        try:
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                raise PiiKeyError(f"key file {path} is readable by others (mode {mode:o}); chmod 600 it")
            text = path.read_text()
        except OSError as exc:
            raise PiiKeyError(f"key file {path} is unreadable: {exc.strerror or type(exc).__name__}") from None
        except UnicodeDecodeError:
            raise PiiKeyError(f"key file {path} is not hex (need {KEY_HEX_DIGITS} hex digits)") from None
        return parse_hex_key(text, f"key file {path}")
    if not create:
        raise PiiKeyError(
            f"no tokenisation key: {KEY_ENV} is not set and the key file {path} does not exist; set {KEY_ENV} "
            f"({KEY_HEX_DIGITS} hex digits) or {KEY_FILE_ENV} (`fengkong demo` creates a demo key)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


def optional_tokenizer(settings: Settings | None = None) -> Tokenizer | None:
    """The tokenizer when a key is configured, else None (files whose identity data is already tokens)."""
    try:
        return tokenizer(settings=settings)
    except PiiKeyError:
        return None


def tokenizer(create: bool = False, key_file: Path | None = None, settings: Settings | None = None) -> Tokenizer:
    """A :class:`Tokenizer` with the configured key (``settings``, default :func:`fengkong.settings.current`)."""
    return Tokenizer(load_key(create=create, key_file=key_file, settings=settings))


# ---------------------------------------------------------------- masking for display


def mask_id(value: str) -> str:
    """``110101199001011234`` → ``110***********1234``."""
    v = normalise("id", value)
    return v[:3] + "*" * max(len(v) - 7, 0) + v[-4:] if len(v) > 7 else "*" * len(v)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    v = normalise("phone", value)
    return v[:3] + "*" * max(len(v) - 7, 0) + v[-4:] if len(v) > 7 else "*" * len(v)


def mask_card(value: str) -> str:
    """``6222021234567890123`` → ``6222 **** **** ***0123``-style: first 4 and last 4 kept."""
    v = normalise("card", value)
    return v[:4] + "*" * max(len(v) - 8, 0) + v[-4:] if len(v) > 8 else "*" * len(v)


def mask_name(value: str) -> str:
    """``张三丰`` → ``张**``; ``Li Lei`` → ``L*****``."""
    v = value.strip()
    return v[:1] + "*" * (len(v) - 1) if v else v


def mask_token(token: str | None) -> str:
    """Short display form of a token (tokens are safe, but long)."""
    return "-" if token is None else token[:8] + "…"


# ---------------------------------------------------------------- log redaction

_ID_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_CARD_RE = re.compile(r"(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d{9}(?!\d)")


def redact(text: str) -> str:
    """Mask anything in free text that looks like an ID number, bank card or mobile number."""
    text = _ID_RE.sub(lambda m: mask_id(m.group()), text)
    text = _CARD_RE.sub(lambda m: mask_card(m.group()), text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group()), text)


class RedactingFilter(logging.Filter):
    """Logging filter that masks identity-looking numbers in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach :class:`RedactingFilter` to every handler of a logger (root by default)."""
    lg = logger or logging.getLogger()
    for h in lg.handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())
