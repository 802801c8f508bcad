"""Post-loan benchmarks: a transfer decided online with tracing state (engine + the post-loan provider + the
reference transfer strategy), and offline tracing + classification of >= 1 M transfers with peak memory.

Data: a simulated world (default 50 000 customers) replicated ``--copies`` times with disjoint ids, so the
volumes are large while the money flows keep the simulator's shapes. Anchors in the same run: the strategy
evaluated alone on the same features (online), and a Polars sort + group-by over the same transfers (offline).

Run: .venv/bin/python benchmarks/bench_postloan.py [--customers 50000] [--copies 16] [--samples 20000]
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine, write_section

ID_COLS = ("event_id", "customer_id", "card_token", "loan_id", "counterparty_id", "application_id", "payee_id",
           "contract_payee_id")


#: The event columns tracing reads (the child process loads only these, as a batch job would).
TRACE_COLUMNS = ["event_id", "event_type", "ts", "customer_id", "loan_id", "amount_fen", "payment_mode", "card_token",
                 "direction", "counterparty_id", "counterparty_type", "counterparty_category", "counterparty_name"]


def world(customers: int) -> pl.DataFrame:
    from fengkong.events import pii
    from fengkong.events.files import read_world
    from fengkong.simulate import SimConfig, simulate_world

    d = Path(tempfile.mkdtemp(prefix="bench_postloan_"))
    simulate_world(d, SimConfig(customers=customers, months=3, seed=31337), tokenizer=pii.Tokenizer(b"b" * 32))
    ev = read_world(d)
    return ev.filter(pl.col("event_type").is_in(["disbursement", "transfer"]))


def replicate(ev: pl.DataFrame, copies: int) -> pl.DataFrame:
    """``copies`` disjoint copies of the disbursements and transfers (ids suffixed ``~k``; merchants shared)."""
    parts = []
    for k in range(copies):
        own = [c for c in ID_COLS if c in ev.columns and c != "counterparty_id"]
        cp = (pl.when(pl.col("counterparty_type").is_in(["own_account", "individual"]))
              .then(pl.col("counterparty_id") + f"~{k}").otherwise(pl.col("counterparty_id")))
        parts.append(ev.with_columns([(pl.col(c) + f"~{k}").alias(c) for c in own] + [cp.alias("counterparty_id")]))
    return pl.concat(parts)


def rss_mb() -> float:
    """Current resident set size (Linux /proc), MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


class PeakRSS:
    """Samples the resident set size every 5 ms in a thread while the block runs."""

    def __enter__(self) -> PeakRSS:
        import threading

        self.peak = rss_mb()
        self._stop = threading.Event()

        def run() -> None:
            while not self._stop.wait(0.005):
                self.peak = max(self.peak, rss_mb())

        self._t = threading.Thread(target=run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb())


def offline(ev: pl.DataFrame) -> dict:
    from fengkong.postloan.tracing import trace

    n_tr = ev.filter(pl.col("event_type") == "transfer").height
    gc.collect()
    t0 = time.perf_counter()
    anchor = ev.sort(["ts", "event_id"]).group_by("card_token").agg(pl.col("amount_fen").sum()).height
    anchor_s = time.perf_counter() - t0
    base = rss_mb()
    with PeakRSS() as m:
        t0 = time.perf_counter()
        tr = trace(ev)
        trace_s = time.perf_counter() - t0
    peak = m.peak
    return {"transfers": n_tr, "events": ev.height, "trace_s": trace_s, "anchor_s": anchor_s, "groups": anchor,
            "rss_before_mb": base, "rss_peak_mb": peak, "traced": int(tr["pl_traced"].sum()),
            "multi_hop": int((tr["pl_hop"].fill_null(0) >= 2).sum()),
            "shared": int((tr["loan_parts"].list.len() >= 2).sum()) if "loan_parts" in tr.columns else 0}


def online(ev: pl.DataFrame, samples: int) -> dict:
    from fengkong.engine import Engine
    from fengkong.engine.replay import event_dicts
    from fengkong.events import validate_event
    from fengkong.features.providers import CombinedFeatures, combined_kinds
    from fengkong.postloan.alerts import TRANSFER_STRATEGY
    from fengkong.postloan.provider import FEATURE_KINDS, PostloanFeatures
    from fengkong.strategy.compiled import load_strategy

    strategy = load_strategy(TRANSFER_STRATEGY, features=combined_kinds())
    prov = PostloanFeatures()
    feats = CombinedFeatures(None, [prov], FEATURE_KINDS)
    eng = Engine(None, feats, strategy=strategy, validate=False)
    frame = ev.sort(["ts", "event_id"])
    rows = list(event_dicts(frame))
    n = len(rows)
    warm = n - samples
    t0 = time.perf_counter()
    for e in rows[:warm]:
        prov.update(e)
    warm_s = time.perf_counter() - t0
    tail = [validate_event(e) for e in rows[warm:]]
    lat, anchor = [], []
    for e in tail:
        if e["event_type"] != "transfer":
            prov.update(e)
            continue
        t = time.perf_counter()
        d = eng.decide(e)
        lat.append(time.perf_counter() - t)
        f = d.features
        t = time.perf_counter()
        strategy.evaluate(e, f)
        anchor.append(time.perf_counter() - t)
    lat_ms, anc_ms = np.array(lat) * 1000, np.array(anchor) * 1000
    return {"state_events": warm, "fold_us": warm_s / max(warm, 1) * 1e6, "pots": sum(len(v) for v in prov.pots.values()),
            "loans": len(prov.loans), "decided": len(lat),
            "p50": float(np.percentile(lat_ms, 50)), "p99": float(np.percentile(lat_ms, 99)),
            "anchor_p50": float(np.percentile(anc_ms, 50)), "anchor_p99": float(np.percentile(anc_ms, 99))}


def offline_in_child(ev: pl.DataFrame) -> dict:
    """:func:`offline` in a fresh process that only reads the events, so the memory figures are tracing's own."""
    import json
    import subprocess

    with tempfile.TemporaryDirectory(prefix="bench_postloan_") as tmp:
        path = Path(tmp) / "events.parquet"
        ev.write_parquet(path)
        here = str(Path(__file__).parent)
        code = (f"import json, sys; sys.path.insert(0, {here!r}); import polars as pl; import bench_postloan as b; "
                f"print(json.dumps(b.offline(pl.read_parquet({str(path)!r}, columns=b.TRACE_COLUMNS))))")
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--copies", type=int, default=16)
    ap.add_argument("--samples", type=int, default=20_000)
    a = ap.parse_args()
    t0 = time.perf_counter()
    base = world(a.customers)
    big = replicate(base, a.copies)
    print(f"data: {big.height:,} events ({time.perf_counter() - t0:.1f} s)", flush=True)
    off = offline_in_child(big)
    print(f"offline: {off}", flush=True)
    on = online(replicate(base, 4), a.samples)
    print(f"online: {on}", flush=True)
    md = (
        f"Machine: {machine()}. Data: a {a.customers:,}-customer simulated world (3 months) copied with disjoint ids.\n\n"
        "| measurement | value | anchor (same run) | ratio |\n|---|---|---|---|\n"
        f"| offline trace + classify {off['transfers']:,} transfers ({off['events']:,} events; {off['traced']:,} "
        f"traced, {off['multi_hop']:,} past the first hop, {off.get('shared', 0):,} drawing on two or more loans' pots) | {off['trace_s']:.2f} s (target ≤ 30 s) | "
        f"Polars sort + group-by of the same events {off['anchor_s']:.2f} s | {off['trace_s'] / off['anchor_s']:.1f}× |\n"
        f"| offline memory (RSS of a fresh process, sampled every 5 ms) | peak {off['rss_peak_mb']:,.0f} MB: "
        f"{off['rss_before_mb']:,.0f} MB after reading the {len(TRACE_COLUMNS)} columns it needs, +{off['rss_peak_mb'] - off['rss_before_mb']:,.0f} MB "
        f"while tracing | | |\n"
        f"| online transfer decision p50 / p99 (engine + post-loan provider + transfer strategy, state of "
        f"{on['state_events']:,} events, {on['pots']:,} pots) | {on['p50']:.3f} / {on['p99']:.3f} ms (target p99 ≤ 2 ms) | "
        f"strategy alone on the same features {on['anchor_p50']:.3f} / {on['anchor_p99']:.3f} ms | "
        f"{on['p99'] / on['anchor_p99']:.1f}× at p99 |\n"
        f"| online fold of one event into the state | {on['fold_us']:.1f} µs | | |\n")
    write_section("postloan", md)
    print(md)


if __name__ == "__main__":
    main()
