"""Profile of the full decision path (pyinstrument): where a decision's CPU time goes, per store.

Run: ``.venv/bin/python benchmarks/profile_decide.py [memory|sqlite] [N]`` (pyinstrument is a benchmark-only
dependency: ``pip install pyinstrument``). Writes benchmarks/profiles/decide_<store>.txt.
"""

from __future__ import annotations

import gc
import sys
import tempfile
from pathlib import Path

import polars as pl
from pyinstrument import Profiler

sys.path.insert(0, str(Path(__file__).parent))
import bench_engine as be
from fengkong.engine import Engine
from fengkong.engine.replay import event_dicts
from fengkong.events.files import read_world
from fengkong.features import load_features
from fengkong.features.online import OnlineFeatures
from fengkong.features.providers import ProviderContext, combined_kinds, open_features
from fengkong.features.store_sqlite import SQLiteStore
from fengkong.features.stores import MemoryStore
from fengkong.store import open_store
from fengkong.strategy import load_strategy


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    world = be.DATA / "engine_world"
    if not (world / "manifest.json").exists():
        from fengkong.simulate import SimConfig, simulate_world

        simulate_world(world, SimConfig(customers=2000, months=3, seed=11))
    fs = load_features()
    shipped = Path(be.__file__).parents[1] / "src" / "fengkong" / "strategies"
    kinds = combined_kinds(fs.kinds)
    strategies = [load_strategy(shipped / f"{s}.yaml", features=kinds) for s in ("application", "purchase")]
    evs = list(event_dicts(read_world(world).filter(pl.col("event_type").is_in(["application", "purchase"])).head(n)))
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        st = open_store(f"sqlite:///{d / 'decisions.db'}")
        for s in strategies:
            st.versions.deploy(s)
            st.versions.activate(s.name, s.version)
        store = MemoryStore() if kind == "memory" else SQLiteStore(d / "state.db")
        state = "memory" if kind == "memory" else str(d / "state.db")
        eng = Engine(st, open_features(OnlineFeatures(fs, store), ProviderContext(state=state)))
        for e in evs[:50]:
            eng.decide(e)
        gc.collect()
        gc.freeze()
        prof = Profiler(interval=0.0002)
        prof.start()
        for e in evs[50:]:
            eng.decide(e)
        prof.stop()
        st.close()
    text = prof.output_text(unicode=True, color=False, show_all=False)
    out = Path(__file__).parent / "profiles" / f"decide_{kind}.txt"
    out.write_text(f"{len(evs) - 50} decisions, features on {kind}\n\n" + text, encoding="utf-8")
    print(text[:6000])


if __name__ == "__main__":
    main()
