"""Fixtures of the service tests: an app over a fresh store with the shipped strategies and one key per role."""

from __future__ import annotations

from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "fengkong" / "strategies"


def deploy_shipped(store) -> None:
    from fengkong.runtime import strategy_kinds
    from fengkong.strategy import load_strategy

    for f in ("application.yaml", "purchase.yaml"):
        s = load_strategy(SHIPPED / f, features=strategy_kinds())
        store.versions.deploy(s)
        store.versions.activate(s.name, s.version)


def role_keys(store) -> dict[str, str]:
    from fengkong.store import ROLES

    return {r: store.users.create_key(f"test-{r}", [r], "test") for r in ROLES}


class Svc:
    """A TestClient with helpers: ``h(role)`` gives the auth header of that role's key."""

    def __init__(self, client, store, keys, settings):
        self.client, self.store, self.keys, self.settings = client, store, keys, settings

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def post(self, path: str, body, role: str = "decision_client", **kw):
        return self.client.post(path, json=body, headers=self.h(role), **kw)

    def get(self, path: str, role: str = "analyst", **kw):
        return self.client.get(path, headers=self.h(role), **kw)


@pytest.fixture
def make_svc(tmp_path):
    from fastapi.testclient import TestClient

    from fengkong.service.app import create_app
    from fengkong.service.settings import Settings
    from fengkong.store import open_store

    made = []

    def make(db: str | None = None, state: str | None = None, redis: str | None = None, **kw) -> Svc:
        db = db or f"sqlite:///{tmp_path / 'store.db'}"
        st = open_store(db)
        deploy_shipped(st)
        keys = role_keys(st)
        settings = Settings(db=db, state=None if redis else (state or str(tmp_path / "state.db")), redis=redis,
                            lock_registry=str(tmp_path / "locks.sqlite"), **kw).validate()
        app = create_app(settings, store=st)
        client = TestClient(app)
        client.__enter__()
        svc = Svc(client, st, keys, settings)
        made.append(svc)
        return svc

    yield make
    for s in made:
        s.client.__exit__(None, None, None)
        s.store.close()


@pytest.fixture
def svc(make_svc):
    return make_svc()
