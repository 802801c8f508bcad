"""`fengkong consume` on a Redis Stream: SIGKILL mid-stream, restart, every event decided exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from fengkong.service.loadgen import mix
from fengkong.store import open_store

from .conftest import deploy_shipped

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _consumer(tmp, db, url, stream, out, idle_exit=0.0):
    cmd = [sys.executable, "-m", "fengkong.cli", "consume", "--db", db, "--state", str(tmp / "state.db"),
           "--source", url, "--stream", stream, "--output", out, "--group", "g", "--consumer", "c1"]
    if idle_exit:
        cmd += ["--idle-exit", str(idle_exit)]
    return subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ), start_new_session=True)


def test_sigkill_mid_stream_every_event_decided_exactly_once(tmp_path, redis_url):
    import redis

    r = redis.Redis.from_url(redis_url)
    tag = uuid.uuid4().hex[:8]
    stream, out = f"fktest:{tag}:in", f"fktest:{tag}:out"
    db = f"sqlite:///{tmp_path / 'fengkong.db'}"
    st = open_store(db)
    deploy_shipped(st)
    st.close()
    events = mix(300, customers=40, seed=31)
    events.insert(10, {"event_id": "BAD1", "event_type": "purchase"})  # never decidable: published as an error
    try:
        for e in events:
            r.xadd(stream, {"event": json.dumps(e, ensure_ascii=False)})
        p = _consumer(tmp_path, db, redis_url, stream, out)
        st = open_store(db)
        deadline = time.time() + 90
        while time.time() < deadline and st.decisions.count() < 60:
            time.sleep(0.05)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)
        killed_at = st.decisions.count()
        assert 0 < killed_at < 300, killed_at
        p2 = _consumer(tmp_path, db, redis_url, stream, out, idle_exit=3)
        text, _ = p2.communicate(timeout=180)
        assert p2.returncode == 0, text
        assert st.decisions.count() == 300
        assert st.decisions.verify().ok
        ids = {e["event_id"] for e in events if e["event_id"] != "BAD1"}
        with st.engine.connect() as c:
            import sqlalchemy as sa

            rows = c.execute(sa.text("SELECT request_id, count(*) FROM fk_decisions GROUP BY request_id")).all()
        assert {x[0] for x in rows} == ids and all(x[1] == 1 for x in rows)
        # features counted once per event across the crash: each application sees its own earlier ones
        seen: dict[str, int] = {}
        for e in events:
            if e["event_type"] != "application":
                continue
            rec = st.decisions.get(e["event_id"])
            assert rec["features"]["app_cnt_id_7d"] == seen.get(e["customer_id"], 0), e["event_id"]
            seen[e["customer_id"]] = seen.get(e["customer_id"], 0) + 1
        published = [json.loads(f[b"record"]) for _, f in r.xrange(out)]
        got = {x["request_id"] for x in published if x["kind"] == "decision"}
        assert got == ids
        assert any(x["kind"] == "error" and x["request_id"] == "BAD1" for x in published)
        assert r.xpending(stream, "g")["pending"] == 0
        st.close()
    finally:
        r.delete(stream, out)
        r.close()
