"""Offline community detection on the association graph (igraph + Leiden) to find candidate rings.

Leaves (elements seen with one applicant only) carry no association and are dropped first; hubs above
``max_element_applicants`` are dropped too. Leiden then splits the remaining components into
communities; a community with at least ``min_applicants`` applicants is a ring candidate.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Edge weight per element kind in the ring-detection graph: what a shared element says about two people.
KIND_WEIGHT: dict[str, float] = {"id": 1.0, "ph": 1.0, "dv": 1.0, "cd": 1.0, "ag": 1.0, "cp": 1.0,
                                 "em": 0.6, "ip": 0.3}


def ring_edges(links: pl.DataFrame, max_element_applicants: int = 60) -> pl.DataFrame:
    """Applicant–element edges that can tie applicants together (shared by 2..max applicants)."""
    share = links.group_by("elem").agg(pl.col("app").n_unique().alias("n_apps"))
    keep = share.filter((pl.col("n_apps") >= 2) & (pl.col("n_apps") <= max_element_applicants))
    return (links.join(keep, on="elem").unique(["app", "elem"])
            .with_columns(pl.col("kind").replace_strict(KIND_WEIGHT, default=0.5, return_dtype=pl.Float64)
                          .alias("weight")))


#: CPM resolution: a community must be denser than this (edge weight per node pair). CPM has no resolution
#: limit, so a ring of ten stays a ring of ten inside a graph of millions (modularity would merge it).
RESOLUTION = 0.05


def leiden_labels(src: np.ndarray, dst: np.ndarray, n: int, weights: np.ndarray | None = None,
                  resolution: float = RESOLUTION, seed: int = 0) -> np.ndarray:
    """Leiden (CPM objective) community label of each of ``n`` nodes of an undirected edge list."""
    import random

    import igraph as ig

    g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist(), strict=True)), directed=False)
    random.seed(seed)  # igraph draws from Python's random module
    part = g.community_leiden(objective_function="CPM", weights=None if weights is None else weights.tolist(),
                              resolution=resolution, n_iterations=2)
    return np.asarray(part.membership, dtype=np.int64)


def communities(links: pl.DataFrame, min_applicants: int = 3, max_element_applicants: int = 60,
                resolution: float = RESOLUTION, seed: int = 0) -> pl.DataFrame:
    """Candidate rings: one row per (community, applicant key) for communities of >= ``min_applicants``."""
    e = ring_edges(links, max_element_applicants)
    if e.height == 0:
        return pl.DataFrame(schema={"community": pl.Int64, "app": pl.Utf8})
    # node ids and edge order fixed by sorting: Leiden's result depends on both, and Polars' parallel joins and
    # group-bys do not keep an order, so without this the same world gave different rings run to run
    keys = (pl.concat([e.select(pl.col("app").alias("key")), e.select(pl.col("elem").alias("key"))]).unique()
            .sort("key").with_row_index("i"))
    ee = (e.join(keys.rename({"key": "app", "i": "s"}), on="app").join(keys.rename({"key": "elem", "i": "d"}), on="elem")
          .sort("s", "d"))
    labels = leiden_labels(ee["s"].to_numpy().astype(np.int64), ee["d"].to_numpy().astype(np.int64), keys.height,
                           ee["weight"].to_numpy(), resolution, seed)
    lab = keys.with_columns(pl.Series("community", labels))
    members = lab.filter(pl.col("key").str.starts_with("c:")).rename({"key": "app"}).select("community", "app")
    big = members.group_by("community").len().filter(pl.col("len") >= min_applicants)
    return members.join(big.select("community"), on="community").sort("community", "app")
