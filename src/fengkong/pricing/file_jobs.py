"""The pricing jobs over event files: quarter-to-date cost compliance, the subsidy run and its claim report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.pricing.errors import PricingError
from fengkong.settings import business_today

#: Told about rows set aside while reading an event file (one line of text); None: keep quiet.
Warn = Callable[[str], None] | None


def iso_date(value: str | dt.date | None, name: str) -> dt.date | None:
    """A date from an ISO string (or a date); a bad string is a PricingError naming ``name``."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PricingError(name, f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def read_event_file(
    path: Path, event_type: str | None = None, warn: Warn = None, tokenizer: Any = None
) -> pl.DataFrame:
    """An event file (Parquet/CSV/JSONL) with row-level quarantine; ``warn`` hears what was set aside."""
    from fengkong.events import files as eventio

    res = eventio.read_events(path, event_type=event_type, tokenizer=tokenizer)
    if res.quarantined_rows and warn is not None:
        warn(
            f"{path}: {res.quarantined_rows} bad rows quarantined → {res.quarantine_path}; first: {res.errors[0]}"
        )
    return res.frame


def compliance_report(
    loans: Path,
    quarter: str,
    *,
    as_of: str | dt.date | None = None,
    recent_days: int = 14,
    what_if_cap: float | None = None,
    what_if_from: str | dt.date | None = None,
    config: Path | None = None,
    warn: Warn = None,
    tokenizer: Any = None,
) -> Any:
    """Quarter-to-date cost compliance of the loans disbursed in a file (``fengkong compliance``)."""
    from fengkong.pricing.compliance import monitor
    from fengkong.pricing.config import load_config

    if not loans.is_file():
        raise PricingError("loans", f"file not found: {loans}")
    frame = read_event_file(loans, "disbursement", warn, tokenizer)
    return monitor(
        frame,
        quarter,
        as_of=iso_date(as_of, "as_of"),
        recent_days=recent_days,
        what_if_cap=what_if_cap,
        what_if_from=iso_date(what_if_from, "what_if_from"),
        config=load_config(config),
    )


def subsidy_run(
    transactions: Sequence[Path],
    as_of: str | dt.date,
    *,
    loans: Path | None = None,
    ledger: Path = Path(".fengkong/subsidy_ledger.parquet"),
    customers: Path | None = None,
    authorizations: Path | None = None,
    config: Path | None = None,
    warn: Warn = None,
    tokenizer: Any = None,
) -> Any:
    """Eligibility, accrual, caps and deduction over purchase/transfer files, posted to the ledger file
    (``fengkong subsidy run``); the result's ``claim_report()`` is the claim per branch and quarter."""
    from fengkong.events import files as eventio
    from fengkong.pricing.config import load_config
    from fengkong.pricing.subsidy import SubsidyRules
    from fengkong.pricing.subsidy_ledger import run_subsidy

    day = iso_date(as_of, "as_of")
    assert day is not None
    frames: dict[str, list[pl.DataFrame]] = {"purchase": [], "transfer": []}
    for path in transactions:
        if not path.is_file():
            raise PricingError("transactions", f"file not found: {path}")
        et = eventio.guess_event_type(path)
        if et not in frames:
            raise PricingError("transactions", f"{path} holds {et} events; expected purchase or transfer")
        frames[et].append(read_event_file(path, et, warn, tokenizer))
    loan_frame = read_event_file(loans, "disbursement", warn, tokenizer) if loans else None
    if frames["transfer"] and loan_frame is None:
        raise PricingError("loans", "transfer files need --loans to find each loan's rate and schedule")
    cust = read_event_file(customers, "customer", warn, tokenizer) if customers else None
    auth = None
    if authorizations:
        a = pl.read_csv(authorizations, infer_schema=False)
        if "customer_id" not in a.columns:
            raise PricingError("authorizations", "needs a customer_id column")
        auth = set(a["customer_id"].drop_nulls().to_list())
    return run_subsidy(
        pl.concat(frames["purchase"], how="diagonal_relaxed") if frames["purchase"] else None,
        pl.concat(frames["transfer"], how="diagonal_relaxed") if frames["transfer"] else None,
        loan_frame,
        day,
        rules=SubsidyRules.load(load_config(config)),
        ledger_path=ledger,
        customers=cust,
        authorized=auth,
    )


def subsidy_summary(run: Any, ledger: Path) -> dict[str, Any]:
    """The JSON summary of a subsidy run (``fengkong subsidy run --json``)."""
    return {
        "as_of": run.as_of.isoformat(),
        "items": run.items.height,
        "eligible": int((run.items["reason"] == "ELIGIBLE").sum()),
        "decisions": dict(run.items.group_by("reason").len().iter_rows()),
        "posted_entries": run.posted.height,
        "ledger_entries": run.ledger.height,
        "subsidy_fen": int(run.ledger["subsidy_fen"].sum()),
        "accrued_fen": int(run.ledger["accrued_fen"].sum()),
        "claims": run.claim_report().to_dicts(),
        "ledger": str(ledger),
    }


def ledger_claims(ledger: Path, today: dt.date | None = None) -> tuple[pl.DataFrame, int]:
    """The quarterly claim report per institution branch of a ledger file, and its number of entries."""
    from fengkong.pricing.subsidy_ledger import SubsidyRun, _read

    if not ledger.is_file():
        raise PricingError("ledger", f"file not found: {ledger}")
    led = _read(ledger)
    run = SubsidyRun(
        items=pl.DataFrame(),
        state=pl.DataFrame(),
        posted=led.clear(),
        ledger=led,
        as_of=led["as_of"].max() if led.height else (today or business_today()),
    )  # type: ignore[arg-type]
    return run.claim_report(), led.height
