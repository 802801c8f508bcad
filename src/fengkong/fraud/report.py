"""Plain-text rendering of a ring report (used by ``fengkong fraud rings`` and the demo)."""

from __future__ import annotations

from typing import Any

from fengkong.fraud.rings import Ring


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.0f}"


def render_ring(r: Ring, max_members: int = 12) -> str:
    """A ring as readable text: score and evidence, members, shared elements, timeline, outcomes."""
    t, o = r.timeline, r.outcomes
    shown = ", ".join(r.members[:max_members]) + (f" … (+{len(r.members) - max_members})"
                                                    if len(r.members) > max_members else "")
    ev = ", ".join(f"{k} {v:.0%}" for k, v in r.evidence.items() if v > 0)
    lines = [
        f"Ring {r.ring_id}  score {r.score:.2f}  members {len(r.members)}",
        f"  evidence (share of members): {ev or 'none'}",
        f"  members: {shown}",
        "  shared elements:",
    ]
    for s in r.shared_elements[:10]:
        lines.append(f"    {s['kind']:<18} {s['element']:<12} {s['members']:>3} members  first seen {s['first_seen'][:10]}")
    if not r.shared_elements:
        lines.append("    (none)")
    weeks = "  ".join(f"{w}:{n}" for w, n in t.get("applications_by_week", {}).items())
    lines += [
        f"  timeline: {t.get('applications', 0)} applications, {str(t.get('first_application'))[:16]} → "
        f"{str(t.get('last_application'))[:16]}",
        f"    by week: {weeks}",
        f"  outcomes so far: {o['loans']} loans to {o['members_with_loans']} members, {_yuan(o['disbursed_fen'])} yuan "
        f"disbursed, {o['members_defaulted']} members 30+ DPD (worst {o['worst_dpd']} days), "
        f"{o['not_me_complaints']} 'not me' complaints",
    ]
    return "\n".join(lines)


def demo_text(world: str, max_cases: int = 10, events: Any = None, features: Any = None) -> str:
    """What ``fengkong demo`` shows for the fraud pack: the largest detected ring's report and the
    identity-theft applications the fraud rules stopped (masked tokens only). ``events`` / ``features``:
    the world's events and their point-in-time features when the caller has them."""
    import polars as pl

    from fengkong.events import pii
    from fengkong.events.files import read_world
    from fengkong.fraud.evaluate import decide
    from fengkong.fraud.rings import detect_rings, ring_report

    if events is None:
        events = read_world(world)
    rings, members = detect_rings(events)
    out = [f"Fraud: {rings.height} rings detected, {members.height} members."]
    if rings.height:
        largest = rings.sort("size", "score", descending=True)["ring_id"][0]
        out.append(render_ring(ring_report(events, rings, members, ring_id=largest)[0]))
    dec, _, _ = decide(events, features=features)
    idt = [c for c in dec["reason_codes"].explode().drop_nulls().unique().to_list() if c.startswith(("IDT_", "IDENTITY"))]
    stopped = dec.filter(pl.col("reason_codes").list.eval(pl.element().is_in(idt)).list.any()).join(
        events.select("event_id", "id_token", "device_id", "phone_token"), on="event_id")
    out.append(f"Identity-theft defence stopped {stopped.height} applications; first {min(max_cases, stopped.height)}:")
    for r in stopped.sort("ts").head(max_cases).iter_rows(named=True):
        codes = ",".join(c for c in r["reason_codes"] if c in idt)
        out.append(f"  {r['ts']:%Y-%m-%d %H:%M} {r['event_id']} ID {pii.mask_token(r['id_token'])} device "
                   f"{pii.mask_token(r['device_id'])} → {r['outcome']} ({codes})")
    return "\n".join(out)
