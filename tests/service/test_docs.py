"""The curl examples of docs/service.md run as they are against a live `fengkong serve`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from fengkong.store import open_store

from .conftest import SHIPPED, deploy_shipped
from .live import Live

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"
pytestmark = pytest.mark.slow


def test_curl_examples_in_the_docs(tmp_path):
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    db = f"sqlite:///{tmp_path / 'fengkong.db'}"
    st = open_store(db)
    deploy_shipped(st)
    keys = {"KEY": ["decision_client"], "DEPLOYER": ["deployer"], "DEPLOYER2": ["deployer"],
            "INVESTIGATOR": ["investigator"], "ANALYST": ["analyst"]}
    env = {name: st.users.create_key(name.lower(), roles, "docs") for name, roles in keys.items()}
    st.close()
    with Live(tmp_path, ["--db", db]) as live:
        env.update(FK=live.url, SHIPPED=str(SHIPPED))
        for i, block in enumerate(blocks):
            r = subprocess.run(["bash", "-eu", "-c", block], cwd=tmp_path, capture_output=True,
                               text=True, env={**os.environ, **env}, timeout=60)
            assert r.returncode == 0, f"docs/service.md bash block {i + 1} failed:\n{block}\n{r.stdout}\n{r.stderr}"
