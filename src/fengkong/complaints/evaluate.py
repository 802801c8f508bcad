"""``fengkong evaluate`` for the complaints pack: organised-complaint detection and routing on a world.

Decisions use only the event files (the reference complaint strategy over the provider's point-in-time
features, then hindsight groups); ``labels.parquet`` is read afterwards, to measure: recall and precision
of organised complaints at arrival (online) and after grouping (offline), the share of genuine complaints
(all, with a representative, with a hospital certificate) routed to the organised team, and "not me"
complaints routed to the identity team.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from fengkong.errors import InputError


class EvaluationError(InputError, ValueError):
    """The world directory cannot be evaluated; the message names the file."""


def _pr(pred: pl.Series, truth: pl.Series) -> dict[str, Any]:
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    return {"recall": tp / (tp + fn) if tp + fn else None, "precision": tp / (tp + fp) if tp + fp else None,
            "tp": tp, "fp": fp, "fn": fn}


def _share(frame: pl.DataFrame, col: str) -> dict[str, Any]:
    n = frame.height
    k = int(frame[col].sum()) if n else 0
    return {"n": n, "routed_organised": k, "share": k / n if n else None}


def measure(decided: pl.DataFrame, members: pl.DataFrame, labels: pl.DataFrame) -> dict[str, Any]:
    lab = labels.filter(pl.col("entity_type") == "complaint").select(
        pl.col("entity_id").alias("event_id"), pl.col("pattern").alias("_pattern"))
    m = members.join(lab, on="event_id", how="left")
    truth = m["_pattern"] == "organised_complaint"
    truth = truth.fill_null(False)
    online = (m["route"] == "organised_team").fill_null(False)
    offline = m["organised"].fill_null(False)
    gen = m.filter(pl.col("_pattern").is_null()).with_columns(
        (pl.col("organised") | (pl.col("route") == "organised_team")).fill_null(False).alias("_to_org"))
    nm = m.filter(pl.col("_pattern") == "identity_theft")
    return {"organised_complaint": {
        "complaints": m.height, "organised": int(truth.sum()),
        "online": _pr(online, truth), "offline": _pr(offline, truth),
        "genuine": _share(gen, "_to_org"),
        "genuine_with_representative": _share(gen.filter(pl.col("rep_phone_token").is_not_null()
                                                         | pl.col("rep_name_token").is_not_null()), "_to_org"),
        "genuine_with_hospital_certificate": _share(
            gen.filter(pl.col("documents").list.contains("hospital_certificate")), "_to_org"),
        "not_me_to_identity_team": {"n": nm.height, "routed": int((nm["route"] == "identity_team").sum())},
        "groups_organised": int(members.filter(pl.col("organised"))["group"].n_unique()),
    }}


def evaluate_world(world: str | Path) -> dict[str, Any]:
    from fengkong.complaints.groups import complaint_groups, decide_complaints
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world

    w = Path(world)
    if not (w / "complaint.parquet").exists():
        raise EvaluationError(f"{w}: no complaint.parquet (not a simulated world?)")
    if not (w / "labels.parquet").exists():
        raise EvaluationError(f"{w}: no labels.parquet")
    try:
        events = read_world(w)
    except EventValidationError as exc:
        raise EvaluationError(f"{w}: {exc}") from None
    decided = decide_complaints(events)
    _, members = complaint_groups(decided)
    return measure(decided, members, pl.read_parquet(w / "labels.parquet"))


def _f(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}"


def render_table(result: dict[str, Any]) -> str:
    r = result["organised_complaint"]
    lines = [f"organised complaints: {r['organised']} of {r['complaints']} complaints, "
             f"{r['groups_organised']} organised groups",
             f"  {'':10} {'recall':>7} {'precision':>9} {'tp':>6} {'fp':>5} {'fn':>5}"]
    for k in ("online", "offline"):
        x = r[k]
        lines.append(f"  {k:10} {_f(x['recall']):>7} {_f(x['precision']):>9} {x['tp']:>6} {x['fp']:>5} {x['fn']:>5}")
    for k in ("genuine", "genuine_with_representative", "genuine_with_hospital_certificate"):
        x = r[k]
        lines.append(f"  {k} routed to the organised team: {x['routed_organised']} of {x['n']} ({_f(x['share'])})")
    nm = r["not_me_to_identity_team"]
    lines.append(f"  'not me' complaints routed to the identity team: {nm['routed']} of {nm['n']}")
    return "\n".join(lines)
