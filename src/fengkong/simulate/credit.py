"""Credit mechanics shared by every pattern: clock helpers, schedules, bills and repayment events."""

from __future__ import annotations

import numpy as np
import polars as pl

from fengkong.events import TZ_NAME

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
MIN_US = 60_000_000

# share of activity per local hour (ordinary people): quiet nights, lunch and evening peaks
_HOUR_W = np.array([1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 2.0, 3.5, 4.5, 5.0, 5.5, 6.5, 6.0, 5.0, 4.8, 4.8, 5.0,
                    5.5, 6.0, 6.8, 7.0, 5.5, 3.0])
HOUR_P = _HOUR_W / _HOUR_W.sum()
NIGHT_HOURS = np.array([22, 23, 0, 1, 2, 3, 4])


def day_number(d) -> int:
    """Days since 1970-01-01 of a date."""
    return int(np.datetime64(d, "D").astype(np.int64))


def time_of_day(rng: np.random.Generator, n: int, night_share: float | np.ndarray = 0.0) -> np.ndarray:
    """Microseconds into the day: ordinary hour profile, or night hours with ``night_share``."""
    hour = rng.choice(24, n, p=HOUR_P)
    night = rng.random(n) < night_share
    hour = np.where(night, rng.choice(NIGHT_HOURS, n), hour)
    return hour * HOUR_US + rng.integers(0, HOUR_US, n)


def ts_series(local_us: np.ndarray, name: str = "ts") -> pl.Series:
    """Local wall-clock microseconds → timezone-aware Asia/Shanghai timestamps (no DST in China)."""
    return pl.Series(name, np.asarray(local_us, dtype=np.int64)).cast(pl.Datetime("us")).dt.replace_time_zone(
        TZ_NAME)


def date_series(days: np.ndarray, name: str) -> pl.Series:
    return pl.Series(name, np.asarray(days, dtype=np.int32)).cast(pl.Date)


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Same day of month ``months`` later (day clipped to 28), as day numbers."""
    d = np.asarray(days).astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = np.minimum((d - m.astype("datetime64[D]")).astype(np.int64), 27)
    return ((m + np.asarray(months).astype("timedelta64[M]")).astype("datetime64[D]").astype(np.int64) + dom)


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start_day(mi: np.ndarray) -> np.ndarray:
    return np.asarray(mi).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def amortize(principal: np.ndarray, rate: np.ndarray, term: np.ndarray) -> dict[str, np.ndarray]:
    """Equal-installment schedules, one row per installment, integer fen summing to the principal."""
    loan = np.repeat(np.arange(len(principal)), term)
    first = np.concatenate([[0], np.cumsum(term)[:-1]])
    inst = np.arange(len(loan)) - np.repeat(first, term) + 1
    r = rate[loan] / 12.0
    n = term[loan].astype(float)
    p = principal[loan].astype(float)
    pay = p * r * (1 + r) ** n / ((1 + r) ** n - 1)
    prin_f = pay / (1 + r) ** (n - inst + 1)
    interest = np.round(pay - prin_f).astype(np.int64)
    prin = np.round(prin_f).astype(np.int64)
    # the last installment absorbs rounding so principal parts sum to the principal exactly
    csum = np.bincount(loan, weights=prin, minlength=len(principal)).astype(np.int64)
    last = inst == term[loan]
    prin[last] += principal[loan[last]] - csum[loan[last]]
    return {"loan": loan, "installment": inst, "principal": prin, "interest": interest}


def repayment_events(rng: np.random.Generator, *, app: np.ndarray, seq: np.ndarray, due_day: np.ndarray,
                     principal: np.ndarray, interest: np.ndarray, fee: np.ndarray, default_seq: np.ndarray,
                     late_p: np.ndarray, end_day: int) -> dict[str, np.ndarray]:
    """Repayment events of installments due before ``end_day``.

    Installments before the application's ``default_seq`` are paid (mostly 0–9 days before the due date,
    a risk-driven share late); from ``default_seq`` on nothing is paid. Unpaid installments produce
    status events at DPD 1, 30, 60 and 90; payments carry the DPD at which they were made.
    Returns row arrays with ``row`` = index into the installment arrays.
    """
    n = len(app)
    unpaid = seq >= default_seq[app]
    late = rng.random(n) < late_p[app]
    bucket = rng.random(n)
    late_days = np.where(bucket < 0.75, rng.integers(1, 11, n), np.where(bucket < 0.93, rng.integers(11, 30, n),
                                                                          rng.integers(30, 51, n)))
    lateness = np.where(late, late_days, -rng.integers(0, 10, n))  # early: from the 1st (statement day)
    pay_ts = (due_day + lateness) * DAY_US + time_of_day(rng, n)
    paid = ~unpaid & (pay_ts < end_day * DAY_US)
    lateness = np.where(paid, lateness, 10**6)
    rows, ts, dpd, is_pay = [], [], [], []
    for s in (1, 30, 60, 90):
        m = (lateness > s) & (due_day + s < end_day)
        idx = np.nonzero(m)[0]
        rows.append(idx)
        ts.append((due_day[idx] + s) * DAY_US + 2 * HOUR_US + rng.integers(0, HOUR_US, len(idx)))
        dpd.append(np.full(len(idx), s))
        is_pay.append(np.zeros(len(idx), bool))
    idx = np.nonzero(paid)[0]
    rows.append(idx)
    ts.append(pay_ts[idx])
    dpd.append(np.maximum(lateness[idx], 0))
    is_pay.append(np.ones(len(idx), bool))
    r = np.concatenate(rows)
    pay = np.concatenate(is_pay)
    tsa = np.concatenate(ts)
    return {"row": r, "ts": tsa, "dpd": np.concatenate(dpd), "is_pay": pay,
            "paid_day": np.where(pay, tsa // DAY_US, -1)}
