"""The binary-search path of the offline backfill does not depend on the order of its source rows."""

from __future__ import annotations

import random

import polars as pl
import pytest

from fengkong.features import from_dicts, sortedwin


@pytest.mark.parametrize("agg, value", [("count", None), ("distinct", "ip"), ("time_since_first", None),
                                        ("time_since_last", None), ("sum", "amount_fen")])
def test_same_values_whatever_the_source_row_order(agg, value):
    spec = {"name": "x", "key": "customer_id", "agg": agg, "window": "2h", "events": ["application"]}
    if value:
        spec["value"] = value
    f = from_dicts([spec]).features[0]
    rng = random.Random(3)
    n = 400
    t = sorted(rng.randrange(0, 10 * 3_600_000_000) for _ in range(n))
    src = pl.DataFrame({"_k": [rng.randrange(5) for _ in range(n)], "_t": t, "event_id": [f"e{i}" for i in range(n)],
                        "_v": [rng.choice([None, "a", "b", "c"]) if value == "ip" else rng.randrange(100)
                               for _ in range(n)]})
    if value is None:
        src = src.drop("_v")
    elif value == "amount_fen":
        src = src.with_columns(pl.col("_v").cast(pl.Int64))
    q = pl.DataFrame({"_i": list(range(n)), "_k": [rng.randrange(5) for _ in range(n)],
                      "_t": sorted(rng.randrange(0, 10 * 3_600_000_000) for _ in range(n))},
                     schema={"_i": pl.UInt32, "_k": pl.Int64, "_t": pl.Int64})
    frame = sortedwin.Frame(pl.concat([src["_t"], q["_t"]]).to_numpy(), f.window_us or 0)

    def run(s: pl.DataFrame) -> list:
        out = sortedwin.window(s, q, f, {}, frame)
        return out.sort("_i")["x"].to_list()

    assert run(src) == run(src.reverse())
