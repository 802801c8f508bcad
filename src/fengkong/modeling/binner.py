"""``Binner``: a scikit-learn style transformer fitting optimal bins for many columns and mapping them to WOE."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling._data import binary_target, check_weight, to_polars
from fengkong.modeling.binning import FeatureBinning, fit_categorical, fit_numeric, is_numeric


class Binner:
    """Optimal binning + WOE for every feature of a frame.

    Parameters are plain constructor arguments (scikit-learn convention); fitted state ends in ``_``.
    ``special_values`` is a list applied to all numeric columns or a ``{column: [values]}`` dict;
    ``user_splits`` fixes bins by hand: ``{numeric column: [split, ...], categorical column: [[cat, ...], ...]}``.
    """

    def __init__(
        self,
        n_prebins: int = 40,
        min_bin_share: float = 0.02,
        max_bins: int | None = None,
        monotonic_trend: str | dict[str, str] = "auto",
        special_values: list[Any] | dict[str, list[Any]] | None = None,
        rare_share: float = 0.01,
        categorical: list[str] | None = None,
        user_splits: dict[str, list[Any]] | None = None,
        exclude: list[str] | None = None,
        sample_size: int = 50_000,
        min_bin_bads: float = 0.0,
        auto_categorical: int = 20,
        neutral_small_missing: bool = True,
    ) -> None:
        self.n_prebins = n_prebins
        self.min_bin_share = min_bin_share
        self.max_bins = max_bins
        self.monotonic_trend = monotonic_trend
        self.special_values = special_values
        self.rare_share = rare_share
        self.categorical = categorical
        self.user_splits = user_splits
        self.exclude = exclude
        self.sample_size = sample_size
        self.min_bin_bads = min_bin_bads
        self.auto_categorical = auto_categorical
        self.neutral_small_missing = neutral_small_missing

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "n_prebins", "min_bin_share", "max_bins", "monotonic_trend", "special_values",
            "rare_share", "categorical", "user_splits", "exclude", "sample_size", "min_bin_bads",
            "auto_categorical", "neutral_small_missing")}

    def set_params(self, **params: Any) -> Binner:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _specials(self, col: str) -> list[Any]:
        sv = self.special_values
        if sv is None:
            return []
        if isinstance(sv, dict):
            return list(sv.get(col, []))
        return list(sv)

    def _trend(self, col: str) -> str:
        t = self.monotonic_trend
        return t.get(col, "auto") if isinstance(t, dict) else t

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Binner:
        """Fit the bins of every column; ``sample_weight`` weights each row's count (bins, WOE, IV)."""
        df = to_polars(X)
        yy = binary_target(y).astype(np.float64)
        if len(yy) != df.height:
            raise ValueError(f"X has {df.height} rows but y has {len(yy)}")
        w = check_weight(sample_weight, len(yy))
        cats = set(self.categorical or [])
        excl = set(self.exclude or [])
        user = self.user_splits or {}
        self.bins_: dict[str, FeatureBinning] = {}
        # one row sample (sorted positions, one gather) gives every numeric column its pre-bin quantiles
        sample_df = df
        if df.height > self.sample_size:
            rows = np.sort(np.random.default_rng(0).integers(0, df.height, self.sample_size))
            sample_df = df[rows]
        # bins adapted to the bad count: every bin is expected to hold at least ``min_bin_bads`` bads
        n_bad = float(yy.sum() if w is None else (yy * w).sum())
        share = self.min_bin_share
        if self.min_bin_bads > 0 and n_bad > 0:
            share = min(max(share, self.min_bin_bads / n_bad), 0.2)
        self.min_bin_share_used_ = share
        self.auto_categorical_: list[str] = []
        for col in df.columns:
            if col in excl:
                continue
            s = df.get_column(col)
            if col not in cats and col not in user and is_numeric(s) and _coded(s, self.auto_categorical):
                cats.add(col)
                self.auto_categorical_.append(col)
            common = dict(n_prebins=self.n_prebins, min_bin_share=share, max_bins=self.max_bins,
                          neutral_missing=self.neutral_small_missing, weight=w)
            if is_numeric(s) and col not in cats:
                self.bins_[col] = fit_numeric(
                    col, s, yy, special_values=self._specials(col), trend=self._trend(col),
                    user_splits=user.get(col), sample=sample_df.get_column(col), **common,
                )
            else:
                self.bins_[col] = fit_categorical(
                    col, s, yy, special_values=[v for v in self._specials(col)], trend=self._trend(col),
                    rare_share=self.rare_share, user_groups=user.get(col), **common,
                )
        self.feature_names_in_ = list(self.bins_)
        return self

    def transform(self, X: Any) -> pl.DataFrame:
        """WOE frame (float32) with the fitted columns."""
        df = to_polars(X)
        missing = [c for c in self.feature_names_in_ if c not in df.columns]
        if missing:
            raise ValueError(f"columns missing from the data: {missing}")
        return pl.DataFrame({c: self.bins_[c].transform(df.get_column(c)) for c in self.feature_names_in_})

    def fit_transform(self, X: Any, y: Any) -> pl.DataFrame:
        return self.fit(X, y).transform(X)

    def fitted_woe_matrix(self, columns: list[str]) -> np.ndarray:
        """WOE of the training rows for ``columns``, from the bin indices kept during ``fit``."""
        n = len(next(iter(self.bins_.values()))._fit_idx)
        out = np.empty((n, len(columns)), dtype=np.float32, order="F")
        for j, c in enumerate(columns):
            fb = self.bins_[c]
            table = np.append(np.asarray(fb.woe, dtype=np.float32), np.float32(fb.default_woe))
            out[:, j] = table[fb._fit_idx]
        return out

    def release_fit_cache(self) -> None:
        for fb in self.bins_.values():
            fb.__dict__.pop("_fit_idx", None)

    def woe_matrix(self, X: Any, columns: list[str]) -> np.ndarray:
        """WOE of ``columns`` as a float32 (rows, columns) array."""
        df = to_polars(X)
        out = np.empty((df.height, len(columns)), dtype=np.float32)
        for j, c in enumerate(columns):
            out[:, j] = self.bins_[c].transform(df.get_column(c))
        return out

    def iv(self) -> dict[str, float]:
        """Information value per feature, largest first."""
        return dict(sorted(((c, b.iv) for c, b in self.bins_.items()), key=lambda kv: -kv[1]))

    def table(self, col: str) -> pl.DataFrame:
        return self.bins_[col].table()

    # ---- hand edits -----------------------------------------------------------------------------
    def merge_bins(self, col: str, i: int) -> dict[str, list[Any]]:
        """User splits with bins ``i`` and ``i+1`` of ``col`` merged (pass to ``user_splits`` and refit)."""
        fb = self.bins_[col]
        user = dict(self.user_splits or {})
        if fb.kind == "numeric":
            sp = list(fb.splits)
            if not 0 <= i < len(sp):
                raise IndexError(f"{col}: no regular bins {i} and {i + 1} to merge")
            del sp[i]
            user[col] = sp
        else:
            gs = [list(g) for g in fb.groups]
            if not 0 <= i < len(gs) - 1:
                raise IndexError(f"{col}: no regular bins {i} and {i + 1} to merge")
            gs[i] = gs[i] + gs.pop(i + 1)
            user[col] = gs
        return user

    def split_bin(self, col: str, at: float) -> dict[str, list[Any]]:
        """User splits of numeric ``col`` with an extra split at ``at``."""
        fb = self.bins_[col]
        if fb.kind != "numeric":
            raise ValueError(f"{col} is categorical; pass category groups in user_splits instead")
        user = dict(self.user_splits or {})
        user[col] = sorted({*fb.splits, float(at)})
        return user

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.get_params(), "bins": {c: b.to_dict() for c, b in self.bins_.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Binner:
        self = cls(**d["params"])
        self.bins_ = {c: FeatureBinning.from_dict(b) for c, b in d["bins"].items()}
        self.feature_names_in_ = list(self.bins_)
        return self


def _coded(s: pl.Series, max_levels: int) -> bool:
    """A numeric column holding a few integer codes (3..``max_levels`` distinct whole numbers): a category."""
    if max_levels < 3 or s.dtype == pl.Boolean:
        return False
    v = s.drop_nulls()
    if s.dtype.is_float():
        v = v.filter(~v.is_nan())
        if v.len() == 0 or not bool((v == v.round(0)).all()):
            return False
    return 3 <= v.n_unique() <= max_levels
