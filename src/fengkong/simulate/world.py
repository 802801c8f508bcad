"""Build a whole synthetic world and write it: event files, outcomes, ground-truth labels, manifest.

Each step is the module named for the events it owns (:mod:`~fengkong.simulate.application_events`,
``loan_events``, ``purchase_events``, ``transfer_events``, ``complaint_events``, ``outcomes``), run in this
order over one :class:`~fengkong.simulate.state.World`; the planted patterns are drawn inside the step of the
events they show in, from that step's seeded streams.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.events import EVENT_TYPES, pii, schema_of
from fengkong.events.files import write_events
from fengkong.settings import BUSINESS_TZ_NAME
from fengkong.simulate import (
    application_events,
    complaint_events,
    loan_events,
    purchase_events,
    transfer_events,
)
from fengkong.simulate.config import SimConfig
from fengkong.simulate.outcomes import outcomes as world_outcomes
from fengkong.simulate.state import Progress, World, draw_people

PATTERNS = ("identity_theft", "debt_bearing_ring", "multi_head", "loan_to_repay_loan", "cash_out",
            "cash_out_merchant", "fund_misuse", "organised_complaint", "payee_mismatch", "splitting",
            "contact_violation")


def plaintext_identities(config: SimConfig) -> dict[str, list[str]]:
    """Every plaintext identity element the world with this config is built from (never written).

    Keys ``id``, ``name``, ``phone``, ``card``. Regenerated deterministically from the seed so that a
    test can scan every output byte for them.
    """
    config.validate()
    _, people, _ = draw_people(config)
    return {k: list(v) for k, v in people.pii.items()}


def simulate_world(out_dir: str | Path, config: SimConfig | None = None, tokenizer: pii.Tokenizer | None = None,
                   *, progress: Progress | None = None) -> dict[str, Any]:
    """Generate a world and write it to ``out_dir``; return the manifest (also written as manifest.json).

    Files: ``<event_type>.parquet`` for every event type, ``outcomes.parquet``, ``labels.parquet``,
    ``manifest.json``. Same config and same PII key ⇒ byte-identical files.
    """
    cfg = (config or SimConfig()).validate()
    tok = tokenizer if tokenizer is not None else pii.tokenizer()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = ["people", "applications", "customers", "loans", "purchases", "repayments", "transfers",
             "complaints", "write"]
    prog = progress or (lambda step, i, n: None)
    prog("people", 0, len(steps))
    w = World(cfg, tok, progress=None)
    prog("applications", 1, len(steps))
    application_events.applications(w)
    prog("customers", 2, len(steps))
    frames: dict[str, pl.DataFrame] = {"application": w.app_frame, "customer": application_events.customers(w)}
    prog("loans", 3, len(steps))
    frames["disbursement"] = loan_events.loans(w)
    prog("purchases", 4, len(steps))
    frames["purchase"] = purchase_events.purchases(w)
    prog("repayments", 5, len(steps))
    frames["repayment"] = loan_events.repayments(w)
    prog("transfers", 6, len(steps))
    frames["transfer"] = transfer_events.transfers(w)
    prog("complaints", 7, len(steps))
    frames["complaint"] = complaint_events.complaints(w, frames["repayment"], frames["disbursement"])
    frames["collection_contact"] = complaint_events.collection_contacts(w, frames["repayment"], frames["complaint"],
                                                                        frames["disbursement"])
    outcomes = world_outcomes(w, frames["repayment"])
    prog("write", 8, len(steps))
    counts: dict[str, int] = {}
    for et in EVENT_TYPES:
        f = frames[et].select(list(schema_of(et)))
        write_events(f, out / f"{et}.parquet")
        counts[f"{et}.parquet"] = f.height
    labels = pl.concat(w.labels).sort(["pattern", "entity_type", "entity_id"])
    labels.write_parquet(out / "labels.parquet", compression="zstd")
    outcomes.sort("application_id").write_parquet(out / "outcomes.parquet", compression="zstd")
    w.collectors.write_parquet(out / "collectors.parquet", compression="zstd")
    counts["collectors.parquet"] = w.collectors.height
    counts["labels.parquet"] = labels.height
    counts["outcomes.parquet"] = outcomes.height
    lc = labels.group_by(["pattern", "entity_type"]).len().sort(["pattern", "entity_type"])
    label_counts: dict[str, dict[str, int]] = {}
    for p, e, c in lc.iter_rows():
        label_counts.setdefault(p, {})[e] = int(c)
    manifest = {
        "generator": "fengkong.simulate",
        "seed": cfg.seed,
        "parameters": cfg.to_dict(),
        "world": {"start": cfg.start.isoformat(),
                  "end_exclusive": str(np.datetime64(w.end_day, "D")), "timezone": BUSINESS_TZ_NAME},
        "rows": counts,
        "events": int(sum(counts[f"{et}.parquet"] for et in EVENT_TYPES)),
        "labels": label_counts,
        "outcomes": {"bad": int(outcomes["bad"].sum()), "fpd30": int(outcomes["fpd30"].sum()),
                     "observed": int(outcomes["observed"].sum())},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                       encoding="utf-8")
    prog("done", len(steps), len(steps))
    return manifest
