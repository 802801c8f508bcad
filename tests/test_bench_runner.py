"""benchmarks/run_all.py and benchmarks/_results.py: quick runs never touch RESULTS.md; sections end with a status."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import _results  # noqa: E402
import run_all  # noqa: E402


def _progress() -> tuple[Progress, int]:
    p = Progress(console=Console(file=open("/dev/null", "w")))  # noqa: SIM115
    return p, p.add_task("t", total=1, detail="")


def test_quick_sections_go_to_the_quick_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_results, "RESULTS", tmp_path / "RESULTS.md")
    monkeypatch.setattr(_results, "QUICK_RESULTS", tmp_path / "RESULTS-quick.md")
    monkeypatch.delenv(_results.ENV, raising=False)
    _results.write_section("full", "figures")
    monkeypatch.setenv(_results.ENV, str(tmp_path / "RESULTS-quick.md"))
    assert _results.is_quick()
    _results.write_section("full", "smoke figures")
    assert "smoke figures" not in (tmp_path / "RESULTS.md").read_text()
    quick = (tmp_path / "RESULTS-quick.md").read_text()
    assert quick.startswith("# Benchmark results: --quick smoke run") and "## full\n\nsmoke figures" in quick


def test_a_section_needing_wrk_is_skipped_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_all.shutil, "which", lambda name: None)
    o = run_all._run(run_all.BY_NAME["service"], True, 5, *_progress())
    assert o.status.startswith("skipped: `wrk` is not installed") and "make wrk" in o.status
    assert not o.failed


def test_a_section_reports_its_exit_status_and_quick_sets_the_results_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_all, "LOGS", tmp_path / "logs")
    script = tmp_path / "bench_fake.py"
    script.write_text("import os, sys\nprint(os.environ.get('FENGKONG_BENCH_RESULTS'))\nsys.exit(3)\n")
    o = run_all._run(run_all.Section("fake", str(script), ["--small"]), True, 60, *_progress())
    assert o.status == "failed (exit 3)" and o.failed
    log = o.log.read_text()
    assert "--small" in log.splitlines()[0] and str(_results.QUICK_RESULTS) in log


def test_a_section_over_its_timeout_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_all, "LOGS", tmp_path / "logs")
    script = tmp_path / "bench_slow.py"
    script.write_text("import time\ntime.sleep(30)\n")
    o = run_all._run(run_all.Section("slow", str(script), []), True, 0.5, *_progress())
    assert o.status.startswith("timed out after")
    assert o.seconds < 10


def test_only_names_an_unknown_section() -> None:
    with pytest.raises(SystemExit, match="unknown section nope"):
        run_all.main(["--only", "nope"])


def test_every_benchmark_script_is_a_section() -> None:
    assert {s.script for s in run_all.SECTIONS} == {p.name for p in BENCH.glob("bench_*.py")}


def test_a_benchmark_has_a_tokenisation_key_on_a_fresh_machine(tmp_path: Path) -> None:
    """`make bench` on a machine with no key set: every script imports _results, which sets the benchmark key."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGKONG_")}
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import _results\n"
            "from fengkong.events.pii import load_key\n"
            "assert load_key().hex() == _results.BENCH_PII_KEY\n")
    res = subprocess.run([sys.executable, "-c", code, str(BENCH)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert all("_results" in p.read_text() for p in BENCH.glob("bench_*.py"))
