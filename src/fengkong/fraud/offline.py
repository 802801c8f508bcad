"""Vectorised offline build of the association graph from a world frame (``fengkong.events.files.read_world``).

Produces the same clusters and statistics as replaying the events through
:class:`fengkong.fraud.graph.AssociationGraph`, with Polars and SciPy instead of a loop over events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from fengkong.fraud.graph import WINDOW_DAYS, day_of
from fengkong.fraud.links import DEFAULT_DPD, FIELDS_BY_TYPE, with_caps


@dataclass
class GraphFrames:
    """The offline graph: link rows, nodes with their cluster, and per-cluster statistics."""

    links: pl.DataFrame  # ts, event_id, customer_id, app, elem, kind, joined (first link of the pair only)
    nodes: pl.DataFrame  # key, node, is_applicant, kind, component, degree, distinct
    clusters: pl.DataFrame  # component, applicants, elements, apps_7d, defaulted


def link_rows(events: pl.DataFrame) -> pl.DataFrame:
    """One row per (event, element) link, in the order the online graph applies them."""
    parts = []
    for et, fields in FIELDS_BY_TYPE.items():
        sub = events.filter(pl.col("event_type") == et)
        if et == "transfer":
            sub = sub.filter((pl.col("direction") == "out") & (pl.col("counterparty_type") == "individual"))
        sub = sub.filter(pl.col("customer_id").is_not_null() & (pl.col("customer_id") != ""))
        for pos, lf in enumerate(fields):
            col = pl.col(lf.field)
            base = sub.select("ts", "event_id", "customer_id", col.alias("value"))
            if isinstance(events.schema[lf.field], pl.List):
                base = base.with_columns(pl.col("value").list.eval(pl.element().filter(
                    pl.element().is_not_null() & (pl.element() != "")))).with_columns(
                    pl.int_ranges(0, pl.col("value").list.len()).alias("sub")).explode("value", "sub")
            else:
                base = base.with_columns(pl.lit(0, dtype=pl.Int64).alias("sub"))
            parts.append(base.filter(pl.col("value").is_not_null() & (pl.col("value") != "")).select(
                "ts", "event_id", "customer_id",
                ("c:" + pl.col("customer_id")).alias("app"),
                (pl.lit(lf.kind + ":") + pl.col("value")).alias("elem"),
                pl.lit(lf.kind).alias("kind"), pl.lit(pos).alias("pos"), pl.col("sub").cast(pl.Int64)))
    if not parts:
        return pl.DataFrame(schema={"ts": events.schema["ts"], "event_id": pl.Utf8, "customer_id": pl.Utf8,
                                    "app": pl.Utf8, "elem": pl.Utf8, "kind": pl.Utf8})
    # the online graph ignores a re-delivered event_id: keep the first delivery only
    firsts = events.select("event_id").with_row_index("_first").unique("event_id", keep="first")
    out = pl.concat(parts).join(firsts, on="event_id").sort(["ts", "event_id", "pos", "sub"])
    return out.drop("pos", "sub", "_first")


def build_graph(events: pl.DataFrame, as_of: dt.datetime | None = None,
                caps: dict[str, int] | None = None) -> GraphFrames:
    """Build clusters and statistics of the whole event frame; ``apps_7d`` is counted at ``as_of``.

    ``as_of`` defaults to the last event's timestamp.
    """
    cap = with_caps(caps)
    events = events.unique("event_id", keep="first", maintain_order=True)
    rows = link_rows(events).with_row_index("order")
    first = rows.group_by("app", "elem").agg(pl.col("order").min(), pl.col("kind").first(),
                                             pl.col("ts").min(), pl.col("customer_id").first())
    first = first.with_columns(pl.col("order").rank("ordinal").over("elem").alias("rank")).with_columns(
        (pl.col("rank") <= pl.col("kind").replace_strict(cap, return_dtype=pl.UInt32)).alias("joined"))
    apps_evt = events.filter((pl.col("event_type") == "application") & pl.col("customer_id").is_not_null()
                             & (pl.col("customer_id") != ""))
    defaulted = (events.filter((pl.col("event_type") == "repayment") & (pl.col("dpd") >= DEFAULT_DPD)
                               & pl.col("customer_id").is_not_null() & (pl.col("customer_id") != ""))
                 .select(("c:" + pl.col("customer_id")).alias("key")).unique())
    app_keys = pl.concat([rows.select(pl.col("app").alias("key")),
                          apps_evt.select(("c:" + pl.col("customer_id")).alias("key")), defaulted])
    elem_keys = rows.select(pl.col("elem").alias("key"), "kind")
    nodes = pl.concat([app_keys.with_columns(pl.lit(None, dtype=pl.Utf8).alias("kind")),
                       elem_keys]).unique("key", keep="first").sort("key").with_row_index("node")
    nodes = nodes.with_columns(pl.col("kind").is_null().alias("is_applicant"))
    node_of = nodes.select("key", "node")
    e = (first.join(node_of.rename({"key": "app", "node": "a"}), on="app")
         .join(node_of.rename({"key": "elem", "node": "b"}), on="elem"))
    joined = e.filter("joined")
    n = nodes.height
    adj = coo_matrix((np.ones(joined.height, dtype=np.int8),
                      (joined["a"].to_numpy().astype(np.int64), joined["b"].to_numpy().astype(np.int64))),
                     shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    deg = pl.concat([rows.select(pl.col("app").alias("key")), rows.select(pl.col("elem").alias("key"))]) \
        .group_by("key").len("degree")
    dist = pl.concat([first.select(pl.col("app").alias("key")), first.select(pl.col("elem").alias("key"))]) \
        .group_by("key").len("distinct")
    nodes = (nodes.with_columns(pl.Series("component", comp, dtype=pl.Int64))
             .join(deg, on="key", how="left").join(dist, on="key", how="left")
             .with_columns(pl.col("degree", "distinct").fill_null(0).cast(pl.Int64)))
    as_of = as_of or events["ts"].max()
    day = day_of(as_of)  # type: ignore[arg-type]
    epoch_day = pl.col("ts").dt.date().cast(pl.Int32)
    recent = (apps_evt.filter((epoch_day > day - WINDOW_DAYS) & (epoch_day <= day) & (pl.col("ts") <= as_of))
              .select(("c:" + pl.col("customer_id")).alias("key"))
              .join(nodes.select("key", "component"), on="key").group_by("component").len("apps_7d"))
    bad = defaulted.join(nodes.select("key", "component"), on="key").group_by("component").len("defaulted")
    clusters = (nodes.group_by("component").agg(pl.col("is_applicant").sum().alias("applicants"),
                                                (~pl.col("is_applicant")).sum().alias("elements"))
                .join(recent, on="component", how="left").join(bad, on="component", how="left")
                .with_columns(pl.col("applicants", "elements", "apps_7d", "defaulted").fill_null(0).cast(pl.Int64))
                .sort("component"))
    links = e.select("ts", "customer_id", "app", "elem", "kind", "joined", "a", "b")
    return GraphFrames(links=links, nodes=nodes, clusters=clusters)
