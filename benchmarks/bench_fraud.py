"""Fraud-pack benchmarks: online graph update + cluster features at 10 M identity elements, and offline
community detection on a >= 1 M node / >= 5 M edge graph (igraph Leiden; connected components by SciPy,
igraph and rustworkx for comparison).

Run: .venv/bin/python benchmarks/bench_fraud.py [--elements 10000000] [--nodes 1200000 --edges 5000000]
rustworkx is compared only if the bench venv exists; create it with
    python3 -m venv .venv-bench-fraud && .venv-bench-fraud/bin/pip install rustworkx numpy
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine, write_section

DATA = Path(__file__).parent / "_data"
ROOT = Path(__file__).resolve().parent.parent
BENCH_PY = ROOT / ".venv-bench-fraud" / "bin" / "python"


def online(elements: int, samples: int = 20_000) -> dict:
    from fengkong.events import TZ, validate_event
    from fengkong.fraud.graph import AssociationGraph
    from fengkong.fraud.locks import IdentityLocks
    from fengkong.fraud.provider import FraudFeatures

    rng = random.Random(5)
    g = AssociationGraph()
    t0 = dt.datetime(2026, 1, 1, tzinfo=TZ)
    start = time.perf_counter()
    i = 0
    n_cust = elements // 4  # each customer brings an ID token, phone, device and bank card
    while i % 100_000 or g.n_elements < elements:  # (element count checked every 100 000 customers)
        dev = i if rng.random() < 0.95 else rng.randrange(n_cust)  # 5 % share a device
        g.update({"event_type": "application", "event_id": f"e{i}", "customer_id": f"c{i}",
                  "ts": t0 + dt.timedelta(seconds=i), "id_token": f"i{i}", "phone_token": f"p{i}",
                  "device_id": f"d{dev}", "card_token": f"k{i}",
                  "contact_tokens": [f"p{rng.randrange(n_cust)}"] if rng.random() < 0.1 else None})
        i += 1
        if i % 500_000 == 0:
            print(f"  built {i:,} customers, {len(g):,} nodes", flush=True)
    n_cust = i
    build_s = time.perf_counter() - start
    n_elem = g.n_elements
    # sampled new applications, validated outside the timed region (the engine validates once)
    evs = []
    for j in range(samples):
        c = rng.randrange(n_cust) if (j // 2) % 2 else n_cust + j  # half known customers, half new (each series)
        evs.append(validate_event({
            "event_type": "application", "event_id": f"s{j}", "customer_id": f"c{c}",
            "ts": (t0 + dt.timedelta(seconds=n_cust + j)).isoformat(), "product": "cash_loan",
            "amount_fen": 1_000_000, "term_months": 12, "id_token": f"i{c}", "phone_token": f"p{c}",
            "device_id": f"d{rng.randrange(n_cust + samples)}", "card_token": f"k{c}", "ip": f"10.{j % 200}.0.1",
            "employer_id": f"E{rng.randrange(10_000)}", "contact_tokens": [f"p{rng.randrange(n_cust)}"]}))
    # the graph is long-lived state: freeze it out of the cyclic GC's generations, as a service would after
    # loading, so collections triggered by per-request garbage do not rescan 12 M objects
    gc.collect()
    gc.freeze()
    # interleaved so that scheduler stalls on this shared machine hit all three series alike: the anchor
    # (validate_event of the raw event), the graph alone (even samples) and the whole provider (odd samples)
    prov = FraudFeatures(locks=IdentityLocks(":memory:"), graph=g)
    raw = [{**ev, "ts": ev["ts"].isoformat()} for ev in evs]
    lat = np.empty(samples)
    cpu = np.empty(samples)  # thread CPU time: the same work without the scheduler's preemptions
    anc = np.empty(samples)
    pc, tc = time.perf_counter_ns, time.thread_time_ns
    for j, ev in enumerate(evs):
        a = pc()
        validate_event(raw[j])
        b = pc()
        c = tc()
        if j % 2:
            prov.read_update(ev)
        else:
            g.read_update(ev)
        cpu[j] = tc() - c
        lat[j] = pc() - b
        anc[j] = b - a
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"elements": n_elem, "nodes": len(g), "edges": g.n_edges, "build_s": build_s,
            "p50_us": float(np.percentile(lat[0::2], 50) / 1e3), "p99_us": float(np.percentile(lat[0::2], 99) / 1e3),
            "prov_p50_us": float(np.percentile(lat[1::2], 50) / 1e3),
            "prov_p99_us": float(np.percentile(lat[1::2], 99) / 1e3),
            "cpu_p99_us": float(np.percentile(cpu[0::2], 99) / 1e3),
            "prov_cpu_p99_us": float(np.percentile(cpu[1::2], 99) / 1e3),
            "stalled_share": float((lat - cpu > 1e6).mean()),
            "anchor_p50_us": float(np.percentile(anc, 50) / 1e3), "anchor_p99_us": float(np.percentile(anc, 99) / 1e3),
            "peak_rss_mb": rss}


def make_graph(nodes: int, edges: int, path: Path) -> None:
    """Planted-community graph: communities of 5–40 nodes, 85 % of edges inside a community."""
    rng = np.random.default_rng(11)
    sizes = rng.integers(5, 41, size=nodes // 20)
    sizes = sizes[np.cumsum(sizes) <= nodes]
    comm_of = np.repeat(np.arange(len(sizes)), sizes)
    n = len(comm_of)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_in = int(edges * 0.85)
    src = rng.integers(0, n, size=edges)
    c = comm_of[src[:n_in]]
    dst_in = starts[c] + (rng.random(n_in) * sizes[c]).astype(np.int64)
    dst = np.concatenate([dst_in, rng.integers(0, n, size=edges - n_in)])
    keep = src != dst
    np.savez(path, src=src[keep].astype(np.int64), dst=dst[keep].astype(np.int64), n=n, comm=comm_of)


CHILD = r"""
import json, sys, time
import numpy as np
method, path = sys.argv[1], sys.argv[2]
d = np.load(path); src, dst, n = d["src"], d["dst"], int(d["n"])
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
base = hwm()
t = time.perf_counter()
if method == "scipy_cc":
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    k, lab = connected_components(coo_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n)), directed=False)
    out = {"communities": int(k)}
elif method == "igraph_cc":
    import igraph as ig
    g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist())))
    t_build = time.perf_counter() - t
    out = {"communities": len(g.connected_components()), "build_s": t_build}
elif method == "igraph_leiden":
    import igraph as ig, random
    random.seed(0)
    g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist())))
    t_build = time.perf_counter() - t
    p = g.community_leiden(objective_function="CPM", resolution=0.05, n_iterations=2)
    t_done = time.perf_counter() - t
    comm = d["comm"]
    from sklearn.metrics import adjusted_rand_score
    out = {"communities": len(p), "modularity": g.modularity(p.membership), "build_s": t_build,
           "ari_vs_planted": None}
    lab = np.asarray(p.membership)
    out["ari_vs_planted"] = float(adjusted_rand_score(comm, lab)) if len(comm) == n else None
elif method == "igraph_louvain":
    import igraph as ig
    g = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist())))
    t_build = time.perf_counter() - t
    p = g.community_multilevel()
    t_done = time.perf_counter() - t
    from sklearn.metrics import adjusted_rand_score
    out = {"communities": len(p), "modularity": g.modularity(p.membership), "build_s": t_build,
           "ari_vs_planted": float(adjusted_rand_score(d["comm"], np.asarray(p.membership)))}
elif method == "rustworkx_cc":
    import rustworkx as rx
    g = rx.PyGraph(multigraph=False)
    g.add_nodes_from(range(n))
    g.extend_from_edge_list(list(zip(src.tolist(), dst.tolist())))
    t_build = time.perf_counter() - t
    out = {"communities": len(rx.connected_components(g)), "build_s": t_build}
out["seconds"] = locals().get("t_done", time.perf_counter() - t)
out["peak_rss_mb"] = hwm()
out["base_rss_mb"] = base
print(json.dumps(out))
"""


def community(nodes: int, edges: int) -> dict[str, dict]:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"fraud_graph_{nodes}_{edges}.npz"
    if not path.exists():
        make_graph(nodes, edges, path)
    d = np.load(path)
    info = {"nodes": int(d["n"]), "edges": len(d["src"])}
    res: dict[str, dict] = {"_graph": info, "_run": {"at": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"}}
    for method in ("scipy_cc", "igraph_cc", "igraph_leiden", "igraph_louvain", "rustworkx_cc"):
        py = BENCH_PY if method.startswith("rustworkx") else Path(sys.executable)
        if not py.exists():
            res[method] = {"skipped": "no .venv-bench-fraud (see module docstring)"}
            continue
        r = subprocess.run([str(py), "-c", CHILD, method, str(path)], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            res[method] = {"error": r.stderr.strip().splitlines()[-1] if r.stderr else "failed"}
        else:
            res[method] = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"  {method}: {res[method]}", flush=True)
    (DATA / "fraud_community_results.json").write_text(json.dumps(res))
    return res


UNTUNED_SEED = 20261124  # rules were tuned on seed 7 only
VARIANTS = {
    "default": {},
    "small_slow_rings": dict(ring_size_min=3, ring_size_max=6, ring_burst_days=20, ring_gap_days_min=10,
                             ring_gap_days_max=20),
    "big_rings_little_forgery_no_codes": dict(ring_size_min=20, ring_size_max=60, ring_forged_share=0.2,
                                              ring_agent_code_share=0.0),
    "rings_on_own_devices": dict(ring_device_share=0.1),
    "thieves_fresh_devices_perfect_deepfakes": dict(attacker_device_reuse=False, deepfake_pass_share=1.0),
    "many_cash_out_merchants_no_shared_device": dict(cash_out_merchants=20, cash_out_device_share=0.0),
}


def quality(customers: int | None = None) -> str:
    """``fengkong evaluate`` on a fresh default world with an untuned seed, ring detection, and variants.

    ``customers`` shrinks every world (a smoke test); such worlds are cached under their own names."""
    import polars as pl

    from fengkong.events.files import read_world
    from fengkong.fraud.evaluate import evaluate_world, render_table
    from fengkong.fraud.rings import detect_rings
    from fengkong.simulate import SimConfig, simulate_world

    size = {"customers": customers} if customers else {}
    suffix = f"_{customers}c" if customers else ""
    fresh = DATA / f"fraud_world_seed{UNTUNED_SEED}{suffix}"
    if not fresh.exists():
        simulate_world(fresh, SimConfig(months=3, seed=UNTUNED_SEED, **size))
    t = time.perf_counter()
    res = evaluate_world(fresh)
    eval_s = time.perf_counter() - t
    events = read_world(fresh)
    t = time.perf_counter()
    rings, members = detect_rings(events)
    ring_s = time.perf_counter() - t
    lab = pl.read_parquet(fresh / "labels.parquet")
    planted = set(lab.filter((pl.col("pattern") == "debt_bearing_ring") & (pl.col("entity_type") == "customer"))[
        "entity_id"].to_list())
    found = set(members["customer_id"].to_list())
    ring_line = (f"Offline ring detection (graph + Leiden CPM + ring score ≥ 0.5) on the same world: {rings.height} "
                 f"rings, {len(found)} members; member precision {len(found & planted) / max(len(found), 1):.3f}, "
                 f"recall {len(found & planted) / max(len(planted), 1):.3f}; {ring_s:.1f} s.")
    lines = [f"Fresh world: SimConfig(months=3, seed={UNTUNED_SEED}{f', customers={customers}' if customers else ''}) "
             "with default parameters "
             f"({res['applications']:,} applications); the rules were tuned on seed 7 only. Evaluation {eval_s:.1f} s.",
             "", "```", render_table(res), "```", "", ring_line, "",
             f"Pattern variants ({customers or 3000:,} customers, seed 4242, one parameter group changed each):", "",
             "| variant | identity recall / prec | ring recall / prec | cash-out merchants recall / prec "
             "| multi-head recall / prec | good identity review | good reject |", "|---|---|---|---|---|---|---|"]
    for name, kw in VARIANTS.items():
        d = DATA / f"fraud_variant_{name}{suffix}"
        if not d.exists():
            simulate_world(d, SimConfig(customers=customers or 3000, months=3, seed=4242, **kw))
        r = evaluate_world(d)

        def rp(k: str, r: dict = r) -> str:
            v = r[k]
            return f"{v['recall'] or 0:.3f} / {v['precision'] or 0:.3f}"
        lines.append(f"| {name} | {rp('identity_theft')} | {rp('debt_bearing_ring')} | {rp('cash_out_merchant')} | "
                     f"{rp('multi_head')} | {r['good_identity_review_rate']:.3%} | {r['good_reject_rate']:.3%} |")
        print("  variant", name, "done", flush=True)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--elements", type=int, default=10_000_000)
    ap.add_argument("--nodes", type=int, default=1_200_000)
    ap.add_argument("--edges", type=int, default=5_200_000)
    ap.add_argument("--skip-online", action="store_true")
    ap.add_argument("--skip-community", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--quality-customers", type=int, default=None,
                    help="Customers of every evaluation world (default: 10 000 fresh, 3 000 per variant).")
    args = ap.parse_args()
    lines = [f"Machine: {machine()}. Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.", ""]
    if not args.skip_online:
        print(f"online graph with {args.elements:,} identity elements…", flush=True)
        o = online(args.elements)
        met = o["p99_us"] <= 200
        gap = "" if met else f", {o['p99_us'] - 200:.1f} µs over"
        lines += [
            "### Online: graph read + update per application",
            "",
            "| identity elements | nodes | edges | build (s) | graph read+update p50 / p99 µs "
            "| whole fraud provider p50 / p99 µs | anchor: validate_event p50 / p99 µs "
            "| graph p99 ÷ anchor p99 | peak RSS MB |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {o['elements']:,} | {o['nodes']:,} | {o['edges']:,} | {o['build_s']:.0f} | {o['p50_us']:.1f} / "
            f"{o['p99_us']:.1f} | {o['prov_p50_us']:.1f} / {o['prov_p99_us']:.1f} | "
            f"{o['anchor_p50_us']:.1f} / {o['anchor_p99_us']:.1f} | "
            f"{o['p99_us'] / o['anchor_p99_us']:.2f} | {o['peak_rss_mb']:.0f} |",
            "",
            f"Thread CPU time p99 (excludes time the process was preempted): graph {o['cpu_p99_us']:.1f} µs, "
            f"whole provider {o['prov_cpu_p99_us']:.1f} µs. Samples whose wall time exceeded their CPU time by "
            f"> 1 ms (scheduler preemption on this shared 2-core machine): {o['stalled_share']:.2%}.",
            "",
            f"Target p99 ≤ 200 µs at 10 M elements (wall clock): **{'met' if met else 'NOT met'}** "
            f"({o['p99_us']:.1f} µs{gap}; measured at {o['elements']:,} elements).",
            "",
        ]
        print(o, flush=True)
    if not args.skip_quality:
        print("quality on a fresh world…", flush=True)
        q = quality(args.quality_customers)
        print(q)
        write_section("Fraud: evaluate on a fresh world", q)
    cache = DATA / "fraud_community_results.json"
    if args.skip_community and cache.exists():
        c = json.loads(cache.read_text())
        print(f"community detection: reusing {cache} ({c['_run']['at']})", flush=True)
    elif args.skip_community:
        if not args.skip_online:
            write_section("Fraud: association graph and ring detection", "\n".join(lines))
        return
    else:
        print(f"community detection on {args.nodes:,} nodes / {args.edges:,} edges…", flush=True)
        c = community(args.nodes, args.edges)
    gi = c.pop("_graph")
    run_at = c.pop("_run", {}).get("at", "?")
    lines += ["### Offline: community detection",
              "",
              f"Planted-community graph: {gi['nodes']:,} nodes, {gi['edges']:,} edges (85 % inside communities "
              f"of 5–40). Each method in its own process; peak RSS of that process. Measured {run_at}.",
              "",
              "| method | total s | of which graph build s | result | peak RSS MB (data loaded: base) |",
              "|---|---|---|---|---|"]
    for m, r in c.items():
        if "seconds" not in r:
            lines.append(f"| {m} | – | – | {r.get('skipped') or r.get('error')} | – |")
            continue
        what = f"{r['communities']:,} groups"
        if "modularity" in r:
            what += f", modularity {r['modularity']:.3f}, ARI vs planted {r['ari_vs_planted']:.3f}"
        lines.append(f"| {m} | {r['seconds']:.1f} | {r.get('build_s', 0):.1f} | {what} | {r['peak_rss_mb']:.0f} ({r['base_rss_mb']:.0f}) |")
    leiden = c.get("igraph_leiden", {})
    anchor = c.get("scipy_cc", {})
    if "seconds" in leiden and "seconds" in anchor:
        lines += ["", f"Anchor: SciPy connected components {anchor['seconds']:.1f} s; Leiden / anchor = "
                  f"{leiden['seconds'] / anchor['seconds']:.1f}×. Target < 60 s: "
                  f"**{'met' if leiden['seconds'] < 60 else 'NOT met'}** ({leiden['seconds']:.1f} s)."]
    lines += ["", "Leiden runs with the CPM objective (resolution 0.05, 2 iterations), as fengkong.fraud.community does: "
              "modularity (Leiden or Louvain) hits its resolution limit on a graph this size and merges the small "
              "planted groups (compare the ARI). rustworkx 0.18 has connected components but no community detection "
              "(no Louvain/Leiden), so it can find linked clusters but cannot split one into rings; igraph's C Leiden "
              "does both and is the runtime choice (already a dependency)."]
    md = "\n".join(lines)
    print(md)
    write_section("Fraud: association graph and ring detection", md)


if __name__ == "__main__":
    main()
