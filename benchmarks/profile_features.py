"""Profiles of the feature engine: where the online memory store's and the offline backfill's time goes.

Run: ``.venv/bin/python benchmarks/profile_features.py`` (uses the world bench_features.py simulated).
Writes benchmarks/profiles/features_online_memory.txt (cProfile of read+update over the first 60 000
events) and benchmarks/profiles/backfill_standard.txt (seconds per feature of the one-frame backfill,
and a cProfile of the 21 windowed counts that the DuckDB anchor computes too).
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_features as bf
from _results import machine
from fengkong.events.files import read_world
from fengkong.features import load_features
from fengkong.features.offline import backfill
from fengkong.features.online import OnlineFeatures
from fengkong.features.stores import MemoryStore

OUT = Path(__file__).parent / "profiles"


def _stats(pr: cProfile.Profile, n: int) -> str:
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(n)
    return buf.getvalue()


def online(world: Path, n_events: int) -> str:
    fs = load_features()
    events = list(read_world(world).head(n_events).iter_rows(named=True))
    gc.collect()
    gc.freeze()
    of = OnlineFeatures(fs, MemoryStore())
    c0 = time.process_time()
    for e in events:
        of.read_update(e)
    rate = len(events) / (time.process_time() - c0)
    of = OnlineFeatures(fs, MemoryStore())
    pr = cProfile.Profile()
    pr.enable()
    for e in events:
        of.read_update(e)
    pr.disable()
    return (f"# Online read+update, memory store, standard library, first {len(events):,} events of {world.name}\n"
            f"# {machine()}; unprofiled: {rate:,.0f} events per CPU-second\n\n{_stats(pr, 30)}")


def offline(world: Path) -> str:
    fs = load_features()
    df = read_world(world)
    times: dict[str, float] = defaultdict(float)
    last: list = [None, time.perf_counter()]

    def tick(name: str | None) -> None:
        now = time.perf_counter()
        if last[0]:
            times[last[0]] += now - last[1]
        last[0], last[1] = name, now

    t = time.perf_counter()
    backfill(df, fs, progress=tick)
    tick(None)
    total = time.perf_counter() - t
    feats = {f.name: f for f in fs.features}
    lines = [f"# One-frame backfill of the standard library over {df.height:,} events of {world.name}: {total:.1f} s",
             f"# {machine()}", "# seconds per feature (a stream's first feature also pays for its sorted array)", ""]
    for name, s in sorted(times.items(), key=lambda x: -x[1]):
        f = feats[name]
        lines.append(f"{s:7.2f}  {name:42s} {f.kind:7s} {f.agg:22s} key={'+'.join(f.key) or '-'}")
    counts = bf.count_subset()
    sub = bf._read_columns(str(world), ["event_id", "event_type", "ts", *{f.key[0] for f in counts.features}])
    pr = cProfile.Profile()
    pr.enable()
    backfill(sub, counts)
    pr.disable()
    lines += ["", f"# cProfile of the {len(counts)} windowed counts (the DuckDB anchor's set)", "", _stats(pr, 20)]
    return "\n".join(lines)


def main() -> None:
    world = bf.DATA / "world50k"
    if not (world / "application.parquet").exists():
        raise SystemExit(f"{world}: run benchmarks/bench_features.py first (it simulates the world)")
    OUT.mkdir(exist_ok=True)
    (OUT / "features_online_memory.txt").write_text(online(world, 60_000))
    (OUT / "backfill_standard.txt").write_text(offline(world))
    print(f"wrote {OUT / 'features_online_memory.txt'} and {OUT / 'backfill_standard.txt'}")


if __name__ == "__main__":
    main()
