"""Run every benchmark (``make bench``): each bench_*.py in its own process, a progress display, a summary.

Usage::

    python benchmarks/run_all.py                    # full sizes; each script rewrites its section of RESULTS.md
    python benchmarks/run_all.py --quick            # small sizes, a few minutes; writes RESULTS-quick.md instead
    python benchmarks/run_all.py --only fraud,pricing   # some sections (see --list)

Each script's output goes to benchmarks/_out/logs/<section>[-quick].log. Exit status 1 when a section failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from _results import ENV, QUICK_RESULTS, RESULTS

HERE = Path(__file__).parent
LOGS = HERE / "_out" / "logs"


@dataclass
class Section:
    """One benchmark script, with the arguments of its full and its quick run."""

    name: str
    script: str
    quick: list[str]
    full: list[str] = field(default_factory=list)
    needs: str | None = None  # an executable that must be on PATH
    needs_hint: str = ""
    quick_skip: str | None = None  # why the section does not run in --quick mode (None: it does)
    quick_note: str = ""  # what the quick run leaves out


SECTIONS = [
    Section("simulate", "bench_simulate.py", ["--customers", "2000", "--months", "3"]),
    Section("pricing", "bench_pricing.py", ["--loans", "20000", "--sample", "200"]),
    Section("engine", "bench_engine.py", ["--quick"]),
    Section("features", "bench_features.py", ["--customers", "2000", "--online-events", "3000"]),
    Section("fraud", "bench_fraud.py", ["--elements", "20000", "--nodes", "20000", "--edges", "80000",
                                        "--quality-customers", "1500"]),
    Section("fraud_populations", "bench_fraud_populations.py", ["--sizes", "2000"],
            full=["--sizes", "5000,50000"],
            quick_note="one 2 000-customer world per population instead of 5 000 and 50 000"),
    Section("modeling", "bench_modeling.py", ["--datasets", "20000", "--libs", "fengkong,lightgbm", "--timeout",
                                              "300"],
            quick_note="synthetic 20 000 × 50 only, fengkong and LightGBM only (no third-party venv)"),
    Section("postloan", "bench_postloan.py", ["--customers", "2000", "--copies", "2", "--samples", "2000"]),
    Section("complaints", "bench_complaints.py", ["--complaints", "3000", "--decisions", "300", "--debtors",
                                                  "3000"]),
    Section("console", "bench_console.py", ["--decisions", "20000", "--cases", "2000", "--customers", "5000",
                                            "--world-customers", "500", "--repeat", "3"]),
    Section("service", "bench_service.py", ["--quick"], needs="wrk",
            needs_hint="install it with `make wrk` (Debian package wrk), then run this section again"),
    Section("spark", "bench_spark.py", ["--sizes", "0", "--timeout", "600"],
            quick_note="a 2 000-customer world (size 0) instead of 1 M and 5 M events"),
]
BY_NAME = {s.name: s for s in SECTIONS}


@dataclass
class Outcome:
    """How one section ended."""

    section: str
    seconds: float
    status: str  # ok | failed (exit N) | timed out | skipped: why
    log: Path | None = None

    @property
    def failed(self) -> bool:
        return not (self.status == "ok" or self.status.startswith("skipped"))


def _pick(only: list[str]) -> list[Section]:
    names = [n.strip() for part in only for n in part.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"error: --only: unknown section {', '.join(unknown)} (sections: {', '.join(BY_NAME)})")
    return [BY_NAME[n] for n in names] if names else list(SECTIONS)


def _run(sec: Section, quick: bool, timeout: float | None, progress: Progress, task: int) -> Outcome:
    """Run one section's script, streaming its last output line into the progress display."""
    if quick and sec.quick_skip:
        return Outcome(sec.name, 0.0, f"skipped: {sec.quick_skip}")
    if sec.needs and shutil.which(sec.needs) is None:
        return Outcome(sec.name, 0.0, f"skipped: `{sec.needs}` is not installed; {sec.needs_hint}")
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{sec.name}{'-quick' if quick else ''}.log"
    env = dict(os.environ)
    if quick:
        env[ENV] = str(QUICK_RESULTS)
    else:
        env.pop(ENV, None)
    cmd = [sys.executable, "-u", str(HERE / sec.script), *(sec.quick if quick else sec.full)]
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                cwd=HERE.parent, errors="replace")

        def pump() -> None:  # the script's output into its log, its last line into the display
            assert proc.stdout is not None
            for line in proc.stdout:
                fh.write(line)
                fh.flush()
                if line.strip():
                    progress.update(task, detail=line.strip()[:90])

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        timed_out = False
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc, timed_out = proc.wait(), True
        reader.join(timeout=10)
    secs = time.perf_counter() - t0
    if timed_out:
        return Outcome(sec.name, secs, f"timed out after {timeout:.0f} s", log)
    return Outcome(sec.name, secs, "ok" if rc == 0 else f"failed (exit {rc})", log)


def summary(outcomes: list[Outcome], quick: bool) -> Table:
    """The closing table: section, seconds, exit status (and what a quick run left out)."""
    t = Table(title=f"benchmarks ({'quick' if quick else 'full'} run)")
    t.add_column("section")
    t.add_column("seconds", justify="right")
    t.add_column("status")
    if quick:
        t.add_column("left out in --quick")
    for o in outcomes:
        colour = "red" if o.failed else ("yellow" if o.status.startswith("skipped") else "green")
        row = [o.section, f"{o.seconds:.1f}", f"[{colour}]{o.status}[/{colour}]"]
        if quick:
            row.append(BY_NAME[o.section].quick_note)
        t.add_row(*row)
    t.add_row("total", f"{sum(o.seconds for o in outcomes):.1f}", "", *([""] if quick else []))
    return t


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections one after the other; 1 when any failed or timed out."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"Small sizes (a few minutes in all); results go to {QUICK_RESULTS.name}, not {RESULTS.name}.")
    ap.add_argument("--only", action="append", default=[], metavar="NAME[,NAME]",
                    help="Run only these sections (repeatable).")
    ap.add_argument("--timeout", type=float, default=None,
                    help="Seconds per section before it is stopped (default: none; 600 with --quick).")
    ap.add_argument("--list", action="store_true", help="List the sections and their arguments, then exit.")
    a = ap.parse_args(argv)
    console = Console()
    if a.list:
        for s in SECTIONS:
            console.print(f"{s.name:<11} {s.script:<20} quick: {' '.join(s.quick)}", highlight=False)
        return 0
    chosen = _pick(a.only)
    timeout = a.timeout if a.timeout is not None else (600.0 if a.quick else None)
    target = QUICK_RESULTS if a.quick else RESULTS
    console.print(f"{len(chosen)} section(s), {'quick' if a.quick else 'full'} sizes; results → {target}; "
                  f"logs → {LOGS}", highlight=False)
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description:<11}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("[dim]{task.fields[detail]}"),
                        console=console, transient=False)
    overall = progress.add_task("all", total=len(chosen), detail="")
    outcomes: list[Outcome] = []
    with progress:
        for sec in chosen:
            task = progress.add_task(sec.name, total=1, detail="starting")
            o = _run(sec, a.quick, timeout, progress, task)
            outcomes.append(o)
            progress.update(task, completed=1, detail=f"{o.status} ({o.seconds:.0f} s)")
            progress.advance(overall)
    console.print(summary(outcomes, a.quick))
    for o in outcomes:
        if o.failed and o.log:
            console.print(f"[red]{o.section}[/red]: {o.status}; see {o.log}", highlight=False)
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
