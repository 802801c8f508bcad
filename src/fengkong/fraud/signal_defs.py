"""The one table of fraud signal declarations (``fr_*`` and the ``idt_*`` counts) the online and offline paths compile.

Each :class:`Signal` is an expression of the strategy language (docs/strategies.md) over the application's
event fields, the association graph's ``graph_*`` features and the named thresholds of :data:`CONSTANTS`;
:mod:`fengkong.fraud.signal_compile` turns the table into the online provider's Python function and the
offline backfill's Polars expressions, so both read the same comparisons, thresholds and null rules.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Named thresholds; an expression names them and both compilations inline the same value.
CONSTANTS: dict[str, int | float] = {
    "SCORE_MIN": 0.6,  # liveness / face-match score below this fails (the caller's vendor, 0–1)
    "PHONE_NEW_MONTHS": 3,  # a phone activated fewer months ago than this is new
    "NIGHT_END_HOUR": 6,  # applications from 00:00 to this hour (exclusive, Asia/Shanghai) are at night
    "FAST_FORM_SECONDS": 60,  # a form filled faster than this is scripted or coached
    "BACKPAID_MONTHS": 3,  # this many back-paid housing-fund months look like packaging
    "HIGH_INCOME_FEN": 1_500_000,  # a thin file declaring at least this monthly income claims a "high" one
}

#: Inputs only the offline backfill computes (from the whole history), with their kinds; a signal that reads
#: one is ``online=False`` and is not a decision feature.
OFFLINE_INPUTS: dict[str, str] = {
    "inflow_monthly_fen": "float",  # average monthly money-in over the 90 days before the application
}

#: The counts derived from the table: count name → the tag a signal carries to be counted in it.
COUNTS: dict[str, str] = {"idt_signal_count": "idt", "idt_core_count": "idt_core"}


@dataclass(frozen=True)
class Signal:
    """One declared signal: name, kind (bool / int / float), expression, meaning, the counts it is in."""

    name: str
    kind: str
    expr: str
    doc: str
    counts: tuple[str, ...] = ()
    online: bool = True


_IDT = ("idt",)
_CORE = ("idt", "idt_core")

#: Every declared signal, in output order (DOMAIN.md §4.1–4.3).
SIGNALS: tuple[Signal, ...] = (
    # §4.1 identity theft: "idt_core" = about the person and the device; place, hour and sharing are context
    Signal("fr_liveness_fail", "bool", "liveness_score < SCORE_MIN or face_match_score < SCORE_MIN",
           "liveness or face match score below 0.6", _CORE),
    Signal("fr_device_tampered", "bool", "is_emulator or is_rooted", "emulator / virtual camera or rooted", _CORE),
    Signal("fr_phone_not_owner", "bool", "phone_name_match == false", "operator three-factor check failed", _CORE),
    Signal("fr_phone_new", "bool", "phone_tenure_months < PHONE_NEW_MONTHS", "phone activated < 3 months ago",
           _CORE),
    Signal("fr_night", "bool", "hour_of(ts) < NIGHT_END_HOUR", "applied 00:00–05:59 local time", _IDT),
    Signal("fr_ip_far", "bool", "ip_province != '' and province != '' and ip_province != province",
           "IP province differs from the declared province (empty = unknown)", _IDT),
    Signal("fr_fast_form", "bool", "form_fill_seconds < FAST_FORM_SECONDS", "form filled in < 60 s", _CORE),
    Signal("fr_device_shared", "bool", "graph_device_identities >= 1", "device seen with another applicant", _IDT),
    Signal("fr_phone_new_to_applicant", "bool", "graph_phone_new_to_applicant and graph_applicant_known",
           "a known applicant arrives with a never-seen phone", _CORE),
    Signal("fr_device_new_to_applicant", "bool", "graph_device_new_to_applicant and graph_applicant_known",
           "a known applicant arrives on a device never linked to them", _IDT),
    # §4.2 packaging
    Signal("fr_packaged_docs", "bool", "doc_statement_edited or housing_fund_backpaid_months >= BACKPAID_MONTHS",
           "statement with edit traces or >= 3 back-paid housing-fund months"),
    Signal("fr_thin_file_high_income", "bool", "bureau_thin_file and declared_income_fen >= HIGH_INCOME_FEN",
           "thin credit file claiming a high income"),
    Signal("fr_income_to_inflow", "float",
           "if(inflow_monthly_fen > 0, declared_income_fen / inflow_monthly_fen, null)",
           "declared income / observed monthly inflows (investigation only: needs 90 days of transfers)",
           online=False),
    # §4.3 multi-head: bureau fields, null (no bureau) counts as none
    Signal("fr_inquiries_7d", "int", "coalesce(bureau_hard_inquiries_7d, 0)", "bureau hard inquiries, 7 days"),
    Signal("fr_inquiries_30d", "int", "coalesce(bureau_hard_inquiries_30d, 0)", "bureau hard inquiries, 30 days"),
    Signal("fr_nonbank_loans", "int", "coalesce(bureau_nonbank_loans, 0)", "open non-bank loans"),
    Signal("fr_dti", "float",
           "if(declared_income_fen > 0, coalesce(monthly_debt_payment_fen, 0) / declared_income_fen, null)",
           "monthly debt service / declared income (null without an income)"),
)


def counted(count: str) -> tuple[str, ...]:
    """The signals counted into ``count`` (a key of :data:`COUNTS`), in table order."""
    tag = COUNTS[count]
    return tuple(s.name for s in SIGNALS if tag in s.counts)


#: Identity-theft signals (DOMAIN.md §4.1) counted into ``idt_signal_count``.
IDT_SIGNALS = counted("idt_signal_count")

#: The signals about the person and the device itself, counted into ``idt_core_count``.
IDT_CORE = counted("idt_core_count")
