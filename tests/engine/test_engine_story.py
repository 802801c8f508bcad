"""demo_story: backtest months 1–2, replay month 3 online, and report caught patterns."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import yaml
from rich.console import Console


def test_demo_story_runs_end_to_end(tmp_path):
    from fengkong.engine import demo_story
    from fengkong.simulate import SimConfig, simulate_world
    from fengkong.store import open_store

    world = tmp_path / "world"
    simulate_world(world, SimConfig(customers=500, months=3, seed=9))
    buf = io.StringIO()
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    out = demo_story(world, db, Console(file=buf, width=160))
    text = buf.getvalue()
    assert "Planted patterns caught" in text and "Backtest of application_reference" in text
    on = out["online"]
    assert on["decisions"] > on["applications"] > 0 and 0 < on["approval_rate"] < 1
    shipped = Path(__file__).parents[2] / "src" / "fengkong" / "strategies"
    want = sorted(f"{d['name']}@{d['version']}" for d in (yaml.safe_load((shipped / f).read_text())
                                                          for f in ("application.yaml", "purchase.yaml")))
    assert on["audit_ok"] and on["versions"] == want
    assert on["caught"] and all(0 <= r["caught"] <= r["events"] for r in on["caught"])
    assert out["backtest"]["events"] > 0
    st = open_store(db)
    assert st.decisions.count() == on["decisions"] and st.decisions.verify().ok
    approved = {r["request_id"] for r in st.decisions.rows()
                if r["event_type"] == "application" and r["outcome"] == "approve"}
    st.close()
    # the bad rate of approved month-3 applications counts only outcomes the world has observed
    from fengkong.strategy.backtest import load_labels

    labels = load_labels(world / "outcomes.parquet")
    observed = labels.filter(pl.col("event_id").is_in(sorted(approved)) & pl.col("bad").is_not_null())
    assert on["approved"] == len(approved) and on["approved_observed"] == observed.height
    line = next(x for x in text.splitlines() if "decisions recorded" in x)
    if observed.height == 0:
        assert on["bad_rate_approved"] is None
        assert "outcomes not yet observable" in line and "%" not in line.split("approval rate")[1].split(";")[1]
    else:
        assert on["bad_rate_approved"] == observed["bad"].cast(pl.Float64).mean()
        assert f"over the {observed.height} of {len(approved)} approved applications" in line
