"""Shared fixtures: real PostgreSQL and Redis servers (fail, not skip, under CI=true)."""

from __future__ import annotations

import os
import socket

import pytest

PG_URL = os.environ.get("FENGKONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FENGKONG_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _require(service: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    msg = f"{service} is not reachable on {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + " (CI=true: server-backed tests must run)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """SQLAlchemy URL of the real PostgreSQL test database."""
    _require("PostgreSQL", "127.0.0.1", 5432)
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis server (tests must use their own key prefix and clean up)."""
    _require("Redis", "127.0.0.1", 6379)
    return REDIS_URL


TEST_PII_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.fixture(scope="session", autouse=True)
def _pii_key_for_module_fixtures():
    """The same key for fixtures of module scope, which run before the per-test one below."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FENGKONG_PII_KEY", TEST_PII_KEY)
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    """Every test runs with a fixed tokenisation key unless it overrides it."""
    monkeypatch.setenv("FENGKONG_PII_KEY", TEST_PII_KEY)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """A decision-store URL: the same test runs on SQLite and on the real PostgreSQL (own schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    pg = request.getfixturevalue("pg_url")
    import uuid

    import sqlalchemy as sa

    schema = f"fk_test_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(pg)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{pg}?options=-csearch_path%3D{schema}"
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    eng.dispose()
