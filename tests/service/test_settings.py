"""Service settings: file + environment, validated at start with one line per problem; modes refused that diverge."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fengkong.service.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for k in ("FENGKONG_DB", "FENGKONG_REDIS", "FENGKONG_STATE", "FENGKONG_CONFIG"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)


def test_zero_configuration_is_the_embedded_mode():
    s = load_settings()
    assert s.embedded and not s.shared and s.workers == 1
    assert s.store_url.startswith("sqlite") and s.state_url.endswith("fengkong_state.db")
    assert "embedded mode: one process" in s.describe()


def test_workers_need_postgres_and_redis_every_problem_listed(monkeypatch):
    with pytest.raises(SettingsError) as e:
        load_settings(workers=2, port=0)
    text = str(e.value)
    assert len(e.value.problems) == 3
    assert "port: 0" in text and "db: workers=2 needs the PostgreSQL store" in text and "redis: workers=2" in text
    monkeypatch.setenv("FENGKONG_DB", "postgresql+psycopg://u@db/x")
    monkeypatch.setenv("FENGKONG_REDIS", "redis://cache:6379/0")
    s = load_settings(workers=2)
    assert s.shared and not s.embedded and "2 worker(s)" in s.describe()


def test_config_file_env_and_key_problems(tmp_path, monkeypatch):
    cfg = tmp_path / "fk.toml"
    cfg.write_text('[service]\nport = "eighty"\nmax_batch = 5\ncolour = "red"\nreplicas = 3\n')
    monkeypatch.setenv("FENGKONG_PII_KEY", "not-hex")
    with pytest.raises(SettingsError) as e:
        load_settings(cfg)
    ps = e.value.problems
    assert any(p.startswith("port: expected int") for p in ps)
    assert any(p.startswith("colour: unknown setting") for p in ps)
    assert any("replicas=3 needs the PostgreSQL store" in p for p in ps)
    assert any(p.startswith("FENGKONG_PII_KEY") for p in ps)
    cfg.write_text("port = 9001\nmax_batch = 5\n")
    monkeypatch.setenv("FENGKONG_PII_KEY", "ab" * 32)
    s = load_settings(cfg, port=9002)
    assert s.port == 9002 and s.max_batch == 5  # option over file
    cfg.write_text("port = [\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(cfg)


def test_serve_refuses_to_start_and_names_each_problem(tmp_path):
    r = subprocess.run([sys.executable, "-m", "fengkong.cli", "serve", "--workers", "2", "--state", "memory"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = [x for x in r.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 2 and "PostgreSQL" in lines[0] and "Redis" in lines[1]


def test_world_setting_must_be_a_directory(tmp_path):
    with pytest.raises(SettingsError, match=r"world: '.*nope' is not a directory"):
        load_settings(world=str(tmp_path / "nope"))
    (tmp_path / "w").mkdir()
    assert load_settings(world=str(tmp_path / "w")).world == str(tmp_path / "w")
