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

    ``monotone``: ``"auto"`` (each numeric feature gets the direction of its optimal binning's monotonic
    trend, 0 for U-shapes and categoricals), ``None`` (no constraints) or ``{feature: -1/0/1}``
    (+1 = PD rises with the value). ``calibration_share`` of the training rows fits the Platt calibration.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        monotone: str | dict[str, int] | None = "auto",
        calibration_share: float = 0.2,
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

    def fit(self, X: Any, y: Any) -> GBMModel:
        import lightgbm as lgb

        df = to_polars(X)
        yy = binary_target(y)
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
        rng = np.random.default_rng(self.random_state)
        is_cal = rng.random(len(yy)) < self.calibration_share
        params = {
            "objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples, "monotone_constraints": mono,
            "monotone_constraints_method": "advanced", "num_threads": self.n_jobs, "verbose": -1,
            "seed": self.random_state, "deterministic": True,
        }
        cat_idx = [j for j, c in enumerate(self.features_) if c in self.categories_]
        ds = lgb.Dataset(M[~is_cal], label=yy[~is_cal], feature_name=self.features_,
                         categorical_feature=cat_idx or "auto", free_raw_data=True)
        booster = lgb.train(params, ds, num_boost_round=self.n_estimators)
        # Platt scaling on the held-out rows: pd = sigmoid(a · raw + b)
        from fengkong.modeling.logistic import fit_logistic

        raw = booster.predict(M[is_cal], raw_score=True)
        b, a = fit_logistic(raw.reshape(-1, 1).astype(np.float32), yy[is_cal], C=1e6)
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
