"""Measure candidate Scorecard defaults on the benchmark panel: test AUC of each setting on each set.

Same splits as bench_modeling.py (run it, or its ``prepare``, first). Prints one table per run and writes
benchmarks/_out/modeling_defaults.json; docs/modeling.md cites the figures that chose each default.
Usage: .venv/bin/python benchmarks/modeling_defaults.py [--datasets german,uci,aer,hmda,20000] [--variants a,b]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import modeling_run_one
from modeling_run_one import TARGET, auc_ks, load_polars

OUT = Path(__file__).parent / "_out" / "modeling_defaults.json"
OLD = dict(C=0.1, min_bin_bads=0.0, auto_categorical=0, neutral_small_missing=False)
VARIANTS: dict[str, dict] = {
    "previous defaults": OLD,
    "+ neutral small missing bin": {**OLD, "neutral_small_missing": True},
    "+ min 10 bads per bin": {**OLD, "min_bin_bads": 10.0},
    "+ min 20 bads per bin": {**OLD, "min_bin_bads": 20.0},
    "+ integer codes (≤ 10 levels) categorical": {**OLD, "auto_categorical": 10},
    "+ integer codes (≤ 20 levels) categorical": {**OLD, "auto_categorical": 20},
    "+ C by 5-fold CV (bins refitted per fold)": {**OLD, "C": "cv"},
    "+ trend per characteristic by 5-fold CV": {**OLD, "monotonic_trend": "cv"},
    "+ best monotone vs best bent shape by 5-fold CV": {**OLD, "monotonic_trend": "auto-cv"},
    "new defaults (neutral small missing, integer codes ≤ 20 categorical)": {},
    "trend none": {**OLD, "monotonic_trend": "none"},
}


def run(dataset: str, params: dict) -> tuple[float, float]:
    """Test AUC and fit CPU seconds; ``"bend_bic"`` in ``params`` sets ``optimal.BEND_BIC`` for this fit."""
    from fengkong.modeling import Scorecard, optimal

    train, test = load_polars(dataset)
    y, yt = train[TARGET].to_numpy(), test[TARGET].to_numpy()
    params = dict(params)
    keep = optimal.BEND_BIC
    optimal.BEND_BIC = params.pop("bend_bic", keep)
    try:
        t0 = time.process_time()
        sc = Scorecard(**params).fit(train.drop(TARGET), y)
        cpu = time.process_time() - t0
    finally:
        optimal.BEND_BIC = keep
    auc, _ = auc_ks(yt, -sc.predict_score(test.drop(TARGET)))
    return auc, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="german,uci,aer,hmda,20000")
    ap.add_argument("--variants", default="")
    ap.add_argument("--combined", action="append", default=[], help='JSON params of an extra variant')
    a = ap.parse_args()
    ds = a.datasets.split(",")
    variants = {k: v for k, v in VARIANTS.items() if not a.variants or k in a.variants.split("|")}
    for j in a.combined:
        variants[j] = json.loads(j)
    res = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name, params in variants.items():
        row = {}
        for d in ds:
            row[d] = run(d, params)
        res[name] = {**res.get(name, {}), **{d: v[0] for d, v in row.items()}}
        print(f"{name:45s} " + " ".join(f"{d}={v[0]:.4f} ({v[1]:.1f}s)" for d, v in row.items()), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1))
    _ = modeling_run_one


if __name__ == "__main__":
    main()
