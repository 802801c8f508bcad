"""CLI errors are one line each: store-open failures name the path; piped output is never wrapped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fengkong

SRC = str(Path(fengkong.__file__).parents[1])  # the subprocess runs the fengkong this test imports


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = SRC
    return subprocess.run([sys.executable, "-m", "fengkong.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_store_open_error_is_one_line_naming_the_folder(app, tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}"
    for argv in (["fraud", "lock", "--id-token", "tok_x", "--reason", "r", "--db", url],
                 ["audit", "verify", "--db", url], ["lists", "show", "--db", url]):
        r = CliRunner().invoke(app, argv)
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert r.exit_code == 2 and len(lines) == 1, (argv, r.output)
        assert f"folder {tmp_path / 'no' / 'such'} does not exist" in lines[0] and "sqlalche.me" not in r.output
    assert not (tmp_path / "no").exists()


def test_piped_validate_errors_are_not_wrapped(tmp_path):
    f = tmp_path / "application.csv"
    long_id = "E" * 70
    f.write_text("event_id,ts,customer_id,amount_fen\n"
                 f"{long_id},2026-01-01T00:00:00+08:00,c1,not-a-number-at-all-and-quite-long\n"
                 f"{long_id}2,not-a-time,c2,1\n")
    r = _run("events", "validate", str(f), cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    errors = [ln for ln in lines if ln.startswith(f"{f}:")]
    assert len(errors) >= 2 and max(map(len, errors)) > 80, r.stdout
    assert all(ln.startswith(f"{f}:") for ln in lines[:-1]), r.stdout  # no continuation lines


@pytest.mark.parametrize("name, content, why", [
    ("application.csv", b"", "empty file"),
    ("purchase.csv", bytes(range(128, 256)) * 3, "not UTF-8 text"),
    ("customer.parquet", b"PAR1garbage-garbage-garbagePAR1", "not a readable Parquet file"),
    ("repayment.jsonl", b"\xff\xfe\x00binary", "a binary file"),
    ("transfer.jsonl", b"{\"a\": \"\xc3\x28\"}\n", "not UTF-8 text"),
])
def test_unreadable_event_files_are_one_line_errors(tmp_path, name, content, why):
    f = tmp_path / name
    f.write_bytes(content)
    r = _run("events", "validate", str(f), cwd=tmp_path)
    out = (r.stdout + r.stderr).strip().splitlines()
    assert r.returncode == 2 and len(out) == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and str(f) in out[0] and why in out[0]
