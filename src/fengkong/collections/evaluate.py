"""``fengkong evaluate`` for the collections pack: the violation report against the planted violations.

The recorded contacts of the world are audited against the contact policy (registered numbers and listed
agencies from ``collectors.parquet``); then ``labels.parquet`` (pattern ``contact_violation``) is read to
measure recall and precision at the contact level, per agency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from fengkong.errors import InputError


class EvaluationError(InputError, ValueError):
    """The world directory cannot be evaluated; the message names the file."""


def evaluate_world(world: str | Path) -> dict[str, Any]:
    from fengkong.collections.report import audit_contacts, registry_from_frame, violation_report
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world

    w = Path(world)
    for f in ("collection_contact.parquet", "collectors.parquet", "labels.parquet"):
        if not (w / f).exists():
            raise EvaluationError(f"{w}: no {f} (not a simulated world with collection contacts?)")
    try:
        events = read_world(w)
    except EventValidationError as exc:
        raise EvaluationError(f"{w}: {exc}") from None
    aud = audit_contacts(events, registry_from_frame(pl.read_parquet(w / "collectors.parquet")))
    lab = pl.read_parquet(w / "labels.parquet").filter(pl.col("pattern") == "contact_violation").select(
        pl.col("entity_id").alias("event_id"), pl.col("detail").alias("planted"))
    m = aud.join(lab, on="event_id", how="left")
    truth = m["planted"].is_not_null()
    pred = m["violation"].fill_null(False)
    tp, fp, fn = int((pred & truth).sum()), int((pred & ~truth).sum()), int((~pred & truth).sum())
    rep = violation_report(aud)
    by_agency = rep.group_by("agency_id").agg(pl.col("contacts").sum(), pl.col("violations").sum()).sort("agency_id")
    from fengkong.collections import ccard

    cure = ccard.evaluate(ccard.training_frame(events), ccard.shipped_node())
    return {"collection_cure_score": cure, "contact_violation": {
        "contacts": m.height, "planted": int(truth.sum()), "found": tp, "false_alarms": fp, "missed": fn,
        "recall": tp / (tp + fn) if tp + fn else None, "precision": tp / (tp + fp) if tp + fp else None,
        "by_agency": by_agency.to_dicts(),
        "missed_kinds": m.filter(truth & ~pred)["planted"].value_counts().to_dicts(),
    }}


def render_table(result: dict[str, Any]) -> str:
    r = result["contact_violation"]

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"
    lines = [f"contact violations: {r['planted']} planted in {r['contacts']} contacts; found {r['found']}, "
             f"missed {r['missed']}, false alarms {r['false_alarms']} (recall {f(r['recall'])}, "
             f"precision {f(r['precision'])})"]
    for a in r["by_agency"]:
        lines.append(f"  {a['agency_id']:10} contacts {a['contacts']:>7}  violations {a['violations']:>6}")
    c = result.get("collection_cure_score")
    if c:
        lines.append(f"collection score (cure within 30 days, shipped C-card): AUC {f(c['auc'])}, KS {f(c['ks'])} "
                     f"on {c['rows']} contacts, cure rate {f(c['cure_rate'])}")
    return "\n".join(lines)
