"""``Scorecard``: binning → WOE → feature selection → logistic regression → points, with reason codes.

score = offset + Σ points; pd = 1 / (1 + base_odds · 2^((score − base_score) / pdo)); higher score = less risky.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling import selection
from fengkong.modeling._data import binary_target, check_weight, to_polars
from fengkong.modeling.binner import Binner
from fengkong.modeling.logistic import C_GRID, fit_logistic

CV_ROWS = 50_000

FORMAT_VERSION = 1


class Scorecard:
    """A points scorecard following scikit-learn estimator conventions (``fit(X, y)`` returns self)."""

    def __init__(
        self,
        n_prebins: int = 40,
        min_bin_share: float = 0.02,
        max_bins: int | None = None,
        monotonic_trend: str | dict[str, str] = "auto",
        special_values: list[Any] | dict[str, list[Any]] | None = None,
        categorical: list[str] | None = None,
        user_splits: dict[str, list[Any]] | None = None,
        iv_min: float = 0.0,
        corr_max: float = 0.8,
        vif_max: float | None = None,
        stepwise: bool = False,
        stability_column: str | None = None,
        max_psi: float = 0.25,
        C: float | str = 0.1,
        min_bin_bads: float = 0.0,
        auto_categorical: int = 20,
        neutral_small_missing: bool = True,
        base_score: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        points_decimals: int = 2,
        reasons: int = 4,
    ) -> None:
        self.n_prebins = n_prebins
        self.min_bin_share = min_bin_share
        self.max_bins = max_bins
        self.monotonic_trend = monotonic_trend
        self.special_values = special_values
        self.categorical = categorical
        self.user_splits = user_splits
        self.iv_min = iv_min
        self.corr_max = corr_max
        self.vif_max = vif_max
        self.stepwise = stepwise
        self.stability_column = stability_column
        self.max_psi = max_psi
        self.C = C
        self.min_bin_bads = min_bin_bads
        self.auto_categorical = auto_categorical
        self.neutral_small_missing = neutral_small_missing
        self.base_score = base_score
        self.base_odds = base_odds
        self.pdo = pdo
        self.points_decimals = points_decimals
        self.reasons = reasons

    _PARAMS = (
        "n_prebins", "min_bin_share", "max_bins", "monotonic_trend", "special_values", "categorical",
        "user_splits", "iv_min", "corr_max", "vif_max", "stepwise", "stability_column", "max_psi", "C",
        "min_bin_bads", "auto_categorical", "neutral_small_missing",
        "base_score", "base_odds", "pdo",
        "points_decimals", "reasons",
    )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params: Any) -> Scorecard:
        for k, v in params.items():
            if k not in self._PARAMS:
                raise ValueError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    @property
    def factor(self) -> float:
        return self.pdo / np.log(2.0)

    # ---- fit ------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, exclude: list[str] | None = None, sample_weight: Any = None) -> Scorecard:
        """Bin, select and fit. ``exclude``: columns of ``X`` that are not features (ids, dates).

        ``sample_weight`` weights each row in the binning and the logistic regression (the correlation / VIF /
        stepwise screens are unweighted).

        With ``stability_column`` (a time-slice column such as the application month, not a feature itself),
        features whose WOE distribution in any slice drifts from the earliest slice by PSI > ``max_psi`` are
        dropped before the correlation / VIF / stepwise steps.
        """
        df = to_polars(X)
        yy = binary_target(y)
        sw = check_weight(sample_weight, len(yy))
        exclude = list(exclude or [])
        slices = None
        if self.stability_column is not None:
            col = self.stability_column
            if col not in df.columns:
                raise ValueError(f"stability_column {col!r} not found in the data")
            s = df.get_column(col)
            if s.null_count():
                raise ValueError(f"stability_column {col!r} has {s.null_count()} missing values")
            slices = s.rank("dense").to_numpy()
            exclude.append(col)
        self.binner_ = Binner(
            n_prebins=self.n_prebins, min_bin_share=self.min_bin_share, max_bins=self.max_bins,
            monotonic_trend=self.monotonic_trend, special_values=self.special_values,
            categorical=self.categorical, user_splits=self.user_splits, exclude=exclude,
            min_bin_bads=self.min_bin_bads, auto_categorical=self.auto_categorical,
            neutral_small_missing=self.neutral_small_missing,
        ).fit(df, yy, sample_weight=sw)
        iv = self.binner_.iv()
        names = selection.by_iv(iv, self.iv_min) or list(iv)[:1]
        W = self.binner_.fitted_woe_matrix(names)
        self.binner_.release_fit_cache()
        self.stability_psi_: dict[str, float] = {}
        if slices is not None:
            worst = selection.slice_psi(W, slices, discrete=True)
            self.stability_psi_ = {c: float(v) for c, v in zip(names, worst, strict=True)}
            keep = [j for j, v in enumerate(worst) if v <= self.max_psi] or [int(np.argmin(worst))]
            W, names = np.asfortranarray(W[:, keep]), [names[j] for j in keep]
        if self.corr_max is not None:
            kept = selection.by_correlation(W, names, iv, self.corr_max)
            W, names = W[:, [names.index(c) for c in kept]], kept
        if self.vif_max is not None and len(names) > 1:
            kept = selection.by_vif(W, names, self.vif_max)
            W, names = W[:, [names.index(c) for c in kept]], kept
        if self.stepwise and len(names) > 1:
            kept = selection.stepwise(W, yy, names) or names[:1]
            W, names = W[:, [names.index(c) for c in kept]], kept
        # WOE = ln(bad/good share): every coefficient must be positive; drop wrong-signed ones and refit
        start = None
        C = self._cv_C(df, yy, sw, names) if self.C == "cv" else float(self.C)
        self.C_ = C
        while True:
            intercept, coef = fit_logistic(W, yy, C=C, start=start, sample_weight=sw)
            if (coef > 0).all() or len(names) == 1:
                break
            keep = [j for j in range(len(names)) if coef[j] > 0] or [int(np.argmax(coef))]
            W, names = np.asfortranarray(W[:, keep]), [names[j] for j in keep]
            start = np.r_[intercept, coef[keep]]
        self.features_ = names
        self.iv_ = iv
        self.intercept_ = intercept
        self.coef_ = {c: float(v) for c, v in zip(names, coef, strict=True)}
        self._build_points()
        self.classes_ = np.array([0, 1])
        return self

    def _cv_C(self, df: pl.DataFrame, y: np.ndarray, sw: np.ndarray | None, names: list[str]) -> float:
        """``C`` by 5-fold CV of the whole binning + logistic step (bins refitted per fold, so the held-out
        WOE is honest); the mean held-out AUC over the grid picks it (ties: the smaller C)."""
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold

        rows = np.arange(len(y))
        if len(rows) > CV_ROWS:  # the penalty per row is what matters: tune on a sample, rescale
            rows = np.sort(np.random.default_rng(0).choice(len(y), CV_ROWS, replace=False))
        scale = len(y) / len(rows)
        yi = y[rows].astype(np.int8)
        w = np.ones(len(rows)) if sw is None else sw[rows]
        if min(int(yi.sum()), int(len(yi) - yi.sum())) < 5:
            return 0.1
        sub = df.select(names)[rows]
        params = self.binner_.get_params()
        params["exclude"] = None
        score = np.zeros(len(C_GRID))
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(rows, yi):
            b = Binner(**params).fit(sub[tr], yi[tr], sample_weight=w[tr])
            Wtr, Wte = b.fitted_woe_matrix(names), b.woe_matrix(sub[te], names)
            for g, C in enumerate(C_GRID):
                b0, coef = fit_logistic(Wtr, yi[tr], C=C / scale, sample_weight=w[tr])
                score[g] += roc_auc_score(yi[te], Wte @ coef + b0, sample_weight=w[te])
        return float(C_GRID[int(np.argmax(np.round(score / 5, 4)))])

    def _build_points(self) -> None:
        f = self.factor
        d = self.points_decimals
        self.offset_ = round(self.base_score - f * np.log(self.base_odds) - f * self.intercept_, d)
        self.points_: dict[str, np.ndarray] = {}
        for c in self.features_:
            fb = self.binner_.bins_[c]
            pts = np.round(-f * self.coef_[c] * np.asarray(fb.woe), d) + 0.0  # + 0.0: no "-0.0" points
            default = round(-f * self.coef_[c] * fb.default_woe, d) + 0.0
            self.points_[c] = np.append(pts, default)  # last entry: unseen category / neutral

    # ---- scoring --------------------------------------------------------------------------------
    def _bins(self, df: pl.DataFrame) -> dict[str, np.ndarray]:
        missing = [c for c in self.features_ if c not in df.columns]
        if missing:
            raise ValueError(f"columns missing from the data: {missing}")
        return {c: self.binner_.bins_[c].bin_index(df.get_column(c)) for c in self.features_}

    def points(self, X: Any) -> pl.DataFrame:
        """Points of every characteristic per row (bin index −1 = neutral / unseen)."""
        df = to_polars(X)
        return pl.DataFrame({c: self.points_[c][idx] for c, idx in self._bins(df).items()})

    def predict_score(self, X: Any) -> np.ndarray:
        """Total score per row: offset + Σ points (summed in characteristic order)."""
        df = to_polars(X)
        total = np.full(df.height, self.offset_, dtype=np.float64)
        for c, idx in self._bins(df).items():
            total = total + self.points_[c][idx]
        return total

    def score_to_pd(self, score: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + self.base_odds * np.power(2.0, (np.asarray(score) - self.base_score) / self.pdo))

    def predict_proba(self, X: Any) -> np.ndarray:
        pd_ = self.score_to_pd(self.predict_score(X))
        return np.column_stack([1 - pd_, pd_])

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int8)

    def reason_codes(self, X: Any, n: int | None = None) -> pl.DataFrame:
        """Top ``n`` characteristics costing the most points versus their best bin, per row.

        Columns ``reason_1..n`` (characteristic name, upper case) and ``lost_1..n`` (points lost);
        characteristics losing nothing are not listed.
        """
        n = self.reasons if n is None else n
        df = to_polars(X)
        bins = self._bins(df)
        names = np.array([c.upper() for c in self.features_], dtype=object)
        lost = np.column_stack([self.points_[c].max() - self.points_[c][bins[c]] for c in self.features_])
        order = np.argsort(-lost, axis=1, kind="stable")[:, :n]
        top = np.take_along_axis(lost, order, axis=1)
        out: dict[str, Any] = {}
        for r in range(order.shape[1]):
            has = top[:, r] > 0
            out[f"reason_{r + 1}"] = pl.Series(names[order[:, r]].astype(str), dtype=pl.String).set(
                pl.Series(~has), None
            ) if (~has).any() else pl.Series(names[order[:, r]].astype(str), dtype=pl.String)
            out[f"lost_{r + 1}"] = np.where(has, top[:, r], 0.0)
        return pl.DataFrame(out)

    # ---- tables -----------------------------------------------------------------------------------
    def points_table(self) -> pl.DataFrame:
        """One row per characteristic bin: label, count, bad rate, WOE and points."""
        frames = []
        for c in self.features_:
            t = self.binner_.table(c).with_columns(
                pl.lit(c).alias("characteristic"),
                pl.Series("points", self.points_[c][:-1]),
            )
            frames.append(t.select("characteristic", "bin", "label", "count", "bad_rate", "woe", "points"))
        return pl.concat(frames)

    def summary_table(self) -> pl.DataFrame:
        """Every candidate feature: IV, whether selected, coefficient (and the time-slice PSI if used)."""
        cols: dict[str, Any] = {
            "feature": list(self.iv_),
            "iv": list(self.iv_.values()),
            "selected": [c in self.coef_ for c in self.iv_],
            "coef": [self.coef_.get(c) for c in self.iv_],
            "n_bins": [self.binner_.bins_[c].n_regular for c in self.iv_],
            "trend": [self.binner_.bins_[c].trend for c in self.iv_],
        }
        psi = getattr(self, "stability_psi_", None)
        if psi:
            cols["slice_psi"] = pl.Series([psi.get(c) for c in self.iv_], dtype=pl.Float64)
        return pl.DataFrame(cols)

    # ---- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "fengkong.scorecard",
            "version": FORMAT_VERSION,
            "params": self.get_params(),
            "binner": self.binner_.to_dict(),
            "features": self.features_,
            "iv": self.iv_,
            "intercept": self.intercept_,
            "coef": self.coef_,
            "stability_psi": self.stability_psi_,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scorecard:
        if d.get("format") != "fengkong.scorecard":
            raise ValueError("not a fengkong scorecard model file")
        self = cls(**d["params"])
        self.binner_ = Binner.from_dict(d["binner"])
        self.features_ = d["features"]
        self.iv_ = d["iv"]
        self.intercept_ = d["intercept"]
        self.coef_ = d["coef"]
        self.stability_psi_ = d.get("stability_psi", {})
        self.classes_ = np.array([0, 1])
        self._build_points()
        return self

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: str | Path) -> Scorecard:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
