"""demo_story: backtest months 1–2, replay month 3 online, and report caught patterns."""

from __future__ import annotations

import io

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
    assert on["audit_ok"] and on["versions"] == ["application_reference@1.0", "purchase_reference@1.0"]
    assert on["caught"] and all(0 <= r["caught"] <= r["events"] for r in on["caught"])
    assert out["backtest"]["events"] > 0
    st = open_store(db)
    assert st.decisions.count() == on["decisions"] and st.decisions.verify().ok
    st.close()
