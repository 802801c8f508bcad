"""A live ``fengkong serve`` subprocess for tests (own port, cwd, logs captured to files)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Live:
    def __init__(self, cwd: Path, args: list[str], env: dict[str, str] | None = None, ready: str = "/readyz"):
        self.cwd, self.port = cwd, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out = cwd / f"serve-{self.port}.log"
        cmd = [sys.executable, "-m", "fengkong.cli", "serve", "--port", str(self.port), *args]
        self.fh = open(self.out, "w")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdout=self.fh, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited {self.proc.returncode}: {self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + ready, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"serve not ready in 60 s: {self.log()}")

    def log(self) -> str:
        self.fh.flush()
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.fh.close()

    def __enter__(self) -> Live:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
