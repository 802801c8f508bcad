"""A small random event stream with dense element sharing, for graph agreement tests."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from fengkong.events import EVENT_SCHEMA, TZ, validate_event


def random_stream(n_customers: int = 300, seed: int = 1, dup_rate: float = 0.03) -> tuple[list[dict], pl.DataFrame]:
    """Validated event dicts (in ts, event_id order, with re-deliveries) and the same events as a frame."""
    rng = random.Random(seed)
    t0 = dt.datetime(2026, 1, 1, 8, tzinfo=TZ)
    phones = [f"P{rng.getrandbits(40):x}" for _ in range(n_customers)]
    devices = [f"D{rng.getrandbits(40):x}" for _ in range(n_customers)]
    ips = [f"10.0.{i}.1" for i in range(8)]
    employers = [f"E{i}" for i in range(12)]
    agents = [f"A{i}" for i in range(3)]
    events: list[dict] = []
    k = 0

    def add(**kw):
        nonlocal k
        k += 1
        kw.setdefault("event_id", f"ev{k:06d}")
        events.append(validate_event(kw))

    for c in range(n_customers):
        cid = f"cust{c}"
        ts = t0 + dt.timedelta(hours=rng.uniform(0, 24 * 80))
        add(event_type="customer", ts=ts, customer_id=cid, id_token=f"ID{c}", phone_token=phones[c],
            device_id=devices[c], ip=rng.choice(ips))
        for _ in range(rng.randint(1, 3)):
            ts2 = ts + dt.timedelta(hours=rng.uniform(0, 24 * 20))
            add(event_type="application", ts=ts2, customer_id=cid, id_token=f"ID{c}",
                phone_token=phones[c] if rng.random() < 0.9 else rng.choice(phones),
                device_id=devices[c] if rng.random() < 0.9 else rng.choice(devices), ip=rng.choice(ips), product="cash_loan", amount_fen=1_000_000,
                term_months=12, employer_id=rng.choice(employers) if rng.random() < 0.5 else None,
                agent_id=rng.choice(agents) if rng.random() < 0.05 else None,
                contact_tokens=rng.sample(phones, 1) if rng.random() < 0.2 else [])
        if rng.random() < 0.3:
            add(event_type="transfer", ts=ts + dt.timedelta(days=2), customer_id=cid, direction="out",
                counterparty_id=f"X{rng.randint(0, 40)}", counterparty_type=rng.choice(["individual", "merchant"]),
                amount_fen=500_000)
        if rng.random() < 0.2:
            add(event_type="repayment", ts=ts + dt.timedelta(days=40), customer_id=cid, loan_id=f"L{c}",
                installment_no=1, due_date=(ts + dt.timedelta(days=30)).date(), due_fen=1000, paid_fen=0,
                dpd=rng.choice([0, 5, 31, 60]))
    events.sort(key=lambda e: (e["ts"], e["event_id"]))
    frame = pl.DataFrame([{n: e.get(n) for n in EVENT_SCHEMA} for e in events], schema=EVENT_SCHEMA)
    stream = list(events)
    for e in rng.sample(events, int(len(events) * dup_rate)):
        stream.insert(stream.index(e) + rng.randint(1, 5), e)  # re-delivered a little later
    return stream, frame
