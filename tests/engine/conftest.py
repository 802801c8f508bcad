"""Store fixtures: the same tests run on SQLite and on the real PostgreSQL (own schema per test)."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    pg = request.getfixturevalue("pg_url")
    import sqlalchemy as sa

    schema = f"fk_test_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(pg)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{pg}?options=-csearch_path%3D{schema}"
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    eng.dispose()
