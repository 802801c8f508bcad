"""Plain-text rendering of a ring report (used by ``fengkong fraud rings`` and the demo)."""

from __future__ import annotations

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
