"""The keyed audit chain: edits re-chained without the key, a cut tail and a downgrade are all detected."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fengkong.store import StoreError, open_store
from fengkong.store.decisions import GENESIS, UNKEYED, chain_hash


def _meta(i: int) -> dict:
    return {"request_id": f"r{i}", "event_type": "application", "event_ts": "2025-01-01T00:00:00+08:00",
            "customer_id": f"c{i}", "strategy_name": "s", "strategy_version": "1", "outcome": "approve",
            "created_at": "2025-01-01T00:00:00+00:00"}


def _filled(url: str, n: int = 12, every: int = 5):
    st = open_store(url)
    st.decisions.checkpoint_every = every
    for i in range(n):
        st.decisions.append(_meta(i), {"outcome": "approve", "i": i})
    st.close()  # signs the head
    return open_store(url)


def _rechain(st, key: bytes | None = None, hv: int | None = None) -> None:
    """What someone with write access to the database (not the key) can do: recompute every link."""
    rows = list(st.decisions.rows())
    prev = GENESIS
    with st.engine.begin() as c:
        for r in rows:
            r["prev_hash"] = prev
            if hv is not None:
                r["hv"] = hv
            r["hash"] = chain_hash(r, key)
            c.execute(sa.text("UPDATE fk_decisions SET prev_hash = :p, hash = :h, hv = :v WHERE seq = :s"),
                      {"p": r["prev_hash"], "h": r["hash"], "v": r["hv"], "s": r["seq"]})
            prev = r["hash"]


def test_intact_chain_verifies_with_checkpoints(db_url):
    st = _filled(db_url)
    res = st.decisions.verify()
    assert res.ok and res.checked == 12 and res.checkpoint == 12 and res.unkeyed == 0
    assert [c["seq"] for c in st.decisions.checkpoints()] == [5, 10, 12]
    st.close()


@pytest.mark.parametrize("key", [None, b"\x01" * 32], ids=["unkeyed", "wrong-key"])
def test_edit_and_rechain_without_the_key_is_detected(db_url, key):
    st = _filled(db_url)
    with st.engine.begin() as c:
        c.execute(sa.text("UPDATE fk_decisions SET outcome = 'reject' WHERE request_id = 'r7'"))
    _rechain(st, key)
    res = st.decisions.verify()
    assert not res.ok and res.first_bad_seq == 1 and "without the audit key" in res.reason
    st.close()


def test_downgrade_to_an_unkeyed_chain_without_checkpoints_is_detected(db_url):
    st = _filled(db_url)
    with st.engine.begin() as c:
        c.execute(sa.text("UPDATE fk_decisions SET outcome = 'reject' WHERE request_id = 'r7'"))
        c.execute(sa.text("DELETE FROM fk_audit_checkpoints"))
    _rechain(st, None, hv=UNKEYED)
    res = st.decisions.verify()
    assert not res.ok and "unkeyed" in res.reason and "no signed checkpoint" in res.reason
    st.close()


def test_truncated_tail_is_detected(db_url, app):
    st = _filled(db_url)
    with st.engine.begin() as c:
        c.execute(sa.text("DELETE FROM fk_decisions WHERE seq > 8"))
    res = st.decisions.verify()
    assert not res.ok and "truncated" in res.reason and res.first_bad_seq == 9
    r = CliRunner().invoke(app, ["audit", "verify", "--db", db_url])
    assert r.exit_code == 1 and "truncated" in r.output
    st.close()


def test_forged_checkpoint_is_detected(db_url):
    st = _filled(db_url)
    with st.engine.begin() as c:
        c.execute(sa.text("DELETE FROM fk_decisions WHERE seq > 8"))
        c.execute(sa.text("UPDATE fk_audit_checkpoints SET seq = 8, head_hash = "
                          "(SELECT hash FROM fk_decisions WHERE seq = 8) WHERE seq > 8"))
    res = st.decisions.verify()
    assert not res.ok and "does not match its signature" in res.reason
    st.close()


def test_legacy_unkeyed_store_is_readable_and_sealed(tmp_path, app):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    st = _filled(url, n=4, every=0)
    with st.engine.begin() as c:
        c.execute(sa.text("DELETE FROM fk_audit_checkpoints"))
    _rechain(st, None, hv=UNKEYED)  # what a store written before the key holds
    assert st.decisions.get("r2") == {"outcome": "approve", "i": 2}
    res = st.decisions.verify()
    assert not res.ok and "audit seal" in res.reason and res.unkeyed == 4
    st.close()
    r = CliRunner().invoke(app, ["audit", "seal", "--db", url])
    assert r.exit_code == 0 and "checkpoint at seq 4" in r.output, r.output
    st = open_store(url)
    st.decisions.append(_meta(9), {"i": 9})
    res = st.decisions.verify()
    assert res.ok and res.unkeyed == 4 and res.checked == 5
    st.close()
    r = CliRunner().invoke(app, ["audit", "verify", "--db", url])
    assert r.exit_code == 0 and "keyed hash chain intact" in r.output


def test_no_key_means_no_append(tmp_path, monkeypatch):
    monkeypatch.delenv("FENGKONG_PII_KEY")
    monkeypatch.delenv("FENGKONG_AUDIT_KEY", raising=False)
    monkeypatch.setenv("FENGKONG_PII_KEY_FILE", str(tmp_path / "absent.key"))
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(StoreError, match="no audit key: set FENGKONG_AUDIT_KEY"):
        st.decisions.append(_meta(1), {"i": 1})
    monkeypatch.setenv("FENGKONG_AUDIT_KEY", "abc")
    st.decisions._key = None
    with pytest.raises(StoreError, match="too short: 3 hex digits, need 64"):
        st.decisions.append(_meta(1), {"i": 1})
    st.close()
    assert not (tmp_path / "absent.key").exists()


def test_explicit_audit_key_differs_from_the_derived_one(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 's.db'}"
    st = _filled(url, n=3)
    st.close()
    monkeypatch.setenv("FENGKONG_AUDIT_KEY", "ab" * 32)
    st = open_store(url)
    res = st.decisions.verify()
    assert not res.ok and "another audit key" in res.reason
    st.close()


def test_service_chains_under_its_configured_key_file(tmp_path, monkeypatch):
    from fengkong.events import pii
    from fengkong.service.app import build_state
    from fengkong.service.settings import Settings
    from fengkong.store.audit_key import derive, key_id

    kf = tmp_path / "svc.key"
    kf.write_text("cd" * 32)
    kf.chmod(0o600)
    monkeypatch.delenv(pii.KEY_ENV)
    monkeypatch.setenv(pii.KEY_FILE_ENV, str(tmp_path / "absent.key"))
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    import types

    build_state(Settings(pii_key_file=str(kf)), store=st, engine=types.SimpleNamespace())
    st.decisions.append(_meta(1), {"i": 1})
    assert st.decisions._kid == key_id(derive(bytes.fromhex("cd" * 32)))
    assert st.decisions.verify().ok
    st.close()
