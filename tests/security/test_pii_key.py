"""The tokenisation key: never created outside the demo; a missing or bad key is reported with its cause."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fengkong.events import pii


@pytest.fixture
def no_key(tmp_path, monkeypatch):
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    monkeypatch.delenv(pii.KEY_FILE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_simulate_never_creates_a_key(no_key, app):
    r = CliRunner().invoke(app, ["simulate", "--out", str(no_key / "w"), "--customers", "200"])
    assert r.exit_code == 2
    msg = " ".join(r.output.split())
    assert "FENGKONG_PII_KEY is not set" in msg and ".fengkong/pii.key does not exist" in msg, r.output
    assert not (no_key / ".fengkong").exists() and not (no_key / "w").exists()


def test_each_cause_is_named(no_key, monkeypatch):
    with pytest.raises(pii.PiiKeyError, match="is not set and the key file"):
        pii.load_key()
    monkeypatch.setenv(pii.KEY_ENV, "ab" * 16)
    with pytest.raises(pii.PiiKeyError, match="FENGKONG_PII_KEY is too short: 32 hex digits, need 64"):
        pii.load_key()
    monkeypatch.setenv(pii.KEY_ENV, "zz" * 32)
    with pytest.raises(pii.PiiKeyError, match="FENGKONG_PII_KEY is not hex") as e:
        pii.load_key()
    assert "zz" not in str(e.value)  # the value itself is never echoed
    monkeypatch.delenv(pii.KEY_ENV)
    d = no_key / "adir"
    d.mkdir(mode=0o700)
    monkeypatch.setenv(pii.KEY_FILE_ENV, str(d))
    with pytest.raises(pii.PiiKeyError, match=f"key file {d} is unreadable"):
        pii.load_key()
    f = no_key / "short.key"
    f.write_text("abcd\n")
    f.chmod(0o600)
    monkeypatch.setenv(pii.KEY_FILE_ENV, str(f))
    with pytest.raises(pii.PiiKeyError, match=f"key file {f} is too short: 4 hex digits, need 64"):
        pii.load_key()
    with pytest.raises(pii.PiiKeyError, match="too short"):
        pii.load_key(create=True)
    assert f.read_text() == "abcd\n"  # an existing file is never replaced


def test_events_validate_names_the_key_problem(no_key, app, monkeypatch):
    f = no_key / "application.csv"
    f.write_text("event_id,ts,customer_id,id_no\ne1,2026-01-01T00:00:00+08:00,c1,11010519491231002X\n")
    monkeypatch.setenv(pii.KEY_ENV, "ab" * 10)
    r = CliRunner().invoke(app, ["events", "validate", str(f)])
    msg = " ".join(r.output.split())
    assert r.exit_code != 0 and "too short: 20 hex digits" in msg, r.output
    assert "11010519491231002X" not in r.output
