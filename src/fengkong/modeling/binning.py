"""Supervised optimal binning of one feature: quantile pre-bins → exact optimiser → binning table.

Stages (each vectorised, no per-row Python): preprocess (missing / special masks), pre-bin
(quantile edges + ``np.bincount``), optimise (:mod:`fengkong.modeling.optimal`), table (WOE / IV).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling.optimal import iv_values, optimal_groups, woe_values

MISSING = "Missing"
RARE = "__rare__"


@dataclass
class FeatureBinning:
    """The fitted bins of one feature: a small serialisable object (``to_dict`` / ``from_dict``).

    Numeric bins are ``[splits[i-1], splits[i])``; categorical bins are lists of categories.
    ``special`` maps each special value to its own bin. WOE = ln(bad share / good share).
    """

    name: str
    kind: str  # "numeric" | "categorical"
    splits: list[float] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)
    special_values: list[Any] = field(default_factory=list)
    trend: str = "auto"
    # statistics, one entry per bin in table order: regular bins, then specials, then missing
    labels: list[str] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    bad: list[int] = field(default_factory=list)
    woe: list[float] = field(default_factory=list)
    iv: float = 0.0
    default_woe: float = 0.0  # neutral WOE of categories never seen in training (when there is no rare group)
    value_kind: str = "string"  # categorical only: "numeric" when the column held numbers at fit time

    # ---- layout -------------------------------------------------------------------------------
    @property
    def n_regular(self) -> int:
        return len(self.splits) + 1 if self.kind == "numeric" else len(self.groups)

    @property
    def missing_index(self) -> int:
        return self.n_regular + len(self.special_values)

    def bin_index(self, values: pl.Series | np.ndarray) -> np.ndarray:
        """Bin number of every value (regular bins, then one per special value, then missing)."""
        if self.kind == "numeric":
            x = _as_float(values)
            idx = np.searchsorted(np.asarray(self.splits, dtype=np.float64), x, side="right")
            miss = np.isnan(x)
            for s_i, s in enumerate(self.special_values):
                idx[x == float(s)] = self.n_regular + s_i
        else:
            s = category_text(values, parse_text=self.value_kind == "numeric")
            mapping: dict[str, int] = {}
            for g_i, g in enumerate(self.groups):
                for c in g:
                    mapping[c] = g_i
            for s_i, sv in enumerate(self.special_values):
                mapping[category_key(sv)] = self.n_regular + s_i
            default = self._default_bin()
            idx = s.replace_strict(mapping, default=default, return_dtype=pl.Int64).to_numpy().copy()
            miss = s.is_null().to_numpy()
        idx[miss] = self.missing_index
        return idx

    def _default_bin(self) -> int:
        for g_i, g in enumerate(self.groups):
            if RARE in g:
                return g_i
        return -1  # unseen and no rare group → neutral WOE (handled in transform)

    def transform(self, values: pl.Series | np.ndarray) -> np.ndarray:
        """WOE of every value (float32)."""
        idx = self.bin_index(values)
        table = np.append(np.asarray(self.woe, dtype=np.float32), np.float32(self.default_woe))
        return table[idx]  # idx == -1 picks the default WOE

    # ---- statistics ---------------------------------------------------------------------------
    def _fill_stats(self, idx: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> None:
        nb = self.missing_index + 1
        idx = np.where(idx < 0, nb, idx)
        yw = y if w is None else y * w
        n = np.bincount(idx, weights=w, minlength=nb + 1)[:nb]
        b = np.bincount(idx, weights=yw, minlength=nb + 1)[:nb]
        self._fill_counts(n, b, float(yw.sum()), float(len(y) if w is None else w.sum()))

    def _fill_counts(self, n: np.ndarray, b: np.ndarray, B: float | None = None, N: float | None = None) -> None:
        """Statistics from per-bin counts; ``B``/``N`` default to the totals of these bins."""
        n = np.asarray(n, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        B = float(b.sum()) if B is None else B
        N = float(n.sum()) if N is None else N
        G = N - B
        w = woe_values(b, n - b, B, G)
        w[n == 0] = 0.0  # a bin never seen in training (e.g. no missing values) is neutral
        iv = iv_values(b, n - b, B, G)
        iv[n == 0] = 0.0
        self.count = [round(v) for v in n]  # weighted counts (sample_weight) are rounded
        self.bad = [round(v) for v in b]
        self.woe = [float(v) for v in w]
        self.iv = float(iv.sum())
        self.labels = self._labels()

    def _neutral_small_missing(self, min_count: float) -> None:
        """A missing bin smaller than the minimum bin size gets no WOE of its own: it scores neutral (0).

        Its rows still count in the table; only its WOE (and IV contribution) is the population's.
        """
        m = self.missing_index
        if 0 < self.count[m] < min_count:
            n = np.asarray(self.count, dtype=np.float64)
            b = np.asarray(self.bad, dtype=np.float64)
            B, G = b.sum(), n.sum() - b.sum()
            self.woe[m] = 0.0
            iv = iv_values(b, n - b, B, G)
            iv[n == 0] = 0.0
            iv[m] = 0.0
            self.iv = float(iv.sum())

    def _labels(self) -> list[str]:
        out: list[str] = []
        if self.kind == "numeric":
            edges = [-np.inf, *self.splits, np.inf]
            for lo, hi in itertools.pairwise(edges):
                out.append(f"[{_fmt(lo)}, {_fmt(hi)})")
        else:
            for g in self.groups:
                shown = ["(rare/unseen)" if c == RARE else c for c in g]
                out.append(", ".join(shown[:6]) + (f" … (+{len(shown) - 6})" if len(shown) > 6 else ""))
        out += [f"special {s}" for s in self.special_values]
        out.append(MISSING)
        return out

    def table(self) -> pl.DataFrame:
        """The binning table: bin, count, share, goods, bads, bad rate, WOE, IV."""
        n = np.asarray(self.count, dtype=np.float64)
        b = np.asarray(self.bad, dtype=np.float64)
        B, N = b.sum(), n.sum()
        ivs = iv_values(b, n - b, B, N - B)
        ivs[n == 0] = 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(n > 0, b / np.maximum(n, 1), np.nan)
        return pl.DataFrame(
            {
                "bin": list(range(len(n))),
                "label": self.labels,
                "count": n.astype(np.int64),
                "share": n / max(N, 1),
                "good": (n - b).astype(np.int64),
                "bad": b.astype(np.int64),
                "bad_rate": rate,
                "woe": np.asarray(self.woe),
                "iv": ivs,
            }
        )

    # ---- (de)serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["splits"] = [float(v) for v in self.splits]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureBinning:
        return cls(**d)


def category_key(v: Any) -> str:
    """One category value as text, the way :func:`category_text` renders a column (2.0 → "2")."""
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating) and float(v).is_integer() and abs(v) < 2**53:
        return str(int(v))
    if isinstance(v, np.integer):
        return str(int(v))
    return str(v)


def category_text(values: pl.Series | np.ndarray | list[Any], parse_text: bool = False) -> pl.Series:
    """Categories as text, the same at fit and at score time whatever the column's dtype.

    Integral floats render like ints (2 and 2.0 → "2"), NaN counts as missing. With ``parse_text`` (a column
    that held numbers at fit time arrives as text) numeric-looking text is normalised the same way.
    """
    s = values if isinstance(values, pl.Series) else pl.Series(values)
    if s.dtype == pl.Boolean or (s.dtype == pl.String and not parse_text):
        return s.cast(pl.String)
    if s.dtype.is_integer():
        return s.cast(pl.String)
    if s.dtype.is_numeric():
        v = pl.col("v").cast(pl.Float64)
        integral = (v == v.round(0)) & (v.abs() < 2**53)
        expr = (pl.when(v.is_nan()).then(None)
                .when(integral).then(v.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(v.cast(pl.String)))
        return s.to_frame("v").select(expr.alias(s.name)).to_series()
    if s.dtype == pl.String:  # parse_text: "2.0" → "2", anything that is not a number stays as it is
        num = category_text(s.cast(pl.Float64, strict=False))
        return pl.select(pl.when(num.is_not_null()).then(num).otherwise(s).alias(s.name)).to_series()
    return s.cast(pl.String)


def _fmt(v: float) -> str:
    if np.isinf(v):
        return "-inf" if v < 0 else "inf"
    return f"{v:.6g}"


def _as_float(values: pl.Series | np.ndarray) -> np.ndarray:
    if isinstance(values, pl.Series):
        if values.dtype.is_numeric():
            return values.to_numpy().astype(np.float64, copy=False)  # nulls come back as NaN
        return values.cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy()
    return np.asarray(values, dtype=np.float64)


def is_numeric(s: pl.Series) -> bool:
    return s.dtype.is_numeric() or s.dtype == pl.Boolean


def fit_numeric(
    name: str,
    values: pl.Series | np.ndarray,
    y: np.ndarray,
    *,
    special_values: list[Any] = (),  # type: ignore[assignment]
    n_prebins: int = 40,
    min_bin_share: float = 0.02,
    max_bins: int | None = None,
    trend: str = "auto",
    user_splits: list[float] | None = None,
    sample: pl.Series | np.ndarray | None = None,
    neutral_missing: bool = True,
    weight: np.ndarray | None = None,
) -> FeatureBinning:
    """Fit optimal bins of a numeric feature (or just statistics for ``user_splits``).

    Pre-bin edges are quantiles of ``sample`` (a row sample of the same column; default all values).
    """
    x = _as_float(values)
    n_all = len(x) if weight is None else float(weight.sum())
    yw = y if weight is None else y * weight
    specials = [float(s) for s in special_values]
    fb = FeatureBinning(name=name, kind="numeric", special_values=list(special_values), trend=trend)
    # pre-bin edges: quantiles of the regular (non-missing, non-special) sampled values
    sample = x if sample is None else _as_float(sample)
    ok = ~np.isnan(sample)
    for s in specials:
        ok &= sample != s
    sample = np.sort(sample[ok])
    if user_splits is not None or len(sample) == 0:
        fb.splits = sorted(float(v) for v in user_splits or [])
        fb.trend = "user" if user_splits is not None else fb.trend
        idx = fb.bin_index(x)
        fb._fill_stats(idx, y, weight)
        fb._fit_idx = idx
        return fb
    distinct = sample[np.r_[True, sample[1:] != sample[:-1]]]
    if len(distinct) <= n_prebins:
        edges = distinct[1:]
    else:
        pos = np.ceil(np.linspace(0, 1, n_prebins + 1)[1:-1] * len(sample)).astype(np.int64) - 1
        edges = np.unique(sample[pos])
        edges = edges[edges > distinct[0]]
    k = len(edges) + 1
    S = len(specials)
    code = np.searchsorted(edges, x, side="right")  # NaN lands in the last regular pre-bin, fixed below
    for s_i, s in enumerate(specials):
        code[x == s] = k + s_i
    code[np.isnan(x)] = k + S
    cnt = np.bincount(code, weights=weight, minlength=k + S + 1).astype(np.float64)
    bad = np.bincount(code, weights=yw, minlength=k + S + 1)
    B = float(yw.sum())
    G = float(n_all) - B
    if trend in ("cv", "auto-cv"):
        cands = CV_TRENDS
        if trend == "auto-cv":  # the best monotone and the best bent shape by IV; CV picks between the two
            best = {t: iv_values(*_grouped(bad[:k], cnt[:k], optimal_groups(
                bad[:k], cnt[:k] - bad[:k], B, G, min_count=min_bin_share * n_all, max_bins=max_bins,
                trend=t)[0]), B, G).sum() for t in CV_TRENDS}
            cands = (max(CV_TRENDS[:2], key=best.get), max(CV_TRENDS[2:], key=best.get))
        trend = cv_trend(code, k, y, weight, min_bin_share, max_bins, trends=cands)
    cuts, used = optimal_groups(
        bad[:k], cnt[:k] - bad[:k], B, G, min_count=min_bin_share * n_all, max_bins=max_bins, trend=trend
    )
    fb.splits = [float(edges[c - 1]) for c in cuts[1:-1]]
    fb.trend = used
    # final bin = group of the pre-bin: no second search over the data
    n_groups = len(cuts) - 1
    group_of = np.concatenate([np.repeat(np.arange(n_groups), np.diff(cuts)), n_groups + np.arange(S + 1)])
    fb._fill_counts(np.bincount(group_of, weights=cnt), np.bincount(group_of, weights=bad))
    if neutral_missing:
        fb._neutral_small_missing(min_bin_share * n_all)
    fb._fit_idx = group_of.astype(np.int16)[code]  # small dtype: the gather writes 4x less memory
    return fb


def fit_categorical(
    name: str,
    values: pl.Series,
    y: np.ndarray,
    *,
    special_values: list[Any] = (),  # type: ignore[assignment]
    n_prebins: int = 40,
    min_bin_share: float = 0.02,
    max_bins: int | None = None,
    trend: str = "auto",
    rare_share: float = 0.01,
    user_groups: list[list[str]] | None = None,
    neutral_missing: bool = True,
    weight: np.ndarray | None = None,
) -> FeatureBinning:
    """Fit optimal category groups: rare categories pooled, the rest ordered by bad rate and grouped.

    Categories rarer than ``rare_share`` share one group, which also takes categories never seen in training;
    with no rare category there is no such group and unseen values get the neutral WOE 0.
    """
    raw = values if isinstance(values, pl.Series) else pl.Series(name, values)
    kind = "numeric" if raw.dtype.is_numeric() else "string"
    s = category_text(raw)
    specials = [category_key(v) for v in special_values]
    fb = FeatureBinning(name=name, kind="categorical", special_values=list(specials), value_kind=kind)
    if user_groups is not None:
        fb.groups = [[category_key(c) for c in g] for g in user_groups]
        fb.trend = "user"
        idx = fb.bin_index(s)
        fb._fill_stats(idx, y, weight)
        fb._fit_idx = idx
        return fb
    w = np.ones(len(y)) if weight is None else weight
    stats = (
        pl.DataFrame({"c": s, "y": y * w, "w": w})
        .filter(pl.col("c").is_not_null() & ~pl.col("c").is_in(specials))
        .group_by("c")
        .agg(n=pl.col("w").sum(), b=pl.col("y").sum())
        .sort("c")  # group_by order varies between runs; ties in bad rate must not
    )
    N = float(w.sum())
    rare = stats.filter(pl.col("n") < rare_share * N)
    common = stats.filter(pl.col("n") >= rare_share * N)
    cats: list[list[str]] = [[c] for c in common["c"].to_list()]
    n = common["n"].to_numpy().astype(np.float64)
    b = common["b"].to_numpy().astype(np.float64)
    if rare.height:
        # the rare pool also receives categories never seen in training; an empty pool is left out (its
        # smoothed bad rate of 0.5 would rank it, and so unseen values, among the riskiest categories)
        cats.append([*rare["c"].to_list(), RARE])
        n = np.append(n, float(rare["n"].sum()))
        b = np.append(b, float(rare["b"].sum()))
    rate = (b + 0.5) / (n + 1.0)
    order = np.argsort(rate, kind="stable")
    cats = [cats[i] for i in order]
    n, b = n[order], b[order]
    if len(cats) > n_prebins:  # pre-group neighbours (in bad-rate order) into equal-count pre-bins
        pos = np.minimum((np.cumsum(n) - n / 2) / n.sum() * n_prebins, n_prebins - 1).astype(int)
        merged: list[list[str]] = [[] for _ in range(n_prebins)]
        for ci, p in enumerate(pos):
            merged[p].extend(cats[ci])
        keep = [i for i in range(n_prebins) if merged[i]]
        n = np.bincount(pos, weights=n, minlength=n_prebins)[keep]
        b = np.bincount(pos, weights=b, minlength=n_prebins)[keep]
        cats = [merged[i] for i in keep]
    B = float((y * w).sum())
    G = float(N) - B
    # categories are sorted by bad rate, so an ascending trend is the natural constraint
    cuts, _ = optimal_groups(
        b, n - b, B, G, min_count=min_bin_share * N, max_bins=max_bins,
        trend="ascending" if trend in ("auto", "ascending", "descending") else trend,
    )
    fb.groups = [[c for grp in cats[a:z] for c in grp] for a, z in itertools.pairwise(cuts)]
    fb.trend = "by bad rate"
    idx = fb.bin_index(s)
    fb._fill_stats(idx, y, weight)
    if neutral_missing:
        fb._neutral_small_missing(min_bin_share * N)
    fb._fit_idx = idx
    return fb


CV_TRENDS = ("ascending", "descending", "peak", "valley")


def _grouped(bad: np.ndarray, cnt: np.ndarray, cuts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(bads, goods) per group of pre-bins."""
    g = np.repeat(np.arange(len(cuts) - 1), np.diff(cuts))
    gb = np.bincount(g, weights=bad)
    return gb, np.bincount(g, weights=cnt) - gb


def cv_trend(code: np.ndarray, k: int, y: np.ndarray, weight: np.ndarray | None, min_bin_share: float,
             max_bins: int | None, folds: int = 5, trends: tuple[str, ...] = CV_TRENDS) -> str:
    """The trend whose bins, fitted on four fifths of the rows, best predict the other fifth.

    Works on pre-bin counts only (``code`` < ``k`` are the regular pre-bins): for each fold and trend the
    optimiser groups the training folds' pre-bins, and the held-out rows are scored by the Bernoulli
    log-likelihood of their bins' (smoothed) training bad rates. Ties keep the earlier trend of
    ascending, descending, peak, valley.
    """
    w = np.ones(len(y)) if weight is None else weight
    fold = np.random.default_rng(0).integers(0, folds, len(y))
    reg = code < k
    key = fold[reg] * k + code[reg]
    n = np.bincount(key, weights=w[reg], minlength=folds * k).reshape(folds, k)
    b = np.bincount(key, weights=(y * w)[reg], minlength=folds * k).reshape(folds, k)
    score = np.zeros(len(trends))
    for f in range(folds):
        n_tr, b_tr = n.sum(0) - n[f], b.sum(0) - b[f]
        B, N = b_tr.sum(), n_tr.sum()
        if B <= 0 or B >= N:
            continue
        for t_i, t in enumerate(trends):
            cuts, _ = optimal_groups(b_tr, n_tr - b_tr, B, N - B, min_count=min_bin_share * N,
                                     max_bins=max_bins, trend=t)
            g = np.repeat(np.arange(len(cuts) - 1), np.diff(cuts))
            gn, gb = np.bincount(g, weights=n_tr), np.bincount(g, weights=b_tr)
            p = (gb + 0.5) / (gn + 1.0)
            hn, hb = np.bincount(g, weights=n[f]), np.bincount(g, weights=b[f])
            score[t_i] += float(np.sum(hb * np.log(p) + (hn - hb) * np.log1p(-p)))
    return trends[int(np.argmax(score))]
