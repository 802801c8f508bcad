"""Four-eyes deployment (fengkong.deploy): requests, approval by a second deployer, admin log."""

from __future__ import annotations

from pathlib import Path

import pytest

from fengkong.deploy import DeployError, Deployments
from fengkong.store import open_store

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "fengkong" / "strategies"


def _strategy():
    from fengkong.runtime import strategy_kinds
    from fengkong.strategy import load_strategy

    return load_strategy(SHIPPED / "application.yaml", features=strategy_kinds())


def test_champion_needs_a_second_deployer(db_url):
    st = open_store(db_url)
    d = Deployments(st, four_eyes=True)
    s = _strategy()
    sv, created = d.deploy(s, "li")
    assert created
    r = d.activate(sv.name, sv.version, "champion", actor="li")
    assert r.status == "pending" and st.versions.routing(r.route) is None
    with pytest.raises(DeployError, match="four-eyes"):
        d.approve(r.request.id, "li", {"deployer"})
    with pytest.raises(DeployError, match="deployer role"):
        d.approve(r.request.id, "zhao", {"analyst"})
    done = d.approve(r.request.id, "wang", {"deployer"})
    assert done.status == "applied" and st.versions.routing(r.route).champion == (sv.name, sv.version)
    with pytest.raises(DeployError, match="already applied"):
        d.approve(r.request.id, "zhou", {"deployer"})
    actions = [e["action"] for e in st.admin.entries()]
    assert actions[:4] == ["strategy.activate", "deploy.approve", "deploy.request", "strategy.deploy"]
    assert st.admin.verify().ok
    st.close()


def test_without_four_eyes_and_rollback(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    d = Deployments(st, four_eyes=False)
    sv, _ = d.deploy(_strategy(), "li")
    assert d.activate(sv.name, sv.version, actor="li").status == "applied"
    with pytest.raises(DeployError, match="nothing to roll back"):
        d.rollback(sv.name, "li")
    with pytest.raises(DeployError, match="percent"):
        d.activate(sv.name, sv.version, "challenger", actor="li", percent=0)
    rej = Deployments(st, four_eyes=True)
    r = rej.activate(sv.name, sv.version, actor="li")
    assert rej.reject(r.request.id, "wang", {"deployer"}, "not now").status == "rejected"
    assert [x.id for x in rej.requests()] == []
    st.close()
