"""Benchmark of the feature engine: offline backfill vs DuckDB window SQL, online stores throughput/latency.

Run: ``.venv/bin/python benchmarks/bench_features.py [--customers 200000] [--online-events 120000]``.
Generates a simulated world in benchmarks/_data/ if missing (fengkong.simulate). Each offline run is a
child process so its peak RSS is measured on its own (os.wait4). Writes the "Features" section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine, write_section

DATA = Path(__file__).parent / "_data"


def count_subset():
    """The standard library's unfiltered windowed counts (applies_to == events): both engines run these."""
    from fengkong.features import FeatureSet, load_features

    fs = load_features()
    return FeatureSet([f for f in fs.features if f.kind == "window" and f.agg == "count" and f.filter is None
                       and f.window_us is not None and f.applies_to == f.events and len(f.key) == 1
                       and not f.list_key])  # DuckDB's PARTITION BY a list is by the whole list


# ------------------------------------------------------------------ child processes (one engine each)


def child_polars(world: str, subset: bool, out: str) -> dict:
    import polars as pl  # noqa: F401

    from fengkong.eventio import read_world
    from fengkong.features import load_features
    from fengkong.features.offline import backfill

    fs = count_subset() if subset else load_features()
    t0 = time.perf_counter()
    if subset:  # read only the columns the features use, as DuckDB does
        df = _read_columns(world, ["event_id", "event_type", "ts", *{f.key[0] for f in fs.features}])
    else:
        df = read_world(world)
    t1 = time.perf_counter()
    table = backfill(df, fs)
    t2 = time.perf_counter()
    if out:
        table.write_parquet(out)
    return {"events": df.height, "features": len(fs), "read_s": t1 - t0, "compute_s": t2 - t1,
            "total_s": t2 - t0}


def _read_columns(world: str, cols: list[str]):
    import polars as pl

    from fengkong.events import EVENT_SCHEMA, EVENT_TYPES

    parts = []
    for et in EVENT_TYPES:
        p = Path(world) / f"{et}.parquet"
        if p.exists():
            have = set(pl.read_parquet_schema(p))
            part = pl.read_parquet(p, columns=[c for c in cols if c in have])
            parts.append(part.select([pl.col(c).cast(EVENT_SCHEMA[c]) if c in have
                                      else pl.lit(None, EVENT_SCHEMA[c]).alias(c) for c in cols]))
    return pl.concat(parts)


def child_duckdb(world: str, out: str) -> dict:
    import duckdb
    import polars as pl

    fs = count_subset()
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    from fengkong.events import EVENT_TYPES

    files = [p for p in sorted(Path(world).glob("*.parquet")) if p.stem in EVENT_TYPES]
    n_events = sum(con.execute(f"SELECT count(*) FROM read_parquet('{p}')").fetchall()[0][0] for p in files)
    t0 = time.perf_counter()
    by_key: dict[tuple, list] = {}
    for f in fs.features:
        by_key.setdefault((f.key[0], f.events), []).append(f)
    tables = []
    for (key, events), feats in by_key.items():
        srcs = " UNION ALL ".join(f"SELECT event_id, ts, {key} FROM read_parquet('{Path(world) / (et + '.parquet')}')"
                                  for et in events)
        cols = ", ".join(
            f"COUNT(*) OVER (PARTITION BY {key} ORDER BY ts RANGE BETWEEN INTERVAL '{f.window_us} microseconds' "
            f"PRECEDING AND INTERVAL '1 microseconds' PRECEDING) AS {f.name}" for f in feats)
        sql = f"SELECT event_id, {cols} FROM ({srcs}) WHERE {key} IS NOT NULL"
        tables.append(pl.from_arrow(con.sql(sql).to_arrow_table()))
    t1 = time.perf_counter()
    if out:

        res = tables[0]
        for t in tables[1:]:
            res = res.join(t, on="event_id", how="full", coalesce=True)
        res.write_parquet(out)
    return {"events": n_events, "features": len(fs), "total_s": t1 - t0}


def run_child(kind: str, world: Path, out: Path | None) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--world", str(world), "--out", str(out or "")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    stdout = proc.stdout.read()  # type: ignore[union-attr]
    _, status, ru = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child {kind} failed")
    res = json.loads(stdout.strip().splitlines()[-1])
    res["peak_rss_mb"] = ru.ru_maxrss / 1024
    res["cpu_s"] = ru.ru_utime + ru.ru_stime
    return res


# ------------------------------------------------------------------ online


def online(world: Path, n_events: int, redis_url: str) -> list[dict]:
    import gc
    import tempfile
    import uuid

    import polars as pl

    from fengkong.eventio import read_world
    from fengkong.features import load_features
    from fengkong.features.online import OnlineFeatures
    from fengkong.features.stores import MemoryStore, RedisStore, SQLiteStore, StoreUnavailableError

    fs = load_features()
    df = read_world(world).head(n_events)
    events = list(df.iter_rows(named=True))
    print(f"online: {len(events)} events, mix {dict(df.group_by('event_type').len().iter_rows())}", flush=True)
    del df
    rows = []
    tmp = tempfile.TemporaryDirectory()
    for name in ("memory", "sqlite", "redis"):
        try:
            store = (MemoryStore() if name == "memory" else SQLiteStore(Path(tmp.name) / "s.db") if name == "sqlite"
                     else RedisStore(redis_url, prefix=f"fkbench:{uuid.uuid4().hex[:8]}:"))
        except StoreUnavailableError as exc:
            rows.append({"store": name, "error": str(exc)})
            continue
        evs = events if name == "memory" else events[: max(1, len(events) // 6)]
        of = OnlineFeatures(fs, store)
        lat_wall, lat_cpu = [], []
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        for e in evs:
            if e["event_type"] == "application":
                a, b = time.perf_counter_ns(), time.thread_time_ns()
                of.read_update(e)
                lat_cpu.append(time.thread_time_ns() - b)
                lat_wall.append(time.perf_counter_ns() - a)
            else:
                of.read_update(e)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        lat_wall.sort()
        lat_cpu.sort()

        def p(xs: list[int], q: float) -> float:
            return xs[min(len(xs) - 1, int(len(xs) * q))] / 1000 if xs else float("nan")

        rows.append({"store": name, "events": len(evs), "apps": len(lat_wall), "ev_s_wall": len(evs) / wall,
                     "ev_s_cpu": len(evs) / cpu, "p50_us": p(lat_wall, 0.5), "p99_us": p(lat_wall, 0.99),
                     "p99_cpu_us": p(lat_cpu, 0.99)})
        print(rows[-1], flush=True)
        if isinstance(store, RedisStore):
            store.clear()
        store.close()
    tmp.cleanup()
    _ = pl
    return rows


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--online-events", type=int, default=120_000)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--child")
    ap.add_argument("--world")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    if a.child:
        res = (child_duckdb(a.world, a.out) if a.child == "duckdb"
               else child_polars(a.world, a.child == "polars_counts", a.out))
        print(json.dumps(res))
        return
    world = DATA / f"world{a.customers // 1000}k"
    if not (world / "application.parquet").exists():
        from fengkong.simulate import SimConfig, simulate_world

        print(f"simulating {a.customers} customers, 3 months → {world}", flush=True)
        simulate_world(world, SimConfig(customers=a.customers, months=3, seed=7))
    import polars as pl

    res = {}
    for kind in ("polars_full", "polars_counts", "duckdb"):
        out = DATA / f"bench_features_{kind}.parquet" if kind != "polars_full" else None
        res[kind] = run_child(kind, world, out)
        print(kind, res[kind], flush=True)
    # the two engines must agree value for value on the shared windowed counts
    pol = pl.read_parquet(DATA / "bench_features_polars_counts.parquet")
    duck = pl.read_parquet(DATA / "bench_features_duckdb.parquet")
    names = [c for c in pol.columns if c != "event_id"]
    j = pol.join(duck, on="event_id", how="inner", suffix="_d")
    mism = sum(int(j.select(((pl.col(n) != pl.col(n + "_d").cast(pl.Int64)).fill_null(False)
                             | (pl.col(n).is_null() != pl.col(n + "_d").is_null())).sum()).item()) for n in names)
    compared = j.height * len(names)
    on = online(world, a.online_events, a.redis)

    ev = res["polars_full"]["events"]
    pf, pc, dk = res["polars_full"], res["polars_counts"], res["duckdb"]
    ratio = dk["total_s"] / pc["total_s"]
    lines = [
        f"Machine: {machine()}; shared with other jobs (load average during the run: "
        f"{os.getloadavg()[0]:.1f}), so wall times are pessimistic — compare ratios.",
        "",
        f"Data: simulated world, {a.customers:,} customers, 3 months, **{ev:,} events**.",
        "",
        "### Offline backfill",
        "",
        "| run | features | wall s (incl. read) | of which compute s | events/s | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| Polars backfill, standard library | {pf['features']} ({sum(1 for f in _fs() if f.window_us)} "
        f"windowed) | {pf['total_s']:.1f} | {pf['compute_s']:.1f} | {ev / pf['total_s']:,.0f} | {pf['cpu_s']:.1f} | "
        f"{pf['peak_rss_mb']:,.0f} |",
        f"| Polars backfill, windowed counts only (reads the needed columns) | {pc['features']} | "
        f"{pc['total_s']:.1f} | {pc['compute_s']:.1f} | "
        f"{ev / pc['total_s']:,.0f} | {pc['cpu_s']:.1f} | {pc['peak_rss_mb']:,.0f} |",
        f"| DuckDB window SQL (`RANGE BETWEEN INTERVAL … PRECEDING AND 1 µs PRECEDING`), same counts | "
        f"{dk['features']} | {dk['total_s']:.1f} | — | {ev / dk['total_s']:,.0f} | {dk['cpu_s']:.1f} | "
        f"{dk['peak_rss_mb']:,.0f} |",
        "",
        f"Anchor ratio (same counts, same data, same run): **DuckDB time / Polars time = {ratio:.2f}** "
        f"(> 1 means fengkong is faster). Values compared: {compared:,} (event, feature) pairs, "
        f"**{mism} differences** between the two engines.",
        f"Target \"at least as fast as DuckDB\": **{'met' if ratio >= 1 else 'not met'}**"
        + ("" if ratio >= 1 else f" (Polars takes {1 / ratio:.2f}x DuckDB's time)") + ".",
        "",
        "### Online (read + update per event, standard library)",
        "",
        f"Stream: the first {a.online_events:,} events of the same world in time order (memory store); "
        "SQLite and Redis run the first sixth of it. p50/p99 are wall latencies of one `read_update` "
        "of an application event; p99 CPU is the same call's thread CPU time (less sensitive to the "
        "shared machine).",
        "",
        "| store | events | events/s (wall) | events/s (CPU, one core) | p50 µs | p99 µs | p99 CPU µs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in on:
        if "error" in r:
            lines.append(f"| {r['store']} | — | {r['error']} | | | | |")
            continue
        lines.append(f"| {r['store']} | {r['events']:,} | {r['ev_s_wall']:,.0f} | {r['ev_s_cpu']:,.0f} | "
                     f"{r['p50_us']:,.0f} | {r['p99_us']:,.0f} | {r['p99_cpu_us']:,.0f} |")
    mem = next(r for r in on if r["store"] == "memory")
    t_ok = mem["ev_s_cpu"] >= 50_000
    l_ok = mem["p99_cpu_us"] <= 500
    lines += [
        "",
        f"Target memory store ≥ 50 000 events/s on one core: **{'met' if t_ok else 'not met'}** "
        f"({mem['ev_s_cpu']:,.0f} events/s CPU-time"
        + ("" if t_ok else f", {50_000 / mem['ev_s_cpu']:.1f}x short") + ").",
        f"Target p99 ≤ 0.5 ms per application read+update: **{'met' if l_ok else 'not met'}** "
        f"(p99 {mem['p99_cpu_us']:,.0f} µs CPU, {mem['p99_us']:,.0f} µs wall"
        + ("" if l_ok else f"; {mem['p99_cpu_us'] / 500:.1f}x over") + ").",
    ]
    md = "\n".join(lines)
    print(md)
    write_section("Features", md)


def _fs():
    from fengkong.features import load_features

    return load_features().features


if __name__ == "__main__":
    main()
