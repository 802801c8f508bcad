"""Benchmark: `fengkong simulate --customers 100000 --months 3` as a whole process (target < 60 s).

Reports wall time, events/s, peak memory of the child process (resource.getrusage) and rows per file,
against an anchor measured in the same run: building and writing a plain random Parquet table with the
same number of rows. Writes its section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_simulate.py [--customers 100000] [--months 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import is_quick, machine, write_section

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "_data"
TARGET_S = 60.0


def anchor(rows: int, out: Path) -> float:
    """Seconds to build and write a random 8-column table of ``rows`` rows (same machine, same run)."""
    import numpy as np
    import polars as pl

    t = time.perf_counter()
    rng = np.random.default_rng(0)
    df = pl.DataFrame({
        "event_id": pl.select(pl.lit("EV") + pl.int_range(rows).cast(pl.Utf8).str.zfill(10)).to_series(),
        "ts": rng.integers(0, 10**13, rows), "customer_id": rng.integers(0, 10**6, rows).astype(str),
        "amount_fen": rng.integers(1, 10**7, rows), "a": rng.random(rows), "b": rng.random(rows),
        "c": rng.integers(0, 100, rows), "d": rng.random(rows) < 0.5,
    })
    df.sort(["ts", "event_id"]).write_parquet(out, compression="zstd")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    out = DATA / f"sim_{args.customers}x{args.months}"
    shutil.rmtree(out, ignore_errors=True)
    DATA.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)  # the benchmark key: set by _results on import
    cmd = [sys.executable, "-m", "fengkong.cli", "simulate", "--customers", str(args.customers), "--months",
           str(args.months), "--seed", str(args.seed), "--out", str(out), "--json"]
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        raise SystemExit(f"simulate failed with exit code {res.returncode}")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    manifest = json.loads(res.stdout.strip().splitlines()[-1])
    events = manifest["events"]
    anchor_s = anchor(events, DATA / "anchor.parquet")
    met = wall < TARGET_S
    rows = "\n".join(f"| {name} | {n:,} |" for name, n in manifest["rows"].items())
    labels = ", ".join(f"{p} {sum(v.values()):,}" for p, v in manifest["labels"].items())
    md = f"""Machine: {machine()} (shared with other helpers; timings are noisy).

Command: `fengkong simulate --customers {args.customers} --months {args.months} --seed {args.seed}` (whole process,
including interpreter start-up, tokenisation and writing every file).

| measure | value |
|---|---|
| wall time | {wall:.1f} s |
| events written | {events:,} ({events / args.customers:.1f} per customer) |
| events/s | {events / wall:,.0f} |
| peak memory (child RSS) | {peak_mib:,.0f} MiB |
| anchor: build + sort + write a random {events:,}-row, 8-column Parquet table | {anchor_s:.1f} s |
| ratio simulate / anchor | {wall / anchor_s:.1f}× |

| file | rows |
|---|---|
{rows}

Labels: {labels}.

Target: 100 000 customers × 3 months in < {TARGET_S:.0f} s — **{"met" if met else "not met"}**
({wall:.1f} s; {"margin" if met else "gap"} {abs(TARGET_S - wall):.1f} s).
"""
    print(md)
    if is_quick() or (args.customers == 100_000 and args.months == 3):
        write_section("simulate", md)


if __name__ == "__main__":
    main()
