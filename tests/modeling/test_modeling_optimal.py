"""The exact optimiser: brute force agrees, constraints hold."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fengkong.modeling.optimal import iv_values, optimal_groups


def _partitions(k):
    for r in range(k):
        for cuts in itertools.combinations(range(1, k), r):
            yield [0, *cuts, k]


def _stats(b, g, cuts):
    bb = np.add.reduceat(b, cuts[:-1])
    gg = np.add.reduceat(g, cuts[:-1])
    return bb, gg


def _ok(rates, trend):
    d = np.diff(rates)
    if trend == "ascending":
        return bool((d >= 0).all())
    if trend == "descending":
        return bool((d <= 0).all())
    if trend == "peak":
        s = np.sign(d)
        return not any(s[i] < 0 and s[j] > 0 for i in range(len(s)) for j in range(i + 1, len(s)))
    if trend == "valley":
        s = np.sign(d)
        return not any(s[i] > 0 and s[j] < 0 for i in range(len(s)) for j in range(i + 1, len(s)))
    return True


@pytest.mark.parametrize("trend", ["ascending", "descending", "peak", "valley"])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_bins", [None, 3])
def test_matches_brute_force(trend, seed, max_bins):
    rng = np.random.default_rng(seed)
    k = 8
    b = rng.integers(1, 40, k).astype(float)
    g = rng.integers(20, 200, k).astype(float)
    B, G = b.sum(), g.sum()
    min_count = 0.08 * (B + G)
    best = -np.inf
    for cuts in _partitions(k):
        bb, gg = _stats(b, g, cuts)
        n = bb + gg
        if (n < min_count).any() or (max_bins and len(n) > max_bins):
            continue
        if not _ok(bb / n, trend):
            continue
        best = max(best, iv_values(bb, gg, B, G).sum())
    cuts, used = optimal_groups(b, g, B, G, min_count=min_count, max_bins=max_bins, trend=trend)
    bb, gg = _stats(b, g, cuts)
    n = bb + gg
    assert used == trend
    assert (n >= min_count).all()
    assert _ok(bb / n, trend)
    if max_bins:
        assert len(n) <= max_bins
    assert iv_values(bb, gg, B, G).sum() == pytest.approx(best, rel=1e-12)


def test_auto_picks_the_monotonic_direction():
    b = np.array([50, 40, 30, 20, 10, 5], dtype=float)
    g = np.full(6, 200.0)
    cuts, used = optimal_groups(b, g, b.sum(), g.sum(), min_count=1, trend="auto")
    assert used == "descending"
    assert len(cuts) == 7  # every pre-bin is already monotone, nothing to merge


def test_unknown_trend_is_an_error():
    with pytest.raises(ValueError, match="monotonic trend"):
        optimal_groups(np.ones(3), np.ones(3), 3, 3, min_count=1, trend="sideways")


@pytest.mark.parametrize(("rows_per_prebin", "expected"), [(60, "descending"), (6000, "valley")])
def test_a_bend_must_beat_the_monotone_shape_by_the_schwarz_criterion(rows_per_prebin, expected):
    # the same mild valley: on 360 rows it is within noise of a descending trend, on 36 000 it is real
    rate = np.array([0.30, 0.22, 0.18, 0.14, 0.18, 0.24])
    b = rate * rows_per_prebin
    g = rows_per_prebin - b
    _, used = optimal_groups(b, g, b.sum(), g.sum(), min_count=1, trend="auto")
    assert used == expected
