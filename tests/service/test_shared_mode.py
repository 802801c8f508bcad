"""Two workers on PostgreSQL + Redis: every request id decided once, retries get the same decision."""

from __future__ import annotations

import concurrent.futures as cf
import uuid

import httpx
import pytest
import sqlalchemy as sa

from fengkong.service.loadgen import mix
from fengkong.store import open_store

from .conftest import deploy_shipped
from .live import Live

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def pg_schema(pg_url):
    schema = f"fk_svc_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(pg_url)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{pg_url}?options=-csearch_path%3D{schema}"
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    eng.dispose()


@pytest.fixture
def redis_prefix(redis_url):
    import redis

    prefix = f"fktest:{uuid.uuid4().hex[:8]}:"
    yield prefix
    r = redis.Redis.from_url(redis_url)
    keys = list(r.scan_iter(match=prefix + "*", count=1000))
    if keys:
        r.delete(*keys)
    r.close()


def test_two_workers_share_state_and_decide_each_id_once(tmp_path, pg_schema, redis_url, redis_prefix):
    st = open_store(pg_schema)
    deploy_shipped(st)
    key = st.users.create_key("app", ["decision_client"], "test")
    st.close()
    cfg = tmp_path / "fengkong.toml"
    cfg.write_text(f'[service]\nredis_prefix = "{redis_prefix}"\nworkers = 2\n')
    env = {"FENGKONG_DB": pg_schema, "FENGKONG_REDIS": redis_url}
    reqs = mix(40, customers=8, seed=5)
    with Live(tmp_path, ["--config", str(cfg)], env=env) as live:
        def send(r):
            with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
                resp = c.post("/v1/decisions", json=r)
                assert resp.status_code == 200, resp.text
                return resp.json()

        # every request sent three times at once (retries racing on both workers)
        with cf.ThreadPoolExecutor(6) as pool:
            got = list(pool.map(send, [r for r in reqs for _ in range(3)]))
        assert "2 worker(s)" in live.log()
    by_id: dict[str, list[dict]] = {}
    for d in got:
        by_id.setdefault(d["request_id"], []).append({k: v for k, v in d.items() if k != "replayed"})
    assert len(by_id) == len(reqs)
    for rid, ds in by_id.items():
        assert all(x == ds[0] for x in ds), rid
    st = open_store(pg_schema)
    try:
        assert st.decisions.count() == len(reqs)
        assert st.decisions.verify().ok
        # the id-velocity feature counts each application once, however often it was sent
        apps = [r for r in reqs if r["event_type"] == "application"]
        per_customer: dict[str, int] = {}
        for r in apps:
            rec = st.decisions.get(r["event_id"])
            seen = per_customer.get(r["customer_id"], 0)
            assert rec["features"]["app_cnt_id_7d"] == seen, (r["event_id"], rec["features"]["app_cnt_id_7d"], seen)
            per_customer[r["customer_id"]] = seen + 1
    finally:
        st.close()
