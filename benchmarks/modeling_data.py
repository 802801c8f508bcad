"""Synthetic scorecard benchmark data: N × 50 features, 10 % missing (not at random), known logistic truth."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "_data"


def make(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Columns x00..x44 numeric, c45..c49 small-integer codes, target ``bad``.

    logit = −1.6 + Σ linear, step, U-shaped and interaction-free effects of the true values; a value is
    then hidden (NaN) with probability ~10 %, more often when the true value is high (informative missingness).
    """
    rng = np.random.default_rng(seed)
    p = 50
    Z = rng.standard_normal((n, 45)).astype(np.float32)
    # correlated blocks of five
    for b in range(0, 45, 5):
        Z[:, b + 1 : b + 5] = 0.6 * Z[:, [b]] + 0.8 * Z[:, b + 1 : b + 5]
    coef = rng.uniform(0.05, 0.35, 45) * rng.choice([-1, 1], 45)
    logit = np.full(n, -1.6)
    for j in range(45):
        z = Z[:, j].astype(np.float64)
        kind = j % 3
        if kind == 0:
            logit += coef[j] * z
        elif kind == 1:
            logit += coef[j] * np.where(z > 0.5, 1.0, 0.0) * 2
        else:
            logit += abs(coef[j]) * (z**2 - 1) * 0.5
    C = rng.integers(0, 6, (n, 5))
    ceff = rng.normal(0, 0.3, (5, 6))
    for j in range(5):
        logit += ceff[j][C[:, j]]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    cols: dict[str, np.ndarray] = {}
    for j in range(45):
        x = (np.exp(Z[:, j] * 0.5) * 1000 if j % 4 == 0 else Z[:, j] * 10 + 50).astype(np.float64)
        pm = 1 / (1 + np.exp(-(-2.4 + 0.6 * Z[:, j])))  # ≈ 10 % on average, higher for high values
        x[rng.random(n) < pm] = np.nan
        cols[f"x{j:02d}"] = np.round(x, 3)
    for j in range(5):
        c = C[:, j].astype(np.float64)
        c[rng.random(n) < 0.1] = np.nan
        cols[f"c{45 + j}"] = c
    assert len(cols) == p
    cols["bad"] = y
    return cols


def path(n: int) -> Path:
    return DATA / f"synthetic_{n}.parquet"


def ensure(n: int) -> Path:
    """Write the set once (Parquet) and return its path."""
    p = path(n)
    if not p.exists():
        import polars as pl

        DATA.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(make(n)).write_parquet(p)
    return p


if __name__ == "__main__":
    for n in map(int, sys.argv[1:] or ["200000"]):
        print(ensure(n))
