"""Random event streams in the event schema for feature tests (small pools so keys collide)."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from fengkong.events import EVENT_SCHEMA, TZ

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
PROHIBITED = ["securities", "gambling", "real_estate"]


def random_events(rng: random.Random, n: int, span_s: int = 40 * 86400, pool: int = 5,
                  missing: float = 0.15) -> list[dict]:
    """``n`` events of mixed types with colliding keys, bursts of equal timestamps and missing fields."""
    def pick(prefix: str) -> str | None:
        return None if rng.random() < missing else f"{prefix}{rng.randrange(pool)}"

    out: list[dict] = []
    t = 0
    for k in range(n):
        r = rng.random()
        if r < 0.15:
            pass  # same timestamp as the previous event (burst)
        elif r < 0.4:
            t += rng.randrange(1, 120)
        else:
            t += rng.randrange(0, span_s // max(n, 1) * 2 + 1)
        et = rng.choice(["application", "application", "purchase", "transfer", "repayment", "customer",
                         "disbursement"])
        e: dict = {"event_id": f"e{k:05d}", "event_type": et, "ts": T0 + dt.timedelta(seconds=t),
                   "customer_id": f"c{rng.randrange(pool)}"}
        if et in ("customer", "application", "purchase"):
            e.update(id_token=pick("id"), phone_token=pick("p"), device_id=pick("d"), ip=pick("ip"),
                     card_token=pick("card"))
        if et == "application":
            e.update(amount_fen=rng.choice([100000, 250000, 1234567, 500000]), product="cash_loan",
                     term_months=12, agent_id=pick("a"), employer_id=pick("emp"),
                     contact_tokens=None if rng.random() < missing else
                     [f"p{rng.randrange(pool)}" for _ in range(rng.randrange(0, 3))])
        elif et == "purchase":
            e.update(merchant_id=f"m{rng.randrange(pool)}", merchant_category="electronics",
                     amount_fen=rng.choice([10000, 20000, 12345, 99900]), installments=1,
                     is_refund=None if rng.random() < missing else rng.random() < 0.2)
        elif et == "transfer":
            e.update(loan_id=pick("L"), card_token=pick("card"), direction=rng.choice(["in", "out"]),
                     counterparty_id=f"cp{rng.randrange(pool)}",
                     counterparty_type=rng.choice(["merchant", "individual", "financial"]),
                     counterparty_category=rng.choice([*PROHIBITED, "catering", None]),
                     amount_fen=rng.choice([5000, 100000, 777700]))
        elif et == "repayment":
            e.update(loan_id=f"L{rng.randrange(pool)}", installment_no=1, due_date=dt.date(2026, 4, 1),
                     due_fen=1000, paid_fen=0, dpd=rng.choice([0, 0, 3, 31]))
        elif et == "disbursement":
            e.update(loan_id=f"L{rng.randrange(pool)}", id_token=pick("id"), card_token=pick("card"),
                     amount_fen=rng.choice([100000, 300000]), term_months=12, payment_mode="self")
        out.append(e)
    return out


def to_frame(events: list[dict]) -> pl.DataFrame:
    """Events as a frame in the union schema (what read_world returns), sorted by (ts, event_id)."""
    cols = {name: [e.get(name) for e in events] for name in EVENT_SCHEMA}
    return pl.DataFrame(cols, schema=EVENT_SCHEMA).sort(["ts", "event_id"])
