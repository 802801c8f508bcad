"""``GBMModel``: LightGBM with monotone constraints, a calibrated PD (Platt scaling folded into the trees,
so the saved booster itself predicts the calibrated PD) and per-decision reason codes from SHAP values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin

from fengkong.modeling._data import binary_target, to_polars
from fengkong.modeling.binning import category_text, fit_numeric, is_numeric


class GBMModel(ClassifierMixin, BaseEstimator):
    """Gradient boosting PD model: a scikit-learn classifier (``get_params`` / ``set_params``, ``clone``,
    ``GridSearchCV`` with ``scoring="roc_auc"``).

    ``monotone``: ``None`` (default: no constraints, the right choice for fraud models, whose signal lives in
    interactions such as amount versus the card's average), ``"auto"`` (each numeric feature gets the
    direction of its optimal binning's monotonic trend, 0 for U-shapes and categoricals: for credit models
    that must be explainable) or ``{feature: -1/0/1}`` (+1 = PD rises with the value).

    ``calibration_share`` of the rows is a validation slice: the latest rows when ``fit`` gets ``times``
    (out of time), otherwise a stratified random share. Boosting stops early when the validation log-loss has
    not improved for ``early_stopping_rounds``; the Platt calibration is fitted on that slice; with ``refit``
    (default) the final trees are then grown on all rows with the number of rounds found, so scarce
    frauds in the slice are not lost to the model.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        monotone: str | dict[str, int] | None = None,
        calibration_share: float = 0.2,
        early_stopping_rounds: int | None = 50,
        refit: bool = True,
        reasons: int = 4,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.monotone = monotone
        self.calibration_share = calibration_share
        self.early_stopping_rounds = early_stopping_rounds
        self.refit = refit
        self.reasons = reasons
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _matrix(self, df: pl.DataFrame) -> np.ndarray:
        missing = [c for c in self.features_ if c not in df.columns]
        if missing:
            raise ValueError(f"columns missing from the data: {missing}")
        cols = []
        for c in self.features_:
            s = df.get_column(c)
            if c in self.categories_:
                m = {v: float(i) for i, v in enumerate(self.categories_[c])}
                cols.append(category_text(s).replace_strict(m, default=None, return_dtype=pl.Float64)
                            .fill_null(np.nan).to_numpy())
            else:
                cols.append(s.cast(pl.Float64, strict=False).fill_null(np.nan).to_numpy())
        return np.column_stack(cols).astype(np.float64)

    def fit(self, X: Any, y: Any, sample_weight: Any = None, times: Any = None) -> GBMModel:
        """Fit on ``X``/``y``; ``sample_weight`` (one non-negative weight per row) and ``times`` (event times,
        for the out-of-time validation slice) are optional."""
        import lightgbm as lgb

        df = to_polars(X)
        yy = binary_target(y)
        w = np.ones(len(yy)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
        if len(w) != len(yy) or (w < 0).any() or not np.isfinite(w).all():
            raise ValueError(f"sample_weight must be {len(yy)} finite non-negative numbers")
        self.features_ = list(df.columns)
        self.categories_ = {
            c: sorted(category_text(df.get_column(c)).drop_nulls().unique().to_list())
            for c in self.features_ if not is_numeric(df.get_column(c))
        }
        M = self._matrix(df)
        mono = [0] * len(self.features_)
        if isinstance(self.monotone, dict):
            mono = [int(self.monotone.get(c, 0)) for c in self.features_]
        elif self.monotone == "auto":
            for j, c in enumerate(self.features_):
                if c in self.categories_:
                    continue
                trend = fit_numeric(c, M[:, j], yy.astype(np.float64), trend="auto").trend
                mono[j] = {"ascending": 1, "descending": -1}.get(trend, 0)
        self.monotone_constraints_ = dict(zip(self.features_, mono, strict=True))
        is_cal = _validation_rows(yy, times, self.calibration_share, self.random_state)
        params = {
            "objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples, "monotone_constraints": mono,
            "monotone_constraints_method": "advanced", "num_threads": self.n_jobs, "verbose": -1,
            "seed": self.random_state, "deterministic": True,
        }
        cat_idx = [j for j, c in enumerate(self.features_) if c in self.categories_]
        cat = cat_idx or "auto"
        ds = lgb.Dataset(M[~is_cal], label=yy[~is_cal], weight=w[~is_cal], feature_name=self.features_,
                         categorical_feature=cat, free_raw_data=False)
        dv = lgb.Dataset(M[is_cal], label=yy[is_cal], weight=w[is_cal], reference=ds)
        callbacks = []
        if self.early_stopping_rounds:
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        booster = lgb.train({**params, "metric": "binary_logloss"}, ds, num_boost_round=self.n_estimators,
                            valid_sets=[dv], callbacks=callbacks)
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        # Platt scaling on the held-out rows: pd = sigmoid(a · raw + b)
        from fengkong.modeling.logistic import fit_logistic

        raw = booster.predict(M[is_cal], raw_score=True, num_iteration=self.best_iteration_)
        b, a = fit_logistic(raw.reshape(-1, 1).astype(np.float32), yy[is_cal], C=1e6, sample_weight=w[is_cal])
        if self.refit:
            full = lgb.Dataset(M, label=yy, weight=w, feature_name=self.features_, categorical_feature=cat)
            booster = lgb.train(params, full, num_boost_round=self.best_iteration_)
        else:
            booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=self.best_iteration_))
        self.calibration_ = {"a": float(a[0]), "b": float(b)}
        self.booster_ = _scale_booster(booster, float(a[0]), float(b))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self.booster_.predict(self._matrix(to_polars(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int8)

    def contributions(self, X: Any) -> pl.DataFrame:
        """SHAP contributions to the log-odds of bad, one column per feature plus ``bias``."""
        c = self.booster_.predict(self._matrix(to_polars(X)), pred_contrib=True)
        return pl.DataFrame(c, schema=[*self.features_, "bias"], orient="row")

    def reason_codes(self, X: Any, n: int | None = None) -> pl.DataFrame:
        """The ``n`` features pushing each applicant's PD up the most (positive SHAP contribution)."""
        n = self.reasons if n is None else n
        c = self.booster_.predict(self._matrix(to_polars(X)), pred_contrib=True)[:, :-1]
        order = np.argsort(-c, axis=1, kind="stable")[:, :n]
        top = np.take_along_axis(c, order, axis=1)
        names = np.array([f.upper() for f in self.features_])
        out: dict[str, Any] = {}
        for r in range(order.shape[1]):
            label = pl.Series(names[order[:, r]].astype(str), dtype=pl.String)
            out[f"reason_{r + 1}"] = pl.select(pl.when(pl.Series(top[:, r] > 0)).then(label)).to_series()
            out[f"impact_{r + 1}"] = np.where(top[:, r] > 0, top[:, r], 0.0)
        return pl.DataFrame(out)

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        self.booster_.save_model(str(p))
        return p

    def to_node(self, artifact: str, node_id: str = "gbm", output: str = "pd",
                inputs: dict[str, str] | None = None) -> dict[str, Any]:
        """The engine's ``type: model, format: lightgbm`` node (numeric inputs only)."""
        from fengkong.modeling.export import lightgbm_node

        if self.categories_:
            raise ValueError(
                f"categorical features {sorted(self.categories_)} cannot be exported to a lightgbm node; "
                "encode them as numbers before training a model you deploy"
            )
        return lightgbm_node(artifact, self.features_, node_id=node_id, output=output, inputs=inputs)


_LEAF = re.compile(r"^leaf_value=(.*)$", re.M)


def _scale_booster(booster: Any, a: float, b: float) -> Any:
    """A booster whose raw score is ``a · raw + b``: every leaf value times ``a``, ``b`` added in tree 0."""
    import lightgbm as lgb

    text = booster.model_to_string()
    first = [True]

    def repl(m: re.Match[str]) -> str:
        vals = np.array(m.group(1).split(), dtype=np.float64) * a
        if first[0]:
            vals = vals + b
            first[0] = False
        return "leaf_value=" + " ".join(repr(float(v)) for v in vals)

    text = _LEAF.sub(repl, text)
    # the header's byte sizes of the trees no longer hold; without them LightGBM parses tree by tree
    text = re.sub(r"^tree_sizes=.*\n", "", text, flags=re.M)
    return lgb.Booster(model_str=text)


def _validation_rows(y: np.ndarray, times: Any, share: float, seed: int) -> np.ndarray:
    """Mask of the validation slice: the latest ``share`` of rows by time, else a stratified random share."""
    if not 0 < share < 1:
        raise ValueError(f"calibration_share must be in (0, 1), got {share}")
    n = len(y)
    mask = np.zeros(n, dtype=bool)
    if times is not None:
        from fengkong.modeling.splits import _seconds

        t = _seconds(times)
        if len(t) != n:
            raise ValueError(f"times has {len(t)} values but y has {n}")
        order = np.argsort(t, kind="stable")
        mask[order[n - max(1, round(share * n)):]] = True
    else:
        rng = np.random.default_rng(seed)
        for cls in (0, 1):
            idx = np.flatnonzero(y == cls)
            k = round(share * len(idx))
            mask[rng.choice(idx, k, replace=False)] = True
    if y[mask].min(initial=1) == y[mask].max(initial=0) or y[~mask].min(initial=1) == y[~mask].max(initial=0):
        raise ValueError("the validation slice and the training rows each need both classes (goods and bads)")
    return mask
