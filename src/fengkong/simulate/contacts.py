"""Collection contacts of the synthetic world: the lender's team and outsourced agencies, one of them misbehaving.

Ordinary collectors keep to the conduct rules by construction (at most two calls a day, the second at least
two hours later and only when the first was not answered, one SMS and one app push a day, 09:00–21:00, only
the debtor, only their registered numbers, nothing while a complaint is under review, after a "not me" claim
or during a negotiated plan). The misbehaving agency ignores the stops and, on a share of its loans, calls at
night, in bursts, from unregistered rotating numbers and calls unrelated third parties: every such contact is
labelled ``contact_violation`` with the rule it breaks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from fengkong.simulate.credit import DAY_US, HOUR_US, MIN_US

#: Days a complaint keeps collection on its loan paused (the 15-day complaint deadline, COLLECTIONS.md C4).
COMPLAINT_PAUSE_DAYS = 15
#: Days a negotiated plan pauses collection.
PLAN_PAUSE_DAYS = 30
#: Most days of contacts per loan (keeps the file small; collection of a loan goes on beyond that quietly).
MAX_DAYS = 45


def _windows(rep: pl.DataFrame, end_us: int) -> dict[str, list[tuple[int, int]]]:
    """Per loan: delinquency windows (from the DPD-1 status event to the late payment or the world's end)."""
    r = rep.select("loan_id", "installment_no", "dpd", "paid_fen", pl.col("ts").dt.replace_time_zone(None)
                   .cast(pl.Int64).alias("t"))
    start = r.filter((pl.col("dpd") == 1) & (pl.col("paid_fen") == 0)).group_by("loan_id", "installment_no").agg(
        pl.col("t").min().alias("s"))
    cure = r.filter(pl.col("paid_fen") > 0).group_by("loan_id", "installment_no").agg(pl.col("t").min().alias("e"))
    w = start.join(cure, on=["loan_id", "installment_no"], how="left").with_columns(
        pl.col("e").fill_null(end_us)).sort("loan_id", "s")
    out: dict[str, list[tuple[int, int]]] = {}
    for lid, s, e in w.select("loan_id", "s", "e").iter_rows():
        if e > s:
            out.setdefault(lid, []).append((int(s), int(e)))
    return out


def _stops(complaints: pl.DataFrame) -> dict[str, list[tuple[int, int, str]]]:
    """Per loan: windows in which collection must stop (complaint under review, "not me" claim)."""
    c = complaints.filter(pl.col("loan_id").is_not_null()).select(
        "loan_id", "claims_not_me", pl.col("ts").dt.replace_time_zone(None).cast(pl.Int64).alias("t"))
    out: dict[str, list[tuple[int, int, str]]] = {}
    for lid, nm, t in c.iter_rows():
        if nm:
            out.setdefault(lid, []).append((int(t), 2**62, "loan_frozen"))
        else:
            out.setdefault(lid, []).append((int(t), int(t) + COMPLAINT_PAUSE_DAYS * DAY_US, "complaint_under_review"))
    return out


def _stopped(stops: list[tuple[int, int, str]], t: int) -> str | None:
    for s, e, why in stops:
        if s <= t < e:
            return why
    return None


def collection_contacts(rng: np.random.Generator, tokenizer: Any, rep: pl.DataFrame, complaints: pl.DataFrame,
                        loans: pl.DataFrame, end_us: int, agencies: int, bad_share: float
                        ) -> tuple[list[dict[str, Any]], pl.DataFrame]:
    """Contact rows (dicts of event fields + ``_lp``/``_ld`` label columns) and the collector registry.

    ``loans``: ``loan_id``, ``customer_id``, ``phone_token`` (the debtor's), ``contact_tokens``.
    The registry frame has ``collector_id``, ``agency_id`` (null = in-house) and ``caller_number_token``.
    """
    def number() -> str:
        return tokenizer.token("phone", "95" + f"{int(rng.integers(0, 10**9)):09d}")

    teams = [None, *(f"AG{k + 1:02d}" for k in range(agencies))]
    bad_agency = teams[-1]
    collectors: dict[str | None, list[str]] = {}
    registry: list[tuple[str, str | None, str]] = []
    for ti, team in enumerate(teams):
        names = [f"{'IN' if team is None else team}-{c + 1:03d}" for c in range(4 if team is None else 3)]
        collectors[team] = names
        for nm in names:
            for _ in range(int(rng.integers(1, 3))):
                registry.append((nm, team, number()))
        del ti
    pool: dict[str, list[str]] = {}
    for nm, _, num in registry:
        pool.setdefault(nm, []).append(num)
    win = _windows(rep, end_us)
    stops = _stops(complaints)
    info = {lid: (cid, ph, ct) for lid, cid, ph, ct in loans.select(
        "loan_id", "customer_id", "phone_token", "contact_tokens").iter_rows()}
    rows: list[dict[str, Any]] = []

    def add(t: int, lid: str, ch: str, coll: str, team: str | None, caller: str | None, outcome: str,
            target: str = "debtor", relation: str | None = None, tgt: str | None = None,
            violation: str | None = None) -> None:
        cid, ph, _ = info[lid]
        rows.append({"ts": t, "customer_id": cid, "loan_id": lid, "channel": ch, "target": target,
                     "target_relation": relation, "target_token": tgt if target != "debtor" else ph,
                     "collector_id": coll, "agency_id": team, "caller_number_token": caller,
                     "collectors_present": None, "outcome": outcome,
                     "_lp": "contact_violation" if violation else None, "_lg": team or "in_house", "_ld": violation})

    # contacts are scheduled per debtor (the limits count every loan, collector and agency together): one
    # handler per debtor, each day about one of the debtor's delinquent loans
    by_debtor: dict[str, list[str]] = {}
    for lid in sorted(win):
        if lid in info:
            by_debtor.setdefault(info[lid][0], []).append(lid)
    for cust in sorted(by_debtor):
        lids = by_debtor[cust]
        team = teams[int(rng.integers(len(teams)))]
        coll = collectors[team][int(rng.integers(len(collectors[team])))]
        bad = team == bad_agency and rng.random() < bad_share
        day_loans: dict[int, list[str]] = {}
        for lid in lids:
            for s, e in win[lid]:
                for d in range(s // DAY_US + (1 if s % DAY_US > 9 * HOUR_US else 0), (e - 1) // DAY_US + 1):
                    day_loans.setdefault(d, []).append(lid)
        days = sorted(day_loans)[:MAX_DAYS]
        plan_until: dict[str, int] = {}
        burst_day = days[int(rng.integers(len(days)))] if bad and len(days) > 2 else None
        night_day = days[int(rng.integers(len(days)))] if bad and days else None
        rotate_day = days[int(rng.integers(len(days)))] if bad and days else None
        third_day = days[int(rng.integers(len(days)))] if bad and days else None

        def why_stopped(lid: str, t: int, plan_until: dict[str, int] = plan_until) -> str | None:
            return _stopped(stops.get(lid, []), t) or ("negotiated_plan" if t < plan_until.get(lid, -1) else None)

        for d in days:
            base = d * DAY_US
            cands = sorted(set(day_loans[d]))
            free = [x for x in cands if not why_stopped(x, base + 9 * HOUR_US) and not why_stopped(x, base + 21 * HOUR_US)]
            if team != bad_agency:
                if not free:
                    continue
                lid = free[0]
            else:
                lid = cands[0]
            if d == burst_day:  # five calls ten minutes apart: all but the first break the minimum gap
                for k in range(5):
                    t = base + 14 * HOUR_US + k * 10 * MIN_US
                    add(t, lid, "call", coll, team, pool[coll][0], "no_answer",
                        violation=why_stopped(lid, t) or ("min_gap" if k else None))
                continue
            planned: list[tuple[int, str]] = []
            if rng.random() < 0.6:
                planned.append((base + int(rng.integers(9 * HOUR_US, 18 * HOUR_US)), "call"))
            if rng.random() < 0.3:
                planned.append((base + int(rng.integers(10 * HOUR_US, 19 * HOUR_US)), "sms"))
            if rng.random() < 0.2:
                planned.append((base + int(rng.integers(9 * HOUR_US, 20 * HOUR_US)), "app_push"))
            for t, ch in sorted(planned):
                why = why_stopped(lid, t)
                if why and team != bad_agency:
                    continue
                caller = pool[coll][int(rng.integers(len(pool[coll])))] if ch in ("call", "sms") else None
                viol = why
                if bad and d == rotate_day and ch in ("call", "sms"):
                    caller, viol = number(), viol or "unregistered_number"
                if ch == "call":
                    u = rng.random()
                    outcome = "connected" if u < 0.35 else ("refused" if u < 0.45 else "no_answer")
                    if outcome == "connected" and rng.random() < 0.05:
                        outcome = "plan_agreed"
                    add(t, lid, ch, coll, team, caller, outcome, violation=viol)
                    if outcome == "plan_agreed":
                        plan_until[lid] = t + PLAN_PAUSE_DAYS * DAY_US
                    elif outcome == "no_answer" and rng.random() < 0.4 and t + 2 * HOUR_US < base + 21 * HOUR_US:
                        t2 = min(t + 2 * HOUR_US + int(rng.integers(0, HOUR_US)), base + 21 * HOUR_US - MIN_US)
                        why2 = why_stopped(lid, t2)
                        if not why2 or team == bad_agency:
                            v2 = why2 or ("unregistered_number" if viol == "unregistered_number" else None)
                            add(t2, lid, ch, coll, team, number() if v2 == "unregistered_number" else caller,
                                "no_answer", violation=v2)
                else:
                    add(t, lid, ch, coll, team, caller, "delivered", violation=viol)
            if d == night_day:
                t = base + int(rng.choice([22 * HOUR_US, 6 * HOUR_US])) + int(rng.integers(0, 2 * HOUR_US))
                add(t, lid, "call", coll, team, pool[coll][0], "no_answer", violation="quiet_hours")
            if d == third_day:
                t = base + int(rng.integers(10 * HOUR_US, 17 * HOUR_US))
                add(t, lid, "call", coll, team, pool[coll][0], "connected", target="third_party",
                    relation="unrelated", tgt=tokenizer.token("phone", "17" + f"{int(rng.integers(0, 10**9)):09d}"),
                    violation="third_party")
    reg = pl.DataFrame({"collector_id": [r[0] for r in registry], "agency_id": [r[1] for r in registry],
                        "caller_number_token": [r[2] for r in registry]},
                       schema={"collector_id": pl.Utf8, "agency_id": pl.Utf8, "caller_number_token": pl.Utf8})
    return rows, reg
