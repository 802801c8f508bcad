"""Event records, their one tabular schema, and validation of single events.

Every risk question starts with an event. This module owns what an event *is*: its
fields, types, allowed values and meaning. It imports nothing else of fengkong but the error root.
File reading with row-level quarantine lives in :mod:`fengkong.events.files`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from fengkong.errors import InputError
from fengkong.settings import BUSINESS_TZ as TZ
from fengkong.settings import BUSINESS_TZ_NAME as TZ_NAME

TS_DTYPE = pl.Datetime("us", TZ_NAME)

EVENT_TYPES: tuple[str, ...] = (
    "customer",
    "application",
    "purchase",
    "disbursement",
    "transfer",
    "repayment",
    "complaint",
    "collection_contact",
)

#: Categories shared by merchants (purchases) and transfer counterparties.
CATEGORIES: tuple[str, ...] = (
    "everyday_retail",
    "catering",
    "home_appliance",
    "electronics",
    "furniture",
    "decoration",
    "auto",
    "education",
    "travel",
    "healthcare",
    "elderly_childcare",
    "culture_sports",
    "jewelry_luxury",
    "public_service",
    "real_estate",
    "securities",
    "futures",
    "fund_wealth",
    "crypto",
    "gambling",
    "lender",
    "insurance",
    "business_supplier",
    "person",
    "own_account",
    "cash_withdrawal",
)

#: Categories whose inflow of consumer-loan money is prohibited (DOMAIN.md §3.1).
PROHIBITED_CATEGORIES: tuple[str, ...] = (
    "real_estate",
    "securities",
    "futures",
    "fund_wealth",
    "crypto",
    "gambling",
    "lender",
    "business_supplier",
)


#: Channels and results of a collection contact (``collection_contact`` events).
CONTACT_CHANNELS: tuple[str, ...] = ("call", "ai_voice", "sms", "app_push", "letter", "visit")
THIRD_PARTY_RELATIONS: tuple[str, ...] = ("guarantor", "emergency_contact", "spouse", "relative", "colleague",
                                          "unrelated")
CONTACT_OUTCOMES: tuple[str, ...] = ("connected", "no_answer", "refused", "invalid_number", "delivered",
                                     "promise_to_pay", "plan_agreed", "opt_out")


class EventValidationError(InputError, ValueError):
    """An event (or a row of an event file) broke a field rule."""

    def __init__(self, field: str, reason: str, row: int | None = None):
        self.field = field
        self.reason = reason
        self.row = row
        where = f"row {row}: " if row is not None else ""
        super().__init__(f"{where}field '{field}': {reason}")


@dataclass(frozen=True)
class Field:
    """One column of the event schema."""

    name: str
    dtype: pl.DataType
    doc: str
    required: bool = False
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    entity: bool = False  # an entity key: features may be keyed by it

    @functools.cached_property
    def kind(self) -> str:
        """Coarse kind used by validation and by the strategy type checker."""
        d = self.dtype
        if d == TS_DTYPE or isinstance(d, pl.Datetime):
            return "datetime"
        if d == pl.Date:
            return "date"
        if d == pl.Boolean:
            return "bool"
        if d.is_integer():
            return "int"
        if d.is_float():
            return "float"
        if isinstance(d, pl.List):
            return "list"
        return "str"


#: Money fields (``*_fen``) above this (¥10 trillion) are an input error, not a loan.
MONEY_MAX_FEN = 10**15
#: Timestamps outside [TS_MIN, TS_MAX) are an input error (before 1970 the zone has local mean time offsets).
TS_MIN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
TS_MAX = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
#: Longest ``event_id`` accepted.
EVENT_ID_MAX = 128


def _f(name: str, dtype: pl.DataType, doc: str, **kw: Any) -> Field:
    if name.endswith("_fen") and kw.get("max") is None:
        kw["max"] = MONEY_MAX_FEN
    return Field(name, dtype, doc, **kw)


def int_bounds(f: Field) -> tuple[int, int]:
    """The range an integer field's dtype holds (values outside it are an error, not a wrap-around)."""
    bits = {pl.Int8: 8, pl.Int16: 16, pl.Int32: 32, pl.Int64: 64}.get(type(f.dtype) if not isinstance(f.dtype, type)
                                                                   else f.dtype, 64)
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


S, I16, I32, I64, F64, B = pl.Utf8, pl.Int16, pl.Int32, pl.Int64, pl.Float64, pl.Boolean
LS = pl.List(pl.Utf8)

COMMON: tuple[Field, ...] = (
    _f("event_id", S, "Unique id of this event; re-delivery with the same id is a duplicate.", required=True),
    _f("event_type", S, "One of the event types.", required=True, choices=EVENT_TYPES),
    _f("ts", TS_DTYPE, "When the event happened, timezone-aware (stored in Asia/Shanghai).", required=True),
    _f("customer_id", S, "The lender's internal key of the person the event concerns (not an identity element).",
       required=True, entity=True),
)

_IDENTITY = (
    _f("id_token", S, "Keyed token of the national ID number (see pii).", entity=True),
    _f("name_token", S, "Keyed token of the person's name.", entity=True),
    _f("phone_token", S, "Keyed token of the mobile number.", entity=True),
    _f("card_token", S, "Keyed token of the bank card / account number.", entity=True),
)
_DEVICE = (
    _f("device_id", S, "Device fingerprint id reported by the SDK.", entity=True),
    _f("ip", S, "Client IP address.", entity=True),
)
_CHANNELS = ("app", "h5", "mini_program", "partner", "branch")

SPECS: dict[str, tuple[Field, ...]] = {
    "customer": (
        *_IDENTITY,
        *_DEVICE,
        _f("age", I16, "Age in years, derived from the ID number at the boundary.", min=0, max=120),
        _f("gender", S, "Gender derived from the ID number.", choices=("M", "F")),
        _f("province", S, "Province of residence.", entity=True),
        _f("city", S, "City of residence.", entity=True),
    ),
    "application": (
        *_IDENTITY,
        *_DEVICE,
        _f("product", S, "Requested product.", required=True, choices=("credit_line", "cash_loan")),
        _f("amount_fen", I64, "Requested credit line or loan amount, integer fen.", required=True, min=1),
        _f("term_months", I16, "Requested term in months (credit lines: 12).", required=True, min=1, max=120),
        _f("channel", S, "Acquisition channel.", choices=_CHANNELS, entity=True),
        _f("partner_id", S, "Loan-facilitation (助贷) partner, if any.", entity=True),
        _f("age", I16, "Applicant age derived from the ID number.", min=0, max=120),
        _f("gender", S, "Gender derived from the ID number.", choices=("M", "F")),
        _f("province", S, "Declared province of residence.", entity=True),
        _f("city", S, "Declared city of residence.", entity=True),
        _f("declared_income_fen", I64, "Declared monthly income, integer fen.", min=0),
        _f("employer_id", S, "Declared employer (registered company id).", entity=True),
        _f("occupation", S, "Declared occupation group."),
        _f("education", S, "Declared education level."),
        _f("ip_province", S, "Province the IP address geolocates to."),
        _f("gps_lat", F64, "GPS latitude reported by the device.", min=-90, max=90),
        _f("gps_lon", F64, "GPS longitude reported by the device.", min=-180, max=180),
        _f("contact_tokens", LS, "Tokens of the emergency/contact phone numbers.", entity=True),
        _f("agent_id", S, "Referral / intermediary code the application came with.", entity=True),
        _f("doc_income_proof", B, "An income proof document was uploaded."),
        _f("doc_statement_edited", B, "The document check found edit traces in an uploaded statement."),
        _f("liveness_score", F64, "Liveness check score from the caller's vendor (0–1).", min=0, max=1),
        _f("face_match_score", F64, "Face-vs-ID-photo match score from the caller's vendor (0–1).", min=0, max=1),
        _f("is_emulator", B, "The device SDK detected an emulator or virtual camera."),
        _f("is_rooted", B, "The device is rooted / jailbroken."),
        _f("is_proxy", B, "The IP is a known proxy / VPN exit."),
        _f("phone_name_match", B, "Operator three-factor check: phone registered to this ID and name."),
        _f("phone_tenure_months", I16, "Months since the phone number was activated (operator data).", min=0),
        _f("form_fill_seconds", I32, "Seconds spent filling the application form.", min=0),
        _f("bureau_score", I16, "Credit-bureau score (300–900); null for no file.", min=300, max=900),
        _f("bureau_hard_inquiries_7d", I16, "Hard inquiries (loan/card approval) in the last 7 days.", min=0),
        _f("bureau_hard_inquiries_30d", I16, "Hard inquiries in the last 30 days.", min=0),
        _f("bureau_hard_inquiries_90d", I16, "Hard inquiries in the last 90 days.", min=0),
        _f("bureau_open_loans", I16, "Open loan accounts at all lenders.", min=0),
        _f("bureau_nonbank_loans", I16, "Open loan accounts at consumer-finance / micro-loan companies.", min=0),
        _f("bureau_thin_file", B, "Fewer than two credit accounts ever (白户/小白)."),
        _f("bureau_max_dpd_24m", I16, "Worst days past due in the last 24 months.", min=0),
        _f("monthly_debt_payment_fen", I64, "Monthly repayments on existing debt, integer fen.", min=0),
        _f("social_insurance_months", I16, "Months of social-insurance contributions on record.", min=0),
        _f("housing_fund_months", I16, "Months of housing-fund contributions on record.", min=0),
        _f("housing_fund_backpaid_months", I16, "Months of housing-fund contributions paid retroactively.", min=0),
    ),
    "purchase": (
        *_IDENTITY,
        *_DEVICE,
        _f("merchant_id", S, "Merchant the credit line was used at.", required=True, entity=True),
        _f("merchant_category", S, "Merchant category.", required=True, choices=CATEGORIES),
        _f("amount_fen", I64, "Purchase (or refund) amount, integer fen, positive.", required=True, min=1),
        _f("installments", I16, "Installments chosen (1 = pay in full next bill).", required=True, min=1, max=60),
        _f("is_refund", B, "This event refunds an earlier purchase."),
        _f("refund_of", S, "event_id of the purchase being refunded."),
    ),
    "disbursement": (
        _f("id_token", S, "Keyed token of the borrower's ID number.", entity=True),
        _f("card_token", S, "Token of the borrower account the loan was paid into (self payment).", entity=True),
        _f("loan_id", S, "Loan contract id.", required=True, entity=True),
        _f("application_id", S, "event_id of the approved application."),
        _f("amount_fen", I64, "Principal paid out, integer fen.", required=True, min=1),
        _f("term_months", I16, "Term in months.", required=True, min=1, max=120),
        _f("repayment_method", S, "Repayment method (pricing methods).",
           choices=("equal_installment", "equal_principal", "interest_first", "fee_per_period", "fee_total",
                    "daily_rate")),
        _f("contract_rate", F64, "Annual contract interest rate, decimal (0.18 = 18 %).", min=0, max=1),
        _f("fee_rate", F64, "Fee per period on the original principal, decimal.", min=0, max=1),
        _f("upfront_fee_fen", I64, "Fees deducted at disbursement, integer fen.", min=0),
        _f("guarantee_fee_rate", F64, "Credit-enhancement fee per month on original principal, decimal.",
           min=0, max=1),
        _f("payment_mode", S, "Entrusted payment (to the counterparty) or self payment (to the borrower).",
           required=True, choices=("entrusted", "self")),
        _f("payee_id", S, "Counterparty paid directly under entrusted payment.", entity=True),
        _f("contract_payee_id", S, "Payee named in the loan contract / invoice for entrusted payment."),
        _f("payee_merchant_id", S, "Merchant id of the payee paid under entrusted payment, when it is a merchant."),
        _f("contract_merchant_id", S, "Merchant id of the payee named in the contract, when it states one."),
        _f("payee_name", S, "Registered business name of the payee paid (never a person's name: a person "
           "payee is stated by account only)."),
        _f("contract_payee_name", S, "Registered business name of the contract's payee (never a person's name)."),
        _f("purpose", S, "Declared use of the loan."),
        _f("lender_type", S, "Type of the lending institution.",
           choices=("bank", "consumer_finance", "micro_loan", "trust", "auto_finance")),
        _f("channel", S, "Own business or internet loan facilitation (助贷).", choices=("own", "zhudai")),
        _f("partner_id", S, "Loan-facilitation partner, if any.", entity=True),
        _f("first_due_date", pl.Date, "Due date of the first installment."),
    ),
    "transfer": (
        _f("card_token", S, "Token of the borrower account money moved from or to.", entity=True),
        _f("loan_id", S, "Loan whose disbursed funds this account movement is traced to, if any.", entity=True),
        _f("direction", S, "out = from the borrower's account; in = into it.", required=True,
           choices=("out", "in")),
        _f("counterparty_id", S, "Counterparty account or merchant id.", required=True, entity=True),
        _f("counterparty_type", S, "Kind of counterparty.", required=True,
           choices=("individual", "own_account", "merchant", "company", "financial", "cash")),
        _f("counterparty_category", S, "Category of the counterparty (shared with merchants).", choices=CATEGORIES),
        _f("counterparty_name", S, "Registered business name of the counterparty (never a person's name)."),
        _f("amount_fen", I64, "Amount, integer fen.", required=True, min=1),
    ),
    "repayment": (
        _f("loan_id", S, "Loan (or credit-line bill) id.", required=True, entity=True),
        _f("installment_no", I16, "Installment number, 1-based.", required=True, min=1),
        _f("due_date", pl.Date, "Due date of the installment.", required=True),
        _f("paid_date", pl.Date, "Date paid in full; null when still unpaid at ts."),
        _f("due_fen", I64, "Amount due, integer fen.", required=True, min=0),
        _f("paid_fen", I64, "Amount paid so far, integer fen.", required=True, min=0),
        _f("paid_principal_fen", I64, "Principal part of the payment.", min=0),
        _f("paid_interest_fen", I64, "Interest part of the payment.", min=0),
        _f("paid_fee_fen", I64, "Fee part of the payment.", min=0),
        _f("dpd", I32, "Days past due at ts (0 when current).", required=True, min=0),
    ),
    "complaint": (
        _f("loan_id", S, "Loan the complaint concerns, if any.", entity=True),
        _f("channel", S, "Where the complaint was filed.", required=True,
           choices=("regulator_12378", "hotline", "app", "online_platform", "letter")),
        _f("text", S, "Complaint text as filed (Chinese).", required=True),
        _f("rep_phone_token", S, "Token of the phone of a representative acting for the customer.", entity=True),
        _f("demands", LS, "Normalised demands.", ),
        _f("documents", LS, "Supporting documents attached."),
        _f("claims_not_me", B, "The complainant says the credit was opened without their knowledge."),
        _f("rep_name_token", S, "Token of the name of a representative acting for the customer.", entity=True),
        _f("doc_issuer_id", S, "Issuer (hospital, employer, law firm) of the main supporting document.",
           entity=True),
    ),
    "collection_contact": (
        _f("loan_id", S, "Loan being collected.", required=True, entity=True),
        _f("channel", S, "How the debtor (or a third party) is contacted.", required=True,
           choices=CONTACT_CHANNELS),
        _f("target", S, "Who is contacted: the debtor or a third party.", required=True,
           choices=("debtor", "third_party")),
        _f("target_relation", S, "Relation of a contacted third party to the debtor.",
           choices=THIRD_PARTY_RELATIONS),
        _f("target_token", S, "Token of the phone (or address) contacted.", entity=True),
        _f("collector_id", S, "Collector (person or AI voice line) making the contact.", required=True,
           entity=True),
        _f("agency_id", S, "Outsourced collection agency; null for the lender's own team.", entity=True),
        _f("caller_number_token", S, "Token of the number the call or SMS comes from.", entity=True),
        _f("collectors_present", I16, "Collectors present at a visit.", min=0, max=20),
        _f("outcome", S, "Result of the contact, when known (null for a contact still to be made).",
           choices=CONTACT_OUTCOMES),
    ),
}

DEMANDS = ("interest_waiver", "fee_refund", "installment_36", "installment_60", "stop_collection",
           "credit_repair", "not_me", "service_fix", "close_account")
DOCUMENTS = ("hospital_certificate", "unemployment_certificate", "lawyer_letter", "police_report",
             "hardship_statement")


@functools.cache
def fields_of(event_type: str) -> tuple[Field, ...]:
    """All fields of an event type, common fields first."""
    if event_type not in SPECS:
        raise EventValidationError("event_type", f"unknown event type {event_type!r}; expected one of {EVENT_TYPES}")
    return COMMON + SPECS[event_type]


@functools.cache
def _field_names(event_type: str) -> frozenset[str]:
    return frozenset(f.name for f in fields_of(event_type))


def schema_of(event_type: str) -> dict[str, pl.DataType]:
    """The Polars schema of one event type."""
    return {f.name: f.dtype for f in fields_of(event_type)}


def _union_fields() -> dict[str, Field]:
    out: dict[str, Field] = {f.name: f for f in COMMON}
    for et in EVENT_TYPES:
        for f in SPECS[et]:
            prev = out.get(f.name)
            if prev is not None and prev.dtype != f.dtype:
                raise TypeError(f"field {f.name} has two dtypes: {prev.dtype} and {f.dtype}")
            if prev is None:
                out[f.name] = dataclasses.replace(f, required=False)
    return out


#: Every field of every event type; one field name has one dtype everywhere.
UNION_FIELDS: dict[str, Field] = _union_fields()
#: The one tabular schema: a stream of mixed events is a frame with these columns.
EVENT_SCHEMA: dict[str, pl.DataType] = {n: f.dtype for n, f in UNION_FIELDS.items()}

ENTITY_KEYS: dict[str, tuple[str, ...]] = {
    et: tuple(f.name for f in fields_of(et) if f.entity) for et in EVENT_TYPES
}


def empty_frame(event_type: str | None = None) -> pl.DataFrame:
    """An empty frame with the schema of one event type (or the union schema)."""
    return pl.DataFrame(schema=schema_of(event_type) if event_type else EVENT_SCHEMA)


def to_union(frame: pl.DataFrame) -> pl.DataFrame:
    """Widen a typed frame of one event type to the union schema (missing columns null)."""
    cols = [
        frame[n].cast(d) if n in frame.columns else pl.lit(None, dtype=d).alias(n)
        for n, d in EVENT_SCHEMA.items()
    ]
    return frame.select(cols)


# ---------------------------------------------------------------- scalar validation


def parse_ts(value: Any) -> dt.datetime:
    """Parse a timezone-aware timestamp; naive timestamps and years outside 1970–2099 are an error."""
    if isinstance(value, dt.datetime):
        ts = value
    elif isinstance(value, str):
        try:
            ts = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise EventValidationError("ts", f"not an ISO-8601 timestamp: {value!r}") from exc
    else:
        raise EventValidationError("ts", f"expected an ISO-8601 timestamp, got {type(value).__name__}")
    if ts.tzinfo is None:
        raise EventValidationError("ts", "timestamp has no timezone offset")
    if not TS_MIN <= ts < TS_MAX:
        raise EventValidationError("ts", f"{ts.isoformat()} is outside 1970-01-01 .. 2099-12-31")
    return ts.astimezone(TZ)


def _coerce(f: Field, value: Any) -> Any:
    kind = f.kind
    if kind == "datetime":
        try:
            return parse_ts(value)
        except EventValidationError as exc:
            raise EventValidationError(f.name, exc.reason) from None
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise EventValidationError(f.name, f"not an ISO date: {value!r}") from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise EventValidationError(f.name, f"not a boolean: {value!r}")
    if kind == "int":
        if isinstance(value, bool):
            raise EventValidationError(f.name, f"not an integer: {value!r}")
        if isinstance(value, int):
            out = value
        elif (isinstance(value, float) and value.is_integer()) or (isinstance(value, str) and value.strip().lstrip("+-").isdigit()):
            out = int(value)
        else:
            raise EventValidationError(f.name, f"not an integer: {str(value)[:40]!r}")
        lo, hi = int_bounds(f)
        if not lo <= out <= hi:
            raise EventValidationError(f.name, f"{out} does not fit in {f.dtype}")
        return out
    if kind == "float":
        if isinstance(value, bool):
            raise EventValidationError(f.name, f"not a number: {value!r}")
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise EventValidationError(f.name, f"not a number: {value!r}") from None
        if math.isnan(out) or math.isinf(out):
            raise EventValidationError(f.name, f"not a finite number: {value!r}")
        return out
    if kind == "list":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise EventValidationError(f.name, "expected a list of strings")
        return list(value)
    if not isinstance(value, str):
        raise EventValidationError(f.name, f"expected text, got {type(value).__name__}")
    if f.required and not value.strip():
        raise EventValidationError(f.name, "required field is empty")
    if f.name == "event_id" and (len(value) > EVENT_ID_MAX or not value.isprintable()):
        raise EventValidationError(f.name, f"must be at most {EVENT_ID_MAX} printable characters")
    return value


def _check_range(f: Field, value: Any) -> None:
    if f.choices is not None and value not in f.choices:
        raise EventValidationError(f.name, f"{value!r} is not one of {', '.join(f.choices)}")
    if f.min is not None and value < f.min:
        raise EventValidationError(f.name, f"{value} is below the minimum {f.min:g}")
    if f.max is not None and value > f.max:
        raise EventValidationError(f.name, f"{value} is above the maximum {f.max:g}")


def validate_event(record: Mapping[str, Any], event_type: str | None = None) -> dict[str, Any]:
    """Validate and normalise one event given as a mapping; return a clean dict.

    Unknown keys are an error (a typo must not pass silently); missing optional
    fields become ``None``. Raises :class:`EventValidationError` naming the field.
    """
    et = record.get("event_type") or event_type
    if et is None:
        raise EventValidationError("event_type", "required field is missing")
    if event_type is not None and et != event_type:
        raise EventValidationError("event_type", f"expected {event_type!r}, got {et!r}")
    fields_of(et)  # an unknown event type is an error naming the field
    known = _field_names(et)
    unknown = [k for k in record if k not in known]
    if unknown:
        raise EventValidationError(unknown[0], f"unknown field for event type {et!r}")
    return _validator(et)(record, et)


def _slow(f: Field, value: Any) -> Any:
    """The generic path for one present value: coercion, then the range checks."""
    value = _coerce(f, value)
    if f.kind in ("int", "float", "str"):
        _check_range(f, value)
    return value


def _missing(f: Field) -> None:
    raise EventValidationError(f.name, "required field is missing")


@functools.cache
def _validator(event_type: str) -> Any:
    """The generated validator of one event type (see :mod:`fengkong.events.validator`)."""
    from fengkong.events.validator import compile_validator

    env = {"datetime": dt.datetime, "date": dt.date, "TS_MIN": TS_MIN, "TS_MAX": TS_MAX, "TZ": TZ,
           "EVENT_ID_MAX": EVENT_ID_MAX}
    return compile_validator(fields_of(event_type), _slow, _missing, int_bounds, env)


# ---------------------------------------------------------------- typed records


def _make_record(event_type: str) -> type:
    py = {"datetime": dt.datetime, "date": dt.date, "bool": bool, "int": int, "float": float,
          "list": list[str], "str": str}
    specs = []
    for f in fields_of(event_type):
        if f.name == "event_type":
            continue
        t = py[f.kind]
        if f.required:
            specs.append((f.name, t))
        else:
            specs.append((f.name, t | None, dataclasses.field(default=None)))
    specs.append(("event_type", str, dataclasses.field(default=event_type)))
    cls = dataclasses.make_dataclass(
        "".join(p.capitalize() for p in event_type.split("_")), specs, kw_only=True, slots=True,
        namespace={
            "__doc__": f"A {event_type} event. Fields and their meaning: docs/events.md.",
            "to_dict": lambda self: dataclasses.asdict(self),
            "validated": lambda self: validate_event(dataclasses.asdict(self)),
        },
    )
    cls.__module__ = __name__
    return cls


Customer = _make_record("customer")
Application = _make_record("application")
Purchase = _make_record("purchase")
Disbursement = _make_record("disbursement")
Transfer = _make_record("transfer")
Repayment = _make_record("repayment")
Complaint = _make_record("complaint")
CollectionContact = _make_record("collection_contact")

RECORDS: dict[str, type] = {
    "customer": Customer,
    "application": Application,
    "purchase": Purchase,
    "disbursement": Disbursement,
    "transfer": Transfer,
    "repayment": Repayment,
    "complaint": Complaint,
    "collection_contact": CollectionContact,
}


def record_from_dict(record: Mapping[str, Any]) -> Any:
    """Validate a mapping and return the typed record of its event type."""
    clean = validate_event(record)
    return RECORDS[clean["event_type"]](**clean)
