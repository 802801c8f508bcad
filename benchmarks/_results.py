"""Shared helper: each benchmark rewrites its own section of benchmarks/RESULTS.md (RESULTS-quick.md when quick)."""

from __future__ import annotations

import fcntl
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
#: Where ``--quick`` runs (small sizes, a smoke test of the scripts) write, so the full figures stay intact.
QUICK_RESULTS = Path(__file__).with_name("RESULTS-quick.md")
#: Environment variable naming the results file; run_all.py --quick sets it for every script it starts.
ENV = "FENGKONG_BENCH_RESULTS"
#: The tokenisation key of every benchmark (public: benchmarks tokenise simulated people only). Set here, on
#: import, unless the caller set one, so that each script runs on a fresh machine, alone or from run_all.py.
BENCH_PII_KEY = "62656e63682d6b65792d6e6f742d612d7365637265742d303132333435363738"
os.environ.setdefault("FENGKONG_PII_KEY", BENCH_PII_KEY)
HEADER = (
    "# Benchmark results\n\n"
    "Each section is rewritten by the script named in it. This machine is shared and noisy: "
    "compare the ratios against the anchors measured in the same run, not absolute times "
    "across sections.\n"
)


QUICK_HEADER = (
    "# Benchmark results: --quick smoke run\n\n"
    "Small sizes, written by `benchmarks/run_all.py --quick` (or a script's own `--quick`): these check that "
    "the scripts run end to end; the figures are not comparable with benchmarks/RESULTS.md.\n"
)


def use_quick_results() -> None:
    """Send this process's (and its children's) sections to RESULTS-quick.md."""
    os.environ[ENV] = str(QUICK_RESULTS)


def results_file() -> Path:
    """The file sections go to: $FENGKONG_BENCH_RESULTS if set, else RESULTS.md."""
    return Path(os.environ[ENV]) if os.environ.get(ENV) else RESULTS


def is_quick() -> bool:
    """Whether this run writes somewhere other than RESULTS.md (a quick run: keep caches of full runs too)."""
    return results_file().resolve() != RESULTS.resolve()


def machine() -> str:
    """One line describing where a figure was measured."""
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section ``## name`` of the results file, under a file lock."""
    path = results_file()
    path.touch(exist_ok=True)
    with open(path, "r+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        text = fh.read() or (HEADER if path.resolve() == RESULTS.resolve() else QUICK_HEADER)
        block = f"<!-- begin {name} -->\n## {name}\n\n{markdown.strip()}\n<!-- end {name} -->\n"
        pattern = re.compile(rf"<!-- begin {re.escape(name)} -->.*?<!-- end {re.escape(name)} -->\n", re.S)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
        fh.seek(0)
        fh.write(text)
        fh.truncate()
