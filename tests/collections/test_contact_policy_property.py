"""Property: over random contact streams, no allowed contact breaks the policy (checked independently)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.collections.policy import ContactState, Registry, limits_at
from fengkong.events import TZ

T0 = dt.datetime(2026, 3, 2, 0, 0, tzinfo=TZ)

contact = st.fixed_dictionaries({
    "minute": st.integers(0, 60 * 24 * 10),
    "customer_id": st.sampled_from(["C1", "C2"]),
    "loan_id": st.sampled_from(["L1", "L2", "L3"]),
    "channel": st.sampled_from(["call", "ai_voice", "sms", "app_push", "letter", "visit"]),
    "target": st.sampled_from(["debtor", "debtor", "debtor", "third_party"]),
    "target_relation": st.sampled_from([None, "emergency_contact", "guarantor", "unrelated", "spouse"]),
    "target_token": st.sampled_from([None, "t1", "t2"]),
    "collector_id": st.sampled_from(["A", "B"]),
    "caller_number_token": st.sampled_from([None, "nA", "nB", "nX"]),
    "collectors_present": st.sampled_from([None, 1, 2]),
    "outcome": st.sampled_from([None, "connected", "no_answer", "refused", "invalid_number", "plan_agreed"]),
    "kind": st.sampled_from(["contact"] * 12 + ["complaint", "not_me"]),
})


def _events(raw: list[dict]) -> list[dict]:
    out = []
    for i, r in enumerate(sorted(raw, key=lambda r: r["minute"])):
        ts = T0 + dt.timedelta(minutes=r["minute"], seconds=i)
        if r["kind"] == "contact":
            ev = {k: v for k, v in r.items() if k not in ("minute", "kind")}
            out.append({**ev, "event_id": f"E{i}", "event_type": "collection_contact", "ts": ts})
        else:
            out.append({"event_id": f"E{i}", "event_type": "complaint", "ts": ts, "customer_id": r["customer_id"],
                        "loan_id": r["loan_id"], "claims_not_me": r["kind"] == "not_me"})
    return out


def _oracle(allowed: list[dict], stops: list[dict]) -> list[str]:
    """An independent re-check of the main rules over the contacts that were allowed."""
    bad = []
    lim = limits_at(T0.date())
    for i, ev in enumerate(allowed):
        ts, local = ev["ts"], ev["ts"].astimezone(TZ)
        prior = [e for e in allowed[:i] if e["customer_id"] == ev["customer_id"] and e["target"] == "debtor"]
        day = [e for e in prior if e["ts"].astimezone(TZ).date() == local.date() and e["channel"] != "letter"]
        if ev["channel"] != "letter" and (local.hour >= lim.quiet_start_hour or local.hour < lim.quiet_end_hour):
            bad.append(f"quiet {ev['event_id']}")
        if ev["target"] == "debtor" and ev["channel"] != "letter" and len(day) >= lim.max_attempts_per_debtor_per_day:
            bad.append(f"daily {ev['event_id']}")
        calls = [e for e in prior if e["channel"] in ("call", "ai_voice")]
        if ev["target"] == "debtor" and ev["channel"] in ("call", "ai_voice") and calls and \
                ts - calls[-1]["ts"] < dt.timedelta(minutes=lim.min_gap_between_calls_minutes):
            bad.append(f"gap {ev['event_id']}")
        if ev["target"] == "third_party" and ev["target_relation"] not in lim.third_party_allowed_relations:
            bad.append(f"third {ev['event_id']}")
        if ev["channel"] in ("call", "ai_voice", "sms") and ev["caller_number_token"] not in (
                {"A": {"nA"}, "B": {"nB"}}[ev["collector_id"]]):
            bad.append(f"number {ev['event_id']}")
        for s in stops:
            if s["loan_id"] == ev["loan_id"] and s["ts"] <= ts and (
                    s["claims_not_me"] or ts < s["ts"] + dt.timedelta(days=lim.complaint_pause_days)):
                bad.append(f"stop {ev['event_id']}")
        if ev["channel"] == "visit" and (ev["collectors_present"] or 0) < 2:
            bad.append(f"visit {ev['event_id']}")
    return bad


@settings(max_examples=150, deadline=None)
@given(st.lists(contact, min_size=1, max_size=80))
def test_no_allowed_contact_outside_the_policy(raw):
    reg = Registry()
    reg.register("A", ["nA"])
    reg.register("B", ["nB"])
    enforce = ContactState(reg)
    allowed, stops = [], []
    for ev in _events(raw):
        if ev["event_type"] == "complaint":
            stops.append(ev)
            enforce.update(ev)
            continue
        b = enforce.read(ev)
        enforce.update(ev)
        if not b:
            allowed.append(ev)
    assert _oracle(allowed, stops) == []
    # the audit of exactly the allowed contacts (with the same stops) finds nothing either
    audit = ContactState(reg, mode="audit")
    for ev in sorted(allowed + stops, key=lambda e: e["ts"]):
        if ev["event_type"] == "collection_contact":
            assert audit.read(ev) == [], ev
        audit.update(ev)
