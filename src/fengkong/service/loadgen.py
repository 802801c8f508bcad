"""Requests as a lender's systems send them (plaintext identity elements), for the demo, tests and benchmark.

Identity elements come from the simulator's generators (valid ID check digits, real mobile prefixes, Luhn
bank cards, Chinese names); ``customers`` people apply and then buy with their credit line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from fengkong.events import CATEGORIES, TZ


def people(n: int, seed: int = 7) -> list[dict[str, str]]:
    """``n`` people with plaintext ID number, name, phone and bank card."""
    from fengkong.simulate import geo
    from fengkong.simulate.identities import cards, id_numbers, names, phones

    rng = np.random.default_rng(seed)
    male = rng.random(n) < 0.5
    age = rng.integers(20, 60, n)
    birth = np.datetime64("2026-01-01") - (age * 365.25 + rng.integers(1, 365, n)).astype(np.int64).astype(
        "timedelta64[D]")
    region = rng.choice(geo.N_REGIONS, n, p=geo.WEIGHT)
    ids = id_numbers(rng, geo.CODE[region], birth, male)
    return [{"id_no": i, "name": nm, "phone": p, "bank_card": c, "customer_id": f"C{seed}-{k:06d}"}
            for k, (i, nm, p, c) in enumerate(zip(ids, names(rng, n), phones(rng, n), cards(rng, n), strict=True))]


def application(person: dict[str, str], event_id: str, ts: dt.datetime, rng: np.random.Generator) -> dict[str, Any]:
    """An application request with plaintext identity (tokenised by the service)."""
    return {"event_id": event_id, "event_type": "application", "ts": ts.isoformat(),
            "customer_id": person["customer_id"], "id_no": person["id_no"], "name": person["name"],
            "phone": person["phone"], "bank_card": person["bank_card"], "product": "credit_line",
            "amount_fen": int(rng.integers(5, 50)) * 100_000, "term_months": 12, "channel": "app",
            "device_id": f"dv{int(rng.integers(0, 10**9)):09d}", "ip": f"10.{int(rng.integers(0, 255))}.0.1",
            "province": "GD", "ip_province": "GD", "declared_income_fen": int(rng.integers(4, 40)) * 100_000,
            "monthly_debt_payment_fen": int(rng.integers(0, 5)) * 100_000,
            "bureau_score": int(rng.integers(550, 850)), "phone_tenure_months": int(rng.integers(1, 120)),
            "social_insurance_months": int(rng.integers(0, 120)), "bureau_hard_inquiries_30d": int(rng.integers(0, 4)),
            "liveness_score": round(float(rng.uniform(0.7, 1.0)), 3)}


def purchase(person: dict[str, str], event_id: str, ts: dt.datetime, rng: np.random.Generator) -> dict[str, Any]:
    """A purchase on the credit line (phone in plaintext, as the checkout has it); one in ten is a large one
    (20 000–50 000 yuan), which the purchase strategy reviews when it comes from a device first seen today."""
    big = rng.random() < 0.1
    amount = int(rng.integers(20, 50)) * 100_000 if big else int(rng.integers(1, 2000)) * 1000
    return {"event_id": event_id, "event_type": "purchase", "ts": ts.isoformat(), "customer_id": person["customer_id"],
            "phone": person["phone"], "merchant_id": f"M{int(rng.integers(0, 500)):04d}",
            "merchant_category": str(rng.choice(CATEGORIES[:12])), "amount_fen": amount,
            "installments": int(rng.choice([1, 3, 6, 12])), "device_id": f"dv{int(rng.integers(0, 10**9)):09d}"}


def mix(n: int, customers: int = 500, seed: int = 7, purchase_share: float = 0.6,
        start: dt.datetime | None = None, prefix: str = "R") -> list[dict[str, Any]]:
    """``n`` requests in time order: each person applies first, then applications and purchases mix."""
    rng = np.random.default_rng(seed)
    ps = people(customers, seed)
    t = start or dt.datetime(2026, 3, 1, 9, tzinfo=TZ)
    out: list[dict[str, Any]] = []
    applied: list[int] = []
    for i in range(n):
        t = t + dt.timedelta(seconds=int(rng.integers(1, 30)))
        if applied and rng.random() < purchase_share:
            p = ps[applied[int(rng.integers(0, len(applied)))]]
            out.append(purchase(p, f"{prefix}{seed}-{i:07d}", t, rng))
        else:
            k = len(applied) if len(applied) < customers else int(rng.integers(0, customers))
            if k == len(applied):
                applied.append(k)
            out.append(application(ps[k], f"{prefix}{seed}-{i:07d}", t, rng))
    return out
