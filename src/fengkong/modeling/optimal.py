"""Exact optimiser over ordered pre-bins: maximise IV under a monotonic / peak / valley bad-rate constraint.

Dynamic programme over (last group start, group end[, number of groups]); vectorised with NumPy per start.
"""

from __future__ import annotations

import numpy as np

SMOOTH = 0.5
TRENDS = ("ascending", "descending", "peak", "valley", "auto", "none", "cv", "auto-cv")
#: a bent shape must earn this factor of the best monotone IV ...
BEND_IV_RATIO = 1.15
#: ... and beat it by the Schwarz (BIC) criterion: 2 × log-likelihood gain > BEND_BIC × ln(rows), the bend's
#: turning point counted as one extra parameter (weights count as rows). Measured in docs/modeling.md §13.
BEND_BIC = 1.0


def _loglik(bad: np.ndarray, good: np.ndarray, cuts: list[int]) -> float:
    """Bernoulli log-likelihood of the rows under their group's bad rate (grouping ``cuts`` of the pre-bins)."""
    cb = np.concatenate([[0.0], np.cumsum(bad)])[cuts]
    cg = np.concatenate([[0.0], np.cumsum(good)])[cuts]
    b, g = np.diff(cb), np.diff(cg)
    n = b + g
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(b > 0, b * np.log(b / n), 0.0) + np.where(g > 0, g * np.log(g / n), 0.0)
    return float(t.sum())


def woe_values(bad: np.ndarray, good: np.ndarray, total_bad: float, total_good: float) -> np.ndarray:
    """WOE = ln(bad share / good share) with +0.5 smoothing (higher = riskier)."""
    return np.log(((bad + SMOOTH) / (total_bad + SMOOTH)) / ((good + SMOOTH) / (total_good + SMOOTH)))


def iv_values(bad: np.ndarray, good: np.ndarray, total_bad: float, total_good: float) -> np.ndarray:
    """Per-bin information value (same smoothing as :func:`woe_values`)."""
    bs = (bad + SMOOTH) / (total_bad + SMOOTH)
    gs = (good + SMOOTH) / (total_good + SMOOTH)
    return (bs - gs) * np.log(bs / gs)


def _group_tables(bad, good, total_bad, total_good, min_count):
    cb = np.concatenate([[0.0], np.cumsum(bad)])
    cg = np.concatenate([[0.0], np.cumsum(good)])
    b = cb[None, :] - cb[:, None]  # b[i, j] = bads in prebins i..j-1
    g = cg[None, :] - cg[:, None]
    n = b + g
    with np.errstate(divide="ignore", invalid="ignore"):
        iv = iv_values(b, g, total_bad, total_good)
        rate = np.where(n > 0, b / np.maximum(n, 1e-300), 0.0)
    k = len(bad)
    upper = np.triu(np.ones((k + 1, k + 1), dtype=bool), 1)
    valid = upper & (n >= min_count) & (n > 0)
    return iv, rate, valid


def _solve(iv, rate, valid, k, max_bins, mode):
    """mode: 'ascending' (rates non-decreasing) or 'peak' (non-decreasing then non-increasing)."""
    # with no bin limit one layer suffices: the recurrence reads the layer it writes
    limited = max_bins is not None
    M = max_bins if limited else 1
    NEG = -np.inf
    phases = 2 if mode == "peak" else 1
    # F[p, m, i, j]: best IV of [0, j) split into m+1 groups, last group [i, j), in phase p
    F = np.full((phases, M, k + 1, k + 1), NEG)
    back = np.full((phases, M, k + 1, k + 1, 2), -1, dtype=np.int64)  # (prev start h, prev phase)
    F[0, 0, 0, :] = np.where(valid[0], iv[0], NEG)
    for i in range(1, k):
        js = np.arange(i + 1, k + 1)
        vj = valid[i, js]
        if not vj.any():
            continue
        r_cur = rate[i, js]  # (J,)
        r_prev = rate[:i, i]  # (H,)
        up = r_prev[:, None] <= r_cur[None, :]  # (H, J) rate non-decreasing into the new group
        down = r_prev[:, None] >= r_cur[None, :]
        for m in range(1, M) if limited else (0,):
            pm = m - 1 if limited else 0
            prev0 = F[0, pm, :i, i]  # (H,)
            cand_up = np.where(up, prev0[:, None], NEG)
            h_up = np.argmax(cand_up, axis=0)
            best_up = cand_up[h_up, np.arange(len(js))]
            F[0, m, i, js] = np.where(vj, iv[i, js] + best_up, NEG)
            back[0, m, i, js, 0] = h_up
            back[0, m, i, js, 1] = 0
            if phases == 2:
                prev1 = F[1, pm, :i, i]
                c0 = np.where(down, prev0[:, None], NEG)
                c1 = np.where(down, prev1[:, None], NEG)
                h0 = np.argmax(c0, axis=0)
                h1 = np.argmax(c1, axis=0)
                b0 = c0[h0, np.arange(len(js))]
                b1 = c1[h1, np.arange(len(js))]
                use1 = b1 > b0
                F[1, m, i, js] = np.where(vj, iv[i, js] + np.where(use1, b1, b0), NEG)
                back[1, m, i, js, 0] = np.where(use1, h1, h0)
                back[1, m, i, js, 1] = np.where(use1, 1, 0)
    end = F[:, :, :, k]  # (P, M, I)
    if not np.isfinite(end).any():
        return [0, k], -np.inf
    p, m, i = np.unravel_index(np.argmax(end), end.shape)
    best = float(end[p, m, i])
    cuts = [k]
    j = k
    while True:
        cuts.append(int(i))
        if i == 0:
            break
        h, pp = back[p, m, i, j]
        j, i, m, p = int(i), int(h), (m - 1 if limited else 0), int(pp)
    return sorted(set(cuts)), best


def optimal_groups(
    bad: np.ndarray,
    good: np.ndarray,
    total_bad: float,
    total_good: float,
    *,
    min_count: float,
    max_bins: int | None = None,
    trend: str = "auto",
) -> tuple[list[int], str]:
    """Group ordered pre-bins into bins maximising total IV under the trend constraint.

    Returns the group boundaries as pre-bin indices ``[0, c1, ..., k]`` and the trend used.
    """
    if trend not in TRENDS:
        raise ValueError(f"monotonic trend must be one of {TRENDS}, got {trend!r}")
    bad = np.asarray(bad, dtype=np.float64)
    good = np.asarray(good, dtype=np.float64)
    k = len(bad)
    if k <= 1:
        return [0, k], "ascending"
    M = min(max_bins, k) if max_bins else None
    iv, rate, valid = _group_tables(bad, good, total_bad, total_good, min_count)
    if trend == "none":
        # any grouping: ascending constraint on rates is dropped by making every transition allowed
        rate = np.zeros_like(rate)
        cuts, _ = _solve(iv, rate, valid, k, M, "ascending")
        return cuts, "none"
    results: dict[str, tuple[list[int], float]] = {}
    todo = ["ascending", "descending"] if trend == "auto" else [trend]
    if trend == "auto":
        todo += ["peak", "valley"]
    for t in todo:
        r = rate if t in ("ascending", "peak") else -rate
        mode = "ascending" if t in ("ascending", "descending") else "peak"
        results[t] = _solve(iv, r, valid, k, M, mode)
    if trend != "auto":
        return results[trend][0], trend
    mono = max(("ascending", "descending"), key=lambda t: results[t][1])
    bend = max(("peak", "valley"), key=lambda t: results[t][1])
    # a bent (U / inverted-U) shape must earn clearly more IV than the best monotonic one, by more than noise
    ok = results[bend][1] > BEND_IV_RATIO * results[mono][1] + 1e-3
    if ok and BEND_BIC > 0:
        gain = 2 * (_loglik(bad, good, results[bend][0]) - _loglik(bad, good, results[mono][0]))
        ok = gain > BEND_BIC * np.log(total_bad + total_good)
    if ok:
        return results[bend][0], bend
    return results[mono][0], mono
