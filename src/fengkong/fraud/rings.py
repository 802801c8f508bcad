"""Ring detection and the ring report: members, shared elements, timeline, outcomes so far, and a ring score.

A ring is a graph community of applicants whose behaviour matches DOMAIN.md §4.2: many members share
devices, phones, contacts or an intermediary code, apply in a burst, carry packaged documents, thin files
and stated incomes out of line with their records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from fengkong.events import pii
from fengkong.fraud.community import communities
from fengkong.fraud.links import DEFAULT_DPD, KIND_NAMES
from fengkong.fraud.offline import build_graph

#: How much each piece of ring evidence weighs in the ring score (shares of members, 0–1 each).
EVIDENCE_WEIGHTS: dict[str, float] = {
    "shared_device": 0.25,   # member applied from a device another member used
    "shared_agent": 0.20,    # member came with an intermediary code another member carried
    "shared_contact": 0.10,  # member listed a contact another member listed, or another member's own phone
    "burst": 0.15,           # first application within 14 days of the ring's median first application
    "packaged_docs": 0.15,   # statement with edit traces, or back-paid housing fund
    "thin_file": 0.10,       # thin credit file
    "fast_transfer_out": 0.05,  # any transfer out to a private individual within 3 days of a disbursement
}
BURST_DAYS = 14


@dataclass
class Ring:
    """One detected ring (members are the lender's customer ids, never identity data)."""

    ring_id: str
    score: float
    members: list[str]
    evidence: dict[str, float]
    shared_elements: list[dict[str, Any]] = field(default_factory=list)
    timeline: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ring_id": self.ring_id, "score": round(self.score, 4), "size": len(self.members),
                "members": self.members, "evidence": {k: round(v, 3) for k, v in self.evidence.items()},
                "shared_elements": self.shared_elements, "timeline": self.timeline, "outcomes": self.outcomes}


def _member_evidence(events: pl.DataFrame, links: pl.DataFrame, comm: pl.DataFrame) -> pl.DataFrame:
    """Per member: which evidence flags hold (0/1)."""
    m = comm.with_columns(pl.col("app").str.slice(2).alias("customer_id"))
    ml = links.join(m, on="app")
    shared = (ml.group_by("community", "elem", "kind").agg(pl.col("app").n_unique().alias("k"))
              .filter(pl.col("k") >= 2))
    per = ml.join(shared.select("community", "elem"), on=["community", "elem"])
    flags = per.group_by("app").agg(*[(pl.col("kind") == k).any().cast(pl.Float64).alias(name)
                                      for name, k in (("shared_device", "dv"), ("shared_agent", "ag"))])
    # shared contact: a listed contact ("ct") another member also listed, or a listed contact that is
    # another member's own phone ("ph"); both are phone tokens, compared by value
    ph = ml.filter(pl.col("kind").is_in(["ct", "ph"])).select(
        "community", "app", "kind", pl.col("elem").str.split_exact(":", 1).struct.field("field_1").alias("v"))
    ct = ph.filter(pl.col("kind") == "ct")
    both_ct = (ct.join(ct, on=["community", "v"], suffix="_o").filter(pl.col("app") != pl.col("app_o"))
               .select("app"))
    ct_is_ph = (ct.join(ph.filter(pl.col("kind") == "ph"), on=["community", "v"], suffix="_o")
                .filter(pl.col("app") != pl.col("app_o")))
    sc = pl.concat([both_ct, ct_is_ph.select("app"), ct_is_ph.select(pl.col("app_o").alias("app"))]).unique()
    flags = (m.select("app").join(flags, on="app", how="left")
             .join(sc.with_columns(pl.lit(1.0).alias("shared_contact")), on="app", how="left"))
    apps = events.filter(pl.col("event_type") == "application").join(
        m.select("customer_id", "community", "app"), on="customer_id")
    a = apps.group_by("app", "community").agg(
        pl.col("ts").min().alias("first_app"),
        ((pl.col("doc_statement_edited").fill_null(False))
         | (pl.col("housing_fund_backpaid_months").fill_null(0) >= 3)).any().cast(pl.Float64).alias("packaged_docs"),
        pl.col("bureau_thin_file").fill_null(False).any().cast(pl.Float64).alias("thin_file"))
    a = a.with_columns(((pl.col("first_app") - pl.col("first_app").median().over("community")).abs()
                        <= pl.duration(days=BURST_DAYS)).cast(pl.Float64).alias("burst"))
    disb = events.filter(pl.col("event_type") == "disbursement").select("customer_id", pl.col("ts").alias("dts"))
    outs = events.filter((pl.col("event_type") == "transfer") & (pl.col("direction") == "out")
                         & (pl.col("counterparty_type") == "individual")).select("customer_id", "ts")
    fast = (disb.join(outs, on="customer_id").filter((pl.col("ts") >= pl.col("dts"))
                                                      & (pl.col("ts") <= pl.col("dts") + pl.duration(days=3)))
            .select(("c:" + pl.col("customer_id")).alias("app")).unique().with_columns(
                pl.lit(1.0).alias("fast_transfer_out")))
    out = (m.select("community", "app").join(flags, on="app", how="left")
           .join(a.drop("community"), on="app", how="left").join(fast, on="app", how="left"))
    return out.with_columns(pl.col(list(EVIDENCE_WEIGHTS)).fill_null(0.0))


def ring_scores(events: pl.DataFrame, links: pl.DataFrame, comm: pl.DataFrame) -> pl.DataFrame:
    """Per community: member count, evidence shares and the ring score (0–1)."""
    ev = _member_evidence(events, links, comm)
    score = sum(pl.col(k) * w for k, w in EVIDENCE_WEIGHTS.items())
    per = ev.group_by("community").agg(pl.len().alias("size"), *[pl.col(k).mean() for k in EVIDENCE_WEIGHTS],
                                       pl.col("first_app").min().alias("first_app"))
    return per.with_columns(score.alias("score")).sort("score", "size", descending=True)


def detect_rings(events: pl.DataFrame, min_score: float = 0.5, min_applicants: int = 3,
                 caps: dict[str, int] | None = None, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rings, members): ring table sorted by score, and one row per (ring_id, customer_id)."""
    gf = build_graph(events, caps=caps)
    comm = communities(gf.links, min_applicants=min_applicants, seed=seed)
    if comm.height == 0:
        return (pl.DataFrame(schema={"ring_id": pl.Utf8, "community": pl.Int64, "size": pl.UInt32,
                                     "score": pl.Float64}),
                pl.DataFrame(schema={"ring_id": pl.Utf8, "customer_id": pl.Utf8, "community": pl.Int64}))
    scores = ring_scores(events, gf.links, comm).filter(pl.col("score") >= min_score)
    scores = scores.sort("first_app", "community").with_columns(
        pl.format("R{}", pl.int_range(1, pl.len() + 1).cast(pl.Utf8).str.zfill(4)).alias("ring_id"))
    members = comm.join(scores.select("community", "ring_id"), on="community").select(
        "ring_id", pl.col("app").str.slice(2).alias("customer_id"), "community")
    return scores.sort("score", "size", descending=True), members.sort("ring_id", "customer_id")


def ring_report(events: pl.DataFrame, rings: pl.DataFrame, members: pl.DataFrame,
                ring_id: str | None = None, top: int = 5) -> list[Ring]:
    """Reports for ``ring_id`` or the ``top`` rings by score: shared elements masked, timeline, outcomes."""
    chosen = rings.filter(pl.col("ring_id") == ring_id) if ring_id else rings.head(top)
    if chosen.height == 0:
        return []
    gf_links = build_graph(events.filter(pl.col("customer_id").is_in(
        members.filter(pl.col("ring_id").is_in(chosen["ring_id"].implode()))["customer_id"].implode()))).links
    out = []
    for row in chosen.iter_rows(named=True):
        mem = members.filter(pl.col("ring_id") == row["ring_id"])["customer_id"].to_list()
        ev = events.filter(pl.col("customer_id").is_in(mem))
        lk = gf_links.filter(pl.col("customer_id").is_in(mem))
        shared = (lk.group_by("elem", "kind").agg(pl.col("customer_id").n_unique().alias("members"),
                                                  pl.col("ts").min().alias("first_seen"))
                  .filter(pl.col("members") >= 2).sort("members", "elem", descending=[True, False]))
        shared_list = [{"kind": KIND_NAMES.get(r["kind"], r["kind"]), "element": pii.mask_token(r["elem"].split(":", 1)[1]),
                        "members": r["members"], "first_seen": r["first_seen"].isoformat()}
                       for r in shared.head(20).iter_rows(named=True)]
        apps = ev.filter(pl.col("event_type") == "application")
        by_week = (apps.group_by(pl.col("ts").dt.truncate("1w").alias("week")).len().sort("week"))
        timeline = {
            "first_application": _iso(apps["ts"].min()), "last_application": _iso(apps["ts"].max()),
            "applications": apps.height,
            "applications_by_week": {r[0].date().isoformat(): r[1] for r in by_week.iter_rows()},
        }
        disb = ev.filter(pl.col("event_type") == "disbursement")
        rep = ev.filter(pl.col("event_type") == "repayment")
        worst = rep.group_by("customer_id").agg(pl.col("dpd").max())
        outcomes = {
            "loans": disb.height, "disbursed_fen": int(disb["amount_fen"].sum() or 0),
            "members_with_loans": disb["customer_id"].n_unique(),
            "members_defaulted": int((worst["dpd"] >= DEFAULT_DPD).sum()),
            "worst_dpd": int(worst["dpd"].max() or 0) if worst.height else 0,
            "not_me_complaints": int(ev.filter((pl.col("event_type") == "complaint")
                                               & pl.col("claims_not_me").fill_null(False)).height),
        }
        out.append(Ring(row["ring_id"], float(row["score"]), mem,
                        {k: float(row[k]) for k in EVIDENCE_WEIGHTS}, shared_list, timeline, outcomes))
    return out


def _iso(v: dt.datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


#: List names the ring batch publishes to (the store's block/allow/watch lists).
RING_MEMBER_LIST = "fraud_ring_members"
RING_ELEMENT_LIST = "fraud_ring_elements"


def publish_rings(lists: Any, events: pl.DataFrame, rings: pl.DataFrame, members: pl.DataFrame,
                  min_share: float = 0.5) -> dict[str, int]:
    """Feed detected rings back to the online path through the store's lists.

    Members go on ``fraud_ring_members`` (watch: review their next applications); elements used by at
    least ``min_share`` of a ring's members (the intermediary's devices, codes, receiving accounts) go on
    ``fraud_ring_elements`` as graph node keys (block). ``lists`` is a :class:`fengkong.store.lists.Lists`.
    Already-listed values are not added twice.
    """
    have = {(e.list_name, e.value) for e in lists.entries()}
    added = {"members": 0, "elements": 0}
    if rings.height == 0:
        return added
    links = build_graph(events.filter(pl.col("customer_id").is_in(members["customer_id"].implode()))).links
    m = members.join(rings.select("ring_id", "score", "size"), on="ring_id")
    for r in m.iter_rows(named=True):
        if (RING_MEMBER_LIST, r["customer_id"]) not in have:
            lists.add(RING_MEMBER_LIST, r["customer_id"], kind="watch", reason=f"ring {r['ring_id']} "
                      f"score {r['score']:.2f}", source="fengkong.fraud.rings")
            have.add((RING_MEMBER_LIST, r["customer_id"]))
            added["members"] += 1
    shared = (links.join(m.select("customer_id", "ring_id", "size"), on="customer_id")
              .filter(~pl.col("kind").is_in(["ip", "em", "ct"]))
              .group_by("ring_id", "elem", "size").agg(pl.col("customer_id").n_unique().alias("k"))
              .filter(pl.col("k") >= pl.col("size") * min_share).filter(pl.col("k") >= 2))
    for r in shared.sort("ring_id", "elem").iter_rows(named=True):
        if (RING_ELEMENT_LIST, r["elem"]) not in have:
            lists.add(RING_ELEMENT_LIST, r["elem"], kind="block", reason=f"shared by {r['k']} members of ring "
                      f"{r['ring_id']}", source="fengkong.fraud.rings")
            have.add((RING_ELEMENT_LIST, r["elem"]))
            added["elements"] += 1
    return added


def load_lists(graph: Any, snapshot: dict[str, frozenset[str]]) -> None:
    """Apply list snapshots to an :class:`~fengkong.fraud.graph.AssociationGraph`: ring members count as
    blacklisted members of their cluster, ring elements as risky elements."""
    for cid in snapshot.get(RING_MEMBER_LIST, frozenset()):
        graph.flag("c:" + cid, "blacklisted")
    for node in snapshot.get(RING_ELEMENT_LIST, frozenset()):
        graph.flag(node, "risky")
