"""Feature selection for WOE models: IV, correlation, VIF, stability (PSI by time slice) and stepwise."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from fengkong.modeling.metrics import psi, psi_counts


def by_iv(iv: dict[str, float], iv_min: float) -> list[str]:
    """Features whose IV reaches ``iv_min``, largest IV first."""
    return [c for c, v in sorted(iv.items(), key=lambda kv: -kv[1]) if v >= iv_min]


def _sample_rows(W: np.ndarray, max_rows: int = 100_000) -> np.ndarray:
    if len(W) <= max_rows:
        return W
    return W[np.random.default_rng(0).integers(0, len(W), max_rows)]


def correlation(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation of the columns via one float32 Gram matrix (no row copies)."""
    n = W.shape[0]
    mean = W.mean(axis=0, dtype=np.float64)
    cov = (W.T @ W).astype(np.float64) / n - np.outer(mean, mean)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(cov / np.outer(sd, sd)), sd


def by_correlation(W: np.ndarray, names: list[str], iv: dict[str, float], corr_max: float) -> list[str]:
    """Greedy by IV: keep a feature unless its |correlation| with an already kept one exceeds ``corr_max``."""
    if len(names) <= 1:
        return list(names)
    C, sd = correlation(W)
    order = sorted(range(len(names)), key=lambda j: -iv[names[j]])
    kept: list[int] = []
    for j in order:
        if sd[j] < 1e-12:
            continue
        if all(abs(C[j, k]) <= corr_max for k in kept):
            kept.append(j)
    return [names[j] for j in sorted(kept, key=lambda j: -iv[names[j]])]


def vif(W: np.ndarray) -> np.ndarray:
    """Variance inflation factor of every column: the diagonal of the inverse correlation matrix."""
    C, _ = correlation(np.asarray(W, dtype=np.float32))
    return np.diag(np.linalg.pinv(np.atleast_2d(C)))


def by_vif(W: np.ndarray, names: list[str], vif_max: float) -> list[str]:
    """Drop the column with the largest VIF until every VIF is ≤ ``vif_max``."""
    keep = list(range(len(names)))
    while len(keep) > 1:
        v = vif(W[:, keep])
        worst = int(np.argmax(v))
        if v[worst] <= vif_max:
            break
        keep.pop(worst)
    return [names[j] for j in keep]


def stability(values_by_slice: dict[str, np.ndarray], psi_max: float = 0.25) -> tuple[bool, float]:
    """Largest PSI of any time slice against the first one, and whether it stays under ``psi_max``."""
    slices = list(values_by_slice.values())
    if len(slices) < 2:
        return True, 0.0
    worst = max(psi(slices[0], s) for s in slices[1:])
    return worst <= psi_max, worst


def slice_psi(W: np.ndarray, slice_ids: np.ndarray, discrete: bool = False) -> np.ndarray:
    """Per column, the largest PSI of any time slice against the earliest (smallest id) slice.

    ``discrete``: the columns take few values (WOE: one per bin), and PSI is taken over those values exactly;
    otherwise over deciles of the earliest slice.
    """
    keys, sl = np.unique(np.asarray(slice_ids), return_inverse=True)
    out = np.zeros(W.shape[1])
    if len(keys) < 2:
        return out
    for j in range(W.shape[1]):
        col = W[:, j]
        if discrete:
            _, code = np.unique(col, return_inverse=True)
            k = int(code.max()) + 1
            counts = np.bincount(sl * k + code, minlength=len(keys) * k).reshape(len(keys), k)
            out[j] = max(psi_counts(counts[0], counts[s]) for s in range(1, len(keys)))
        else:
            first = col[sl == 0]
            out[j] = max(psi(first, col[sl == s]) for s in range(1, len(keys)))
    return out


def by_stability(W: np.ndarray, names: list[str], slice_ids: np.ndarray, psi_max: float = 0.25,
                 discrete: bool = False) -> list[str]:
    """Keep features whose distribution is stable (PSI ≤ ``psi_max``) across time slices (see :func:`slice_psi`)."""
    worst = slice_psi(W, slice_ids, discrete)
    return [c for c, v in zip(names, worst, strict=True) if v <= psi_max]


def _loglik(W: np.ndarray, y: np.ndarray, cols: list[int]) -> float:
    if not cols:
        p = y.mean()
        return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
    m = LogisticRegression(C=1e6, max_iter=200).fit(W[:, cols], y)
    p = np.clip(m.predict_proba(W[:, cols])[:, 1], 1e-12, 1 - 1e-12)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def stepwise(W: np.ndarray, y: np.ndarray, names: list[str], criterion: str = "bic", max_rows: int = 200_000) -> list[str]:
    """Forward-backward stepwise selection of logistic-regression inputs by AIC or BIC."""
    if len(W) > max_rows:
        idx = np.random.default_rng(0).integers(0, len(W), max_rows)
        W, y = W[idx], y[idx]
    pen = np.log(len(y)) if criterion == "bic" else 2.0
    def ic(cols):
        return -2 * _loglik(W, y, cols) + pen * (len(cols) + 1)
    chosen: list[int] = []
    best = ic(chosen)
    while True:
        improved = False
        rest = [j for j in range(len(names)) if j not in chosen]
        scores = [(ic([*chosen, j]), j) for j in rest]
        if scores:
            s, j = min(scores)
            if s < best - 1e-9:
                chosen.append(j)
                best, improved = s, True
        if len(chosen) > 1:
            scores = [(ic([c for c in chosen if c != j]), j) for j in chosen]
            s, j = min(scores)
            if s < best - 1e-9:
                chosen.remove(j)
                best, improved = s, True
        if not improved:
            break
    return [names[j] for j in chosen]
