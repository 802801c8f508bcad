"""The demo's complaints stage: the largest organised group with its evidence, a "not me" case from open to
resolved, and the contact-policy violation report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table


def stage_complaints(out: Path, console: Console, shared: Any = None) -> None:
    """Complaints and collections: organised groups, the "not me" path, the contact-policy report."""
    from fengkong.collections.report import audit_contacts, registry_from_frame, violation_report
    from fengkong.complaints.groups import complaint_groups, decide_complaints, open_cases
    from fengkong.complaints.notme import open_not_me, resolve_not_me
    from fengkong.events.files import read_world
    from fengkong.fraud.locks import IdentityLocks
    from fengkong.store import open_store

    world = out / "world"
    events = shared.events if shared is not None else read_world(world)  # the demo's world, read once
    decided = decide_complaints(events)
    groups, _ = complaint_groups(decided)
    routes = decided["route"].value_counts().sort("route")
    console.print("Complaint routes: " + ", ".join(f"{r} {n}" for r, n in routes.iter_rows()))
    store = open_store(f"sqlite:///{out / 'fengkong.db'}")  # the demo's one store: the console shows these cases
    try:
        ids = open_cases(store, groups)
        org = groups.filter(pl.col("organised"))
        if org.height:
            g = org.row(0, named=True)
            t = Table(title=f"Largest organised complaint group {g['group']} (case {ids[0]})")
            t.add_column("evidence")
            t.add_column("value")
            for k, v in (("complaints / customers", f"{g['complaints']} / {g['customers']}"),
                         ("routed to the organised team", f"{g['organised_share']:.0%}"),
                         ("group score", f"{g['group_score']:.3f}"),
                         ("shared representative phone tokens", ", ".join(x[:12] + "…" for x in g["rep_phones"][:3])
                          + (f" … ({len(g['rep_phones'])})" if len(g["rep_phones"]) > 3 else "")),
                         ("document issuers", ", ".join(g["issuers"][:5])),
                         ("demand set", g["demand_set"] or ""), ("main channel", g["main_channel"] or ""),
                         ("timeline", f"{g['first']:%Y-%m-%d} → {g['last']:%Y-%m-%d}, peak "
                                      f"{g['peak_day_complaints']} in a day"),
                         ("template excerpt", g["template_excerpt"])):
                t.add_row(k, str(v))
            console.print(t)
        nm = decided.filter(pl.col("route") == "identity_team").sort("ts")
        if nm.height:
            c = nm.row(0, named=True)
            locks = IdentityLocks(out / "fengkong.db.fraud.sqlite", lists=store.lists)
            r = open_not_me(store, locks, events, loan_ids=[c["loan_id"]], customer_id=c["customer_id"],
                            ref=c["event_id"], at=c["ts"])
            app = r["applications"][0] if r["applications"] else {"differs_from_history": {}}
            console.print(f"'Not me' complaint {c['event_id']}: case {r['case_id']} opened in queue identity; "
                          f"loans frozen {r['loans']}; identity locked {r['identity_locked']}; "
                          f"risky elements {len(r['risky_elements'])}; credit dispute deadline "
                          f"{r['credit_dispute_deadline']}")
            diff = {k: v for k, v in app["differs_from_history"].items() if v not in (None, False)}
            console.print(f"  differs from the person's history: {diff}")
            res = resolve_not_me(store, locks, r["case_id"], "demo-reviewer", confirmed=True,
                                 note="application device and phone never seen with this identity")
            console.print(f"  resolved: confirmed theft, {len(res['loans_written_off'])} loan(s) written off to "
                          f"{res['loss_category']}, credit-report correction due {res['credit_report_correction']['deadline']}; "
                          f"admin log verified: {store.admin.verify().ok}")
    finally:
        store.close()
    aud = audit_contacts(events, registry_from_frame(pl.read_parquet(world / "collectors.parquet")))
    rep = violation_report(aud)
    t = Table(title=f"Contact-policy violations by agency and collector ({int(aud['violation'].sum())} of "
                    f"{aud.height} contacts)")
    for col in ("agency", "collector", "contacts", "violations", "rate", "rules broken"):
        t.add_column(col)
    for r2 in rep.head(8).iter_rows(named=True):
        t.add_row(r2["agency_id"], r2["collector_id"], str(r2["contacts"]), str(r2["violations"]),
                  f"{r2['violation_rate']:.1%}", r2["rules_broken"] or "")
    console.print(t)
