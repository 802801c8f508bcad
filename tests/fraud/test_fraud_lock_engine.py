"""An identity lock set through the CLI makes the engine reject that identity (IDENTITY_LOCKED) until unlocked."""

import json

from typer.testing import CliRunner

from fengkong import cli

APP = {"event_id": "LOCK-1", "event_type": "application", "ts": "2026-02-01T10:00:00+08:00", "customer_id": "C1",
       "id_token": "tok_locked_identity_1", "phone_token": "tok_phone_1", "device_id": "dev-1", "product": "cash_loan",
       "amount_fen": 500_000, "term_months": 12, "declared_income_fen": 1_200_000, "bureau_score": 700}


def _decide(runner, tmp_path, store, event_id):
    ev = dict(APP, event_id=event_id)
    path = tmp_path / f"{event_id}.json"
    path.write_text(json.dumps(ev))
    from fengkong.strategies import __path__ as sdir  # the shipped reference strategies

    r = runner.invoke(cli.app, ["decide", str(path), "--db", store, "--no-features", "--json",
                                "--strategy", f"{sdir[0]}/application.yaml"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output.strip().splitlines()[-1])


def test_lock_rejects_and_unlock_releases(tmp_path):
    cli._register_all()
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert "IDENTITY_LOCKED" not in _decide(runner, tmp_path, store, "E1")["reason_codes"]
    r = runner.invoke(cli.app, ["fraud", "lock", "--id-token", APP["id_token"], "--reason", "owner asked",
                                "--db", store])
    assert r.exit_code == 0, r.output
    locked = _decide(runner, tmp_path, store, "E2")
    assert locked["outcome"] == "reject" and "IDENTITY_LOCKED" in locked["reason_codes"]
    r = runner.invoke(cli.app, ["fraud", "unlock", "--id-token", APP["id_token"], "--reason", "verified in branch",
                                "--db", store])
    assert r.exit_code == 0, r.output
    assert "IDENTITY_LOCKED" not in _decide(runner, tmp_path, store, "E3")["reason_codes"]
    r = runner.invoke(cli.app, ["fraud", "audit", "--db", store, "--json"])
    actions = [row["action"] for row in json.loads(r.output)["audit"]]
    assert actions == ["lock", "unlock"]
    r = runner.invoke(cli.app, ["lists", "show", "--db", store])
    assert r.exit_code == 0
    assert (tmp_path / "store.db.fraud.sqlite").exists()  # the registry lives beside the store
    assert not any(p.name.startswith("sqlite:") for p in tmp_path.iterdir())


def test_lock_with_features_and_repeated_lock_not_me(tmp_path, monkeypatch):
    """Through the full decide path (fraud provider on): lock → IDENTITY_LOCKED; a repeated lock keeps one
    active list row; unlock releases; every step audited."""
    cli._register_all()
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    state = str(tmp_path / "state.db")

    def decide(eid):
        path = tmp_path / f"{eid}.json"
        path.write_text(json.dumps(dict(APP, event_id=eid)))
        from fengkong.strategies import __path__ as sdir

        r = runner.invoke(cli.app, ["decide", str(path), "--db", store, "--state", state, "--json",
                                    "--strategy", f"{sdir[0]}/application.yaml"])
        assert r.exit_code == 0, r.output
        return json.loads(r.output.strip().splitlines()[-1])

    assert "IDENTITY_LOCKED" not in decide("F1")["reason_codes"]
    for _ in range(2):
        r = runner.invoke(cli.app, ["fraud", "lock", "--id-token", APP["id_token"], "--reason", "owner", "--db", store])
        assert r.exit_code == 0, r.output
    from fengkong.store import open_store

    st = open_store(store)
    assert [e.value for e in st.lists.entries("identity_lock")] == [APP["id_token"]]
    st.close()
    d = decide("F2")
    assert d["outcome"] == "reject" and "IDENTITY_LOCKED" in d["reason_codes"]
    r = runner.invoke(cli.app, ["fraud", "unlock", "--id-token", APP["id_token"], "--reason", "ok", "--db", store])
    assert r.exit_code == 0, r.output
    assert "IDENTITY_LOCKED" not in decide("F3")["reason_codes"]
    r = runner.invoke(cli.app, ["fraud", "audit", "--db", store, "--json"])
    assert [a["action"] for a in json.loads(r.output)["audit"]] == ["lock", "lock", "unlock"]


def test_lock_rejects_a_path_where_a_url_is_expected(tmp_path):
    cli._register_all()
    r = CliRunner().invoke(cli.app, ["fraud", "lock", "--id-token", "tok_x", "--reason", "r", "--db",
                                     str(tmp_path / "plain.db")])
    assert r.exit_code == 2 and "not a database URL" in r.output
