"""Benchmark: standard-library feature backfill on Spark local[2] against Polars, at growing history sizes,
and the Spark backtest's two decision targets (column expressions against mapInArrow) in the same run.

Each engine runs in its own subprocess on the same simulated world; the parent samples the resident
memory of the whole process tree (the Spark JVM included) every 0.2 s. Polars runs in memory
(``offline.backfill``) and partitioned (``backfill_partitioned`` over a lazy Parquet scan, bounded
memory), both under an address-space limit (``resource.setrlimit(RLIMIT_AS)``, ``--polars-limit-gb``) so an
out-of-memory shows as a failed run instead of swapping the shared machine. After its backfill the Spark
job backtests the reference purchase strategy over the features it wrote, alternating the two targets
(``--backtest-repeats`` each, the best time reported). Usage::

    python benchmarks/bench_spark.py --sizes 1,5   # millions of events
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine, write_section

#: Simulated (customers, months) per size in millions of events (≈ 8.8 events per customer-month).
#: Size 0 is the smoke test of ``run_all.py --quick`` (about 50 000 events).
WORLDS = {0: (2_000, 3), 1: (38_000, 3), 2: (38_000, 6), 5: (95_000, 6), 20: (190_000, 12)}

POLARS_JOB = """
import resource, sys, time, json
lim = int(float(sys.argv[3]) * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
from fengkong.events.files import read_world
from fengkong.features import load_features
from fengkong.features.offline import backfill
t = time.perf_counter()
ev = read_world(sys.argv[1])
out = backfill(ev, load_features())
out.write_parquet(sys.argv[2])
print(json.dumps({"events": ev.height, "seconds": time.perf_counter() - t}))
"""

POLARS_PARTITIONED_JOB = """
import resource, sys, time, json
lim = int(float(sys.argv[3]) * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
import polars as pl
from fengkong.features import load_features
from fengkong.features.partitioned import backfill_partitioned
t = time.perf_counter()
out = backfill_partitioned(pl.scan_parquet(sys.argv[1]), load_features(), partitions=int(sys.argv[4]),
                           out_dir=sys.argv[2])
n = pl.scan_parquet(f"{out}/*.parquet").select(pl.len()).collect().item()
print(json.dumps({"events": n, "seconds": time.perf_counter() - t}))
"""

SPARK_JOB = """
import sys, time, json
from pathlib import Path
from fengkong.features import load_features
from fengkong.spark import backtest as sbt
from fengkong.spark.backfill import backfill
from fengkong.spark.io import read_events, with_date, write_partitioned
from fengkong.spark.session import get_session
from fengkong.strategy.compiled import load_strategy
spark = get_session("local[2]", conf={"spark.driver.memory": sys.argv[3] + "g",
                                       "spark.local.dir": sys.argv[4]})
t = time.perf_counter()
ev = with_date(read_events(spark, sys.argv[1]))
write_partitioned(backfill(ev, load_features(), keep=("date",), work_dir=sys.argv[4] + "/work"), sys.argv[2])
n = spark.read.parquet(sys.argv[2]).count()
res = {"events": n, "seconds": time.perf_counter() - t}
repeats = int(sys.argv[5])
try:
    if repeats:
        s = load_strategy(sys.argv[6])
        t = time.perf_counter()
        feats = spark.read.parquet(sys.argv[2]).drop("date")
        frame = sbt.prepare_frame(ev, s, features=feats).localCheckpoint()
        rows = frame.count()
        bt = {"strategy": Path(sys.argv[6]).name, "decisions": rows, "prepare_s": time.perf_counter() - t}
        res["backtest"] = bt
        for i in range(repeats):
            for target in ("columns", "arrow"):
                t = time.perf_counter()
                r = sbt.run(s, frame, target=target)
                r.decisions.write.mode("overwrite").parquet(f"{sys.argv[4]}/decisions_{target}")
                bt.setdefault(target, []).append(time.perf_counter() - t)
                bt[target + "_mix"] = {o: int(c) for o, c in r.outcome_mix.select("outcome", "n").iter_rows()}
                r.decisions.unpersist()
except Exception as exc:  # the backfill figure stands; the backtest's failure is reported with it
    res["backtest_error"] = f"{type(exc).__name__}: {exc}"[:300]
print(json.dumps(res))
spark.stop()
"""


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run(code: str, args: list[str], timeout: int) -> dict:
    """Run ``code`` in a subprocess; wall time, peak tree RSS, its JSON line or the failure."""
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err = f"timeout after {timeout}s"
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    res = {"wall": wall, "peak_gb": peak[0] / 2**30, "ok": proc.returncode == 0,
           "load": [round(load0, 1), round(os.getloadavg()[0], 1)], "date": dt.date.today().isoformat()}
    if res["ok"]:
        res.update(json.loads(out.strip().splitlines()[-1]))
    else:
        lines = [ln for ln in (err or "").strip().splitlines() if ln.strip()]
        oom = [ln for ln in lines if "memory allocation" in ln or "MemoryError" in ln]
        res["error"] = ((oom or lines[-1:] or ["?"])[0] + f" (exit {proc.returncode})")[:160]
    return res


def world(base: Path, size: int) -> Path:
    customers, months = WORLDS[size]
    d = base / f"world_{size}m"
    if not (d / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "fengkong.cli", "simulate", "--customers", str(customers), "--months",
                        str(months), "--out", str(d)], check=True, capture_output=True)
    return d


def history_file(w: Path) -> Path:
    """The world as one union-schema Parquet file (the lazy input of the partitioned Polars backfill)."""
    f = w.with_name(w.name + "_history.parquet")
    if not f.exists():
        from fengkong.events.files import read_world

        read_world(w).write_parquet(f)
    return f


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,5", help="millions of events, from 1, 2, 5, 20 (0: a 2 000-customer smoke test)")
    ap.add_argument("--engines", default="polars,polars-partitioned,spark")
    ap.add_argument("--partitions", type=int, default=16, help="hash partitions of the partitioned Polars backfill")
    ap.add_argument("--backtest-repeats", type=int, default=2, help="Spark backtests per target (0: none)")
    ap.add_argument("--strategy", default=str(Path(__file__).parents[1] / "src/fengkong/strategies/purchase.yaml"))
    ap.add_argument("--polars-limit-gb", type=float, default=14.0)
    ap.add_argument("--spark-driver-gb", type=int, default=6)
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    ap.add_argument("--previous", default=None, help="JSON of earlier rows to merge into the table")
    args = ap.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="fk_bench_spark_"))
    base.mkdir(parents=True, exist_ok=True)
    rows = json.loads(Path(args.previous).read_text()) if args.previous and Path(args.previous).exists() else []
    for size in (int(s) for s in args.sizes.split(",") if s):  # --sizes "" --previous rows.json: table only
        w = world(base, size)
        for engine in args.engines.split(","):
            out = base / f"out_{engine}_{size}m"
            if engine == "polars":
                r = run(POLARS_JOB, [str(w), str(out) + ".parquet", str(args.polars_limit_gb)], args.timeout)
                r["limit_gb"] = args.polars_limit_gb
            elif engine == "polars-partitioned":
                r = run(POLARS_PARTITIONED_JOB, [str(history_file(w)), str(out), str(args.polars_limit_gb),
                                                 str(args.partitions)], args.timeout)
                r.update(limit_gb=args.polars_limit_gb, partitions=args.partitions)
            else:
                r = run(SPARK_JOB, [str(w), str(out), str(args.spark_driver_gb), str(base / "spark_tmp"),
                                    str(args.backtest_repeats), args.strategy], args.timeout)
            r.update(engine=engine, size=size, months=WORLDS[size][1])
            rows = [x for x in rows if (x["engine"], x["size"]) != (engine, size)] + [r]
            print(json.dumps(r), flush=True)
            (base / "rows.json").write_text(json.dumps(rows))
    report(rows, args)


def _name(r: dict) -> str:
    return f"polars, {r['partitions']} partitions" if r["engine"] == "polars-partitioned" else r["engine"]


def report(rows: list[dict], args: argparse.Namespace) -> None:
    lines = ["| events | months | engine | result | wall s | s per M events | peak RSS GB | GB per M events | "
             "load avg (start → end) | date |",
             "|---:|---:|---|---|---:|---:|---:|---:|---|---|"]
    for r in sorted(rows, key=lambda r: (r["size"], r["engine"])):
        n = r.get("events", r["size"] * 1_000_000) / 1e6
        res = "ok" if r["ok"] else f"failed: {r.get('error', '')}"
        if "limit_gb" in r:
            res += f" (RLIMIT_AS {r['limit_gb']:g} GB)"
        wall = r["wall"] if "backtest" not in r else r["wall"] - _backtest_total(r["backtest"])
        load = " → ".join(str(x) for x in r.get("load", [])) or "—"
        lines.append(f"| {n:.2f} M | {r['months']} | {_name(r)} | {res} | {wall:.0f} | "
                     f"{wall / n:.1f} | {r['peak_gb']:.2f} | {r['peak_gb'] / n:.2f} | {load} | {r.get('date', '—')} |")
    ratios = []
    for size in sorted({r["size"] for r in rows}):
        label = f"{size} M" if size else "size 0 (smoke world)"
        s = next((r for r in rows if r["size"] == size and r["engine"] == "spark" and r["ok"]), None)
        for eng in ("polars", "polars-partitioned"):
            p = next((r for r in rows if r["size"] == size and r["engine"] == eng and r["ok"]), None)
            if p and s:
                sw = s["wall"] - _backtest_total(s.get("backtest", {}))
                ratios.append(f"- {label}: Spark / {_name(p)}: wall time {sw / p['wall']:.1f}×, "
                              f"peak memory {s['peak_gb'] / p['peak_gb']:.2f}×")
        bt = (s or {}).get("backtest")
        if bt and bt.get("columns") and bt.get("arrow"):
            c, a = min(bt["columns"]), min(bt["arrow"])
            same = "same outcome mix" if bt.get("columns_mix") == bt.get("arrow_mix") else "OUTCOME MIX DIFFERS"
            ratios.append(f"- {label}: Spark backtest of {bt['strategy']} ({bt['decisions']:,} decisions, "
                          f"decisions written as Parquet, best of {len(bt['columns'])}): column target "
                          f"{c:.1f} s, mapInArrow {a:.1f} s — mapInArrow / columns = **{a / c:.2f}×** ({same}); "
                          f"all runs: columns {', '.join(f'{x:.1f}' for x in bt['columns'])} s, "
                          f"mapInArrow {', '.join(f'{x:.1f}' for x in bt['arrow'])} s")
    md = (f"`python benchmarks/bench_spark.py` on {machine()} (shared, loaded by other jobs: see the load average "
          f"per row). Standard library (59 features) backfill of a simulated world; Spark `local[2]`, driver "
          f"{args.spark_driver_gb} GB, per-key passes written to a work directory, output Parquet partitioned by "
          f"date (wall time without the backtests that follow it in the same process); Polars in memory "
          f"(`offline.backfill`, reading the world) and partitioned (`backfill_partitioned` over a lazy scan of "
          f"the world as one Parquet file, output written in slices), each in a subprocess under an address-space "
          f"limit (RLIMIT_AS). Peak memory is the sampled RSS of the process tree (Spark: driver JVM + Python "
          f"workers).\n\n" + "\n".join(lines) + "\n\n" + "\n".join(ratios))
    write_section("Spark backfill (bench_spark.py)", md)
    print(md)


def _backtest_total(bt: dict) -> float:
    return bt.get("prepare_s", 0.0) + sum(bt.get("columns", [])) + sum(bt.get("arrow", []))


if __name__ == "__main__":
    main()
