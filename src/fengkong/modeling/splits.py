"""Time-based validation: a train / gap / test split and a prequential (rolling) splitter.

The gap is the label delay: frauds and defaults confirmed after the model is trained must not leak into it,
so rows between the end of training and the start of testing are left out of both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np


def _seconds(times: Any) -> np.ndarray:
    t = np.asarray(times)
    if t.dtype.kind in "OUS":
        t = t.astype("datetime64[s]")
    if t.dtype.kind == "M":
        if np.isnat(t).any():
            raise ValueError(f"times: {int(np.isnat(t).sum())} missing timestamps")
        return t.astype("datetime64[s]").astype(np.int64).astype(np.float64)
    return t.astype(np.float64)  # already numeric (e.g. seconds or day numbers)


def _span(d: timedelta | float, name: str, numeric: bool) -> float:
    # a number is days for timestamps, units for numeric times
    v = d.total_seconds() if isinstance(d, timedelta) else float(d) * (1.0 if numeric else 86_400.0)
    if v < 0:
        raise ValueError(f"{name} must not be negative, got {d}")
    return v


def time_split(times: Any, train_end: Any, gap: timedelta | float = 0, test: timedelta | float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test): train before ``train_end``, test from ``train_end + gap`` (for ``test``).

    Durations are ``timedelta`` or a number of days (of units, when ``times`` is numeric).
    """
    t = _seconds(times)
    numeric = np.asarray(times).dtype.kind not in "MOUS"
    end = float(_seconds(np.asarray([train_end]))[0])
    start = end + _span(gap, "gap", numeric)
    stop = np.inf if test is None else start + _span(test, "test", numeric)
    train = np.flatnonzero(t < end)
    test_idx = np.flatnonzero((t >= start) & (t < stop))
    return train, test_idx


class PrequentialSplit:
    """Rolling folds: train on ``train``, skip ``gap``, test on ``test``; each fold one ``test`` later.

    The last fold's test period ends at the latest time; ``n_splits`` folds go back from there. With
    ``expanding=True`` every fold trains on all history before its gap. Scikit-learn compatible: pass the
    times as ``groups`` (``cross_val_score(model, X, y, groups=times, cv=PrequentialSplit(...))``) or at
    construction.
    """

    def __init__(self, train: timedelta | float, gap: timedelta | float, test: timedelta | float,
                 n_splits: int = 4, expanding: bool = False, times: Any = None) -> None:
        if n_splits < 1:
            raise ValueError(f"n_splits must be at least 1, got {n_splits}")
        self.train, self.gap, self.test = train, gap, test
        self.n_splits, self.expanding, self.times = n_splits, expanding, times

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        times = groups if groups is not None else self.times
        if times is None:
            raise ValueError("PrequentialSplit needs the event times (groups= or times=)")
        numeric = np.asarray(times).dtype.kind not in "MOUS"
        t = _seconds(times)
        tr, gp, te = (_span(v, n, numeric) for v, n in ((self.train, "train"), (self.gap, "gap"),
                                                         (self.test, "test")))
        last = float(t.max())
        for k in reversed(range(self.n_splits)):
            test_end = last - k * te
            test_start = test_end - te
            train_end = test_start - gp
            train_start = -np.inf if self.expanding else train_end - tr
            test_idx = np.flatnonzero((t > test_start) & (t <= test_end))
            train_idx = np.flatnonzero((t > train_start) & (t <= train_end))
            if len(train_idx) and len(test_idx):
                yield train_idx, test_idx
