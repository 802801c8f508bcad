"""Offline complaint groups: decide every complaint with the reference strategy, then gather the groups.

:func:`decide_complaints` runs the reference complaint strategy over point-in-time features (the provider's
backfill, vectorised evaluation: the offline twin of the engine). :func:`complaint_groups` collects groups
(complaints linked by near-duplicate text or a shared representative, with hindsight) with members, shared
elements, a template excerpt, a timeline and a group score; a group is organised when it spans at least
three customers and at least half of its members were routed to the organised team. :func:`open_cases`
turns organised groups into cases of the one case store (queue ``complaints``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

#: Smallest number of distinct customers of an organised group.
MIN_GROUP_CUSTOMERS = 3
#: Share of a group's members routed to the organised team for the whole group to count as organised.
MIN_ORGANISED_SHARE = 0.5
_LONG_DIGITS = re.compile(r"\d{6,}")


def decide_complaints(events: pl.DataFrame, strategy_path: str | Path | None = None) -> pl.DataFrame:
    """One row per complaint: event columns + ``route``, ``complaint_agent_score``, ``group``, reason codes."""
    from fengkong.complaints.provider import STRATEGY, backfill
    from fengkong.features import load_features
    from fengkong.features.providers import combined_kinds
    from fengkong.strategy.backtest import prepare_frame
    from fengkong.strategy.compiled import load_strategy

    s = load_strategy(strategy_path or STRATEGY, features=combined_kinds(load_features().kinds))
    comp = events.filter(pl.col("event_type") == "complaint")
    feats = backfill(events, None)
    if comp.height == 0:
        return comp.select("event_id").with_columns(pl.lit(None, pl.Utf8).alias("route"))
    dec = s.evaluate_frame(prepare_frame(comp, s, features=feats))
    out = dec.select("event_id", "reason_codes", pl.col("out.route").alias("route"),
                     pl.col("out.complaint_agent_score").alias("complaint_agent_score"),
                     pl.col("out.complaint_group").alias("group_online"))
    return comp.join(out, on="event_id", how="left").join(feats, on="event_id", how="left")


def _links(decided: pl.DataFrame) -> dict[str, str]:
    """Hindsight groups: event_id → group id (earliest member), over text and representative links."""
    from fengkong.complaints.state import ComplaintState

    st = ComplaintState()
    keep = ["event_id", "event_type", "ts", "customer_id", "loan_id", "text", "rep_phone_token", "rep_name_token",
            "doc_issuer_id", "demands"]
    key_of: dict[str, int] = {}
    for ev in decided.sort("ts", "event_id").select(keep).iter_rows(named=True):
        st.read_update(ev)
        key_of[ev["event_id"]] = st.text._next - 1
    return {e: st.label[st._find(k)] for e, k in key_of.items()}


def complaint_groups(decided: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(groups, members): groups with evidence; members = decided complaints + ``group`` + ``organised``."""
    g = _links(decided)
    m = decided.with_columns(pl.col("event_id").replace_strict(g, default=None).alias("group"),
                             (pl.col("route") == "organised_team").alias("_org"))
    agg = m.group_by("group").agg(
        pl.len().alias("complaints"), pl.col("customer_id").n_unique().alias("customers"),
        pl.col("_org").mean().alias("organised_share"), pl.col("complaint_agent_score").max().alias("max_score"),
        pl.col("complaint_agent_score").mean().alias("mean_score"), pl.col("ts").min().alias("first"),
        pl.col("ts").max().alias("last"), pl.col("event_id").sort().alias("members"),
        pl.col("customer_id").unique().sort().alias("customer_ids"),
        pl.col("rep_phone_token").drop_nulls().unique().sort().alias("rep_phones"),
        pl.col("rep_name_token").drop_nulls().unique().sort().alias("rep_names"),
        pl.col("doc_issuer_id").drop_nulls().unique().sort().alias("issuers"),
        pl.col("demands").list.sort().list.join("+").mode().first().alias("demand_set"),
        pl.col("channel").mode().first().alias("main_channel"),
        pl.col("text").first().alias("_text"),
        pl.col("loan_id").drop_nulls().unique().sort().alias("loans"),
        (pl.col("ts").dt.date().value_counts(sort=True).first().struct.field("count")).alias("peak_day_complaints"),
    ).with_columns(
        ((pl.col("customers") >= MIN_GROUP_CUSTOMERS) & (pl.col("organised_share") >= MIN_ORGANISED_SHARE))
        .alias("organised"),
        # group score: the members' mean agent score, discounted for small groups
        (pl.col("mean_score") * (1 - 1 / pl.col("customers").cast(pl.Float64))).round(4).alias("group_score"),
        pl.col("_text").map_elements(lambda t: _LONG_DIGITS.sub("***", t or "")[:80], return_dtype=pl.Utf8)
        .alias("template_excerpt"),
    ).drop("_text").sort(["organised", "customers", "group"], descending=[True, True, False])
    org = set(agg.filter(pl.col("organised"))["group"].to_list())
    m = m.with_columns((pl.col("group").is_in(list(org)) & (pl.col("route") != "identity_team")).alias("organised"))
    return agg, m.drop("_org")


def open_cases(store: Any, groups: pl.DataFrame, limit: int | None = None) -> list[int]:
    """Open (idempotently) one ``complaints`` case per organised group; returns the case ids."""
    ids = []
    for r in groups.filter(pl.col("organised")).head(limit if limit is not None else groups.height).iter_rows(
            named=True):
        evidence = {
            "members": r["members"][:200], "complaints": r["complaints"], "customers": r["customers"],
            "shared": {"rep_phone_tokens": r["rep_phones"][:20], "rep_name_tokens": r["rep_names"][:20],
                       "document_issuers": r["issuers"][:20], "demand_set": r["demand_set"]},
            "template_excerpt": r["template_excerpt"], "main_channel": r["main_channel"],
            "timeline": {"first": r["first"].isoformat(), "last": r["last"].isoformat(),
                         "peak_day_complaints": r["peak_day_complaints"]},
            "organised_share": round(r["organised_share"], 3), "loans": r["loans"][:200],
        }
        cid, _ = store.cases.open(source="complaints", ref=f"group:{r['group']}", queue="complaints",
                             kind="organised_complaint_group",
                             title=f"Organised complaint group {r['group']}: {r['customers']} customers",
                             evidence=evidence, customer_id=None, priority=min(900, 100 + 10 * r["customers"]),
                             amount_fen=0, score=r["group_score"])
        ids.append(cid)
    return ids
