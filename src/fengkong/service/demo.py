"""The demo's last stage: start ``fengkong serve`` briefly over the demo store and decide a few events over HTTP."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(app: Any, port: int) -> Any:
    """Serve ``app`` with uvicorn on a background thread until the block ends."""
    import httpx
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + 30
    while time.time() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(15)


def _masked(req: dict[str, Any]) -> str:
    from fengkong.events import pii

    parts = [req["event_type"], req["event_id"]]
    if req.get("id_no"):
        parts.append(f"id_no={pii.mask_id(req['id_no'])}")
    if req.get("phone"):
        parts.append(f"phone={pii.mask_phone(req['phone'])}")
    if req.get("name"):
        parts.append(f"name={pii.mask_name(req['name'])}")
    parts.append(f"amount={req['amount_fen'] / 100:,.2f} yuan")
    return " ".join(parts)


def stage_service(out: Path, cfg: Any, console: Any) -> dict[str, Any]:
    """Decision service: `fengkong serve` over the demo store, a few events decided over HTTP."""
    import httpx

    from fengkong.service.app import create_app
    from fengkong.service.loadgen import application, people, purchase
    from fengkong.service.settings import Settings
    from fengkong.store import open_store

    db = f"sqlite:///{out / 'fengkong.db'}"
    state = out / "service_state.db"
    for p in (state, state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm")):
        p.unlink(missing_ok=True)
    store = open_store(db)
    key = store.users.create_key("demo-app", ["decision_client"], "demo")
    store.admin.append("demo", "key.create", key.split("_", 2)[1], {"name": "demo-app"})
    settings = Settings(db=db, state=str(state), lock_registry=str(out / "fengkong.db.fraud.sqlite")).validate()
    console.print(f"fengkong serve: {settings.describe()}")
    console.print(f"API key for the demo app: {key[:12]}… (shown once, stored hashed)")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    import numpy as np

    rng = np.random.default_rng(cfg.seed)
    ps = people(3, seed=cfg.seed % 10_000)
    reqs = [application(p, f"DEMO-A{i}", start + dt.timedelta(seconds=i), rng) for i, p in enumerate(ps)]
    reqs += [purchase(ps[i], f"DEMO-P{i}", start + dt.timedelta(seconds=10 + i), rng) for i in range(2)]
    shown: list[dict[str, Any]] = []
    app = create_app(settings, store=store)
    with running(app, _free_port()) as url, httpx.Client(base_url=url, timeout=30,
                                                        headers={"Authorization": f"Bearer {key}"}) as c:
        console.print(f"listening on {url}; POST /v1/decisions with plaintext identity (tokenised on arrival):")
        for r in [*reqs, reqs[0]]:
            resp = c.post("/v1/decisions", json=r)
            d = resp.json()
            line = {k: d.get(k) for k in ("request_id", "outcome", "outputs", "reason_codes", "strategy", "version",
                                          "latency_ms", "replayed")}
            console.print(f"  → {_masked(r)}\n    {resp.status_code} {json.dumps(line, ensure_ascii=False)}",
                          markup=False, highlight=False)
            shown.append(line)
        clash = c.post("/v1/decisions", json=dict(reqs[0], amount_fen=reqs[0]["amount_fen"] + 1))
        console.print(f"  same request_id, different payload → {clash.status_code} {clash.json()['detail']}",
                      markup=False)
        ready = c.get("/readyz").json()
        console.print(f"  GET /readyz → {json.dumps(ready)}", markup=False)
    store.close()
    return {"decisions": shown, "conflict": clash.status_code}
