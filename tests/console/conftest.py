"""Console fixtures: a tiny simulated world decided by the engine (once per session), a store copied from it
per test, the console mounted on a small FastAPI app, and a live server for the browser tests."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

PASSWORD = "fengkong-demo"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """(world dir, SQLite store file) after the engine decided month 3 and the console demo was seeded."""
    import os

    from rich.console import Console

    os.environ.setdefault("FENGKONG_PII_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
    from fengkong.console.demo import seed_console
    from fengkong.engine import demo_story
    from fengkong.simulate import SimConfig, simulate_world
    from fengkong.store import Store

    d = tmp_path_factory.mktemp("console_world")
    world = d / "world"
    simulate_world(world, SimConfig(customers=400, months=3, seed=5))
    db = d / "template.db"
    with open(os.devnull, "w") as sink:
        demo_story(world, db_url=f"sqlite:///{db}", console=Console(file=sink))
    st = Store(f"sqlite:///{db}")
    seed_console(st, world)
    st.close()
    return world, db


@pytest.fixture
def demo_store(demo_template, tmp_path):
    from fengkong.store import Store

    _world, db = demo_template
    target = tmp_path / "store.db"
    shutil.copy(db, target)
    st = Store(f"sqlite:///{target}")
    yield st
    st.close()


def make_app(store, **settings):
    from fastapi import FastAPI

    from fengkong.console import mount

    app = FastAPI()
    mount(app, store, {"secret_key": "test-secret", "warm": False, **settings})
    return app


def login(client, username: str, password: str = PASSWORD):
    r = client.get("/console/login")
    tok = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = client.post("/console/login", data={"csrf": tok, "username": username, "password": password},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def demo_app(demo_store, demo_template):
    return make_app(demo_store, world=str(demo_template[0]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(demo_app):
    """The demo console served by uvicorn on a free local port; yields its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(demo_app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    t.join(timeout=10)


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-extensions",
        "--disable-dev-shm-usage", "--no-first-run", "--disable-sync", "--disable-default-apps"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never ``playwright install``)."""
    import os

    if not Path(CHROMIUM).exists():
        msg = "chromium is not installed (make venv installs it: apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def shots(request):
    """Directory for this test's screenshots (under the pytest output, tmp_path's base)."""
    d = Path(request.config._tmp_path_factory.getbasetemp()) / "console-screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d
