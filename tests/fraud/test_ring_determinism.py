"""Issue 17: the same world must give the same rings, whatever the row order Polars' parallel operators produce."""

from __future__ import annotations

import polars as pl

from fengkong.events.files import read_world
from fengkong.fraud.community import communities
from fengkong.fraud.rings import build_graph
from fengkong.simulate import SimConfig, simulate_world


def test_communities_do_not_depend_on_the_order_of_the_links(tmp_path):
    simulate_world(tmp_path, SimConfig(customers=3000, months=3, seed=77))
    links = build_graph(read_world(tmp_path)).links
    base = communities(links)
    assert base.height > 20
    for seed in (1, 2, 3):
        shuffled = links.sample(fraction=1.0, shuffle=True, seed=seed)
        assert communities(shuffled).equals(base), seed
    assert isinstance(base, pl.DataFrame)
