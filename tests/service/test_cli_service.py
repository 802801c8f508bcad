"""CLI side of the service: four-eyes from the terminal, keys and users, every step in the admin log."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fengkong.cli import _register_all, app
from fengkong.store import open_store

from .conftest import SHIPPED

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands():
    if not any(getattr(c, "name", None) == "serve" for c in app.registered_commands):
        _register_all()


def run(*args, env=None):
    return runner.invoke(app, list(args), env=env or {}, catch_exceptions=False)


def test_four_eyes_from_the_cli_and_the_admin_log(tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    r = run("strategy", "deploy", str(SHIPPED / "application.yaml"), "--activate", "--db", db,
            env={"FENGKONG_FOUR_EYES": "1"})
    assert r.exit_code == 0, r.output
    assert "waits for a second deployer: request 1" in r.output
    st = open_store(db)
    assert st.versions.routing("application") is None
    st.users.add("wang", "second-pair-of-eyes", ["deployer"])
    st.users.add("zhao", "just-an-analyst", ["analyst"])
    st.close()
    r = run("deploys", "approve", "1", "--user", "zhao", "--db", db, env={"FENGKONG_PASSWORD": "just-an-analyst"})
    assert r.exit_code == 1 and "deployer role" in r.output
    r = run("deploys", "approve", "1", "--user", "wang", "--db", db, env={"FENGKONG_PASSWORD": "wrong password"})
    assert r.exit_code == 1 and "wrong user or password" in r.output
    r = run("deploys", "approve", "1", "--user", "wang", "--db", db, env={"FENGKONG_PASSWORD": "second-pair-of-eyes"})
    assert r.exit_code == 0 and '"status": "applied"' in r.output
    r = run("keys", "create", "core-banking", "--roles", "decision_client", "--db", db)
    assert r.exit_code == 0 and r.output.startswith("fk_")
    key_id = r.output.split("_")[1]
    assert key_id in run("keys", "list", "--db", db).output
    assert run("keys", "revoke", key_id, "--db", db).exit_code == 0
    st = open_store(db)
    actions = [e["action"] for e in reversed(st.admin.entries())]
    assert actions == ["strategy.deploy", "deploy.request", "deploy.approve", "strategy.activate", "key.create",
                       "key.revoke"]
    assert st.admin.verify().ok
    st.close()
