"""The contact-policy violation report: a recorded contact log checked against the policy, by collector and agency.

:func:`audit_contacts` replays the log (with the complaints and repayments that set the stops) through the
policy in ``audit`` mode — every recorded contact happened, so every one counts — and returns one row per
contact with the reason codes it broke. :func:`violation_report` aggregates by agency and collector.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from fengkong.collections.policy import Registry
from fengkong.collections.provider import CollectionFeatures, replay


def registry_from_frame(collectors: pl.DataFrame) -> Registry:
    """Registered numbers per collector and the listed agencies, from a ``collectors.parquet``-style frame."""
    r = Registry(agencies=set())
    for c, a, tok in collectors.select("collector_id", "agency_id", "caller_number_token").iter_rows():
        r.register(c, [tok], a)
    return r


def audit_contacts(events: pl.DataFrame, registry: Registry | None, frozen: Any = ()) -> pl.DataFrame:
    """One row per contact: event columns + ``breaches`` (list of reason codes) + ``violation`` (bool)."""
    feats = CollectionFeatures(registry, frozen=frozen, mode="audit")
    f = replay(events, feats).select("event_id", pl.col("cc_breaches").alias("breaches"))
    cc = events.filter(pl.col("event_type") == "collection_contact").select(
        "event_id", "ts", "customer_id", "loan_id", "channel", "target", "collector_id", "agency_id")
    return cc.join(f, on="event_id", how="left").with_columns(
        (pl.col("breaches").list.len() > 0).alias("violation"))


def violation_report(audited: pl.DataFrame) -> pl.DataFrame:
    """Contacts, violations and the breached rules per agency (``in_house`` for the lender's team) and collector."""
    a = audited.with_columns(pl.col("agency_id").fill_null("in_house"))
    codes = a.filter(pl.col("violation")).explode("breaches").group_by("agency_id", "collector_id", "breaches").len()
    top = codes.sort("len", descending=True).group_by("agency_id", "collector_id").agg(
        pl.format("{}×{}", pl.col("breaches"), pl.col("len")).head(4).str.join(", ").alias("rules_broken"))
    return a.group_by("agency_id", "collector_id").agg(
        pl.len().alias("contacts"), pl.col("violation").sum().alias("violations"),
        pl.col("loan_id").filter(pl.col("violation")).n_unique().alias("loans_affected"),
    ).with_columns((pl.col("violations") / pl.col("contacts")).round(4).alias("violation_rate")).join(
        top, on=["agency_id", "collector_id"], how="left").sort(
        ["violations", "agency_id", "collector_id"], descending=[True, False, False])
