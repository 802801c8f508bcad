"""Reject inference for application scorecards: fuzzy augmentation and parcelling of rejected applicants."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import polars as pl

from fengkong.modeling._data import binary_target, check_weight, to_polars

METHODS = ("fuzzy", "parcel")


class InferredSample(NamedTuple):
    """Accepted rows followed by inferred reject rows, with the weights to fit on."""

    X: pl.DataFrame
    y: np.ndarray
    sample_weight: np.ndarray
    is_reject: np.ndarray


def _bad_probability(model: Any, X: pl.DataFrame) -> np.ndarray:
    return np.asarray(model.predict_proba(X))[:, 1].astype(np.float64)


def _rejects(X_accepted: pl.DataFrame, X_rejected: Any) -> pl.DataFrame:
    Xr = to_polars(X_rejected)
    missing = [c for c in X_accepted.columns if c not in Xr.columns]
    if missing:
        raise ValueError(f"columns missing from the rejected applications: {missing}")
    if Xr.height == 0:
        raise ValueError("no rejected applications given")
    return Xr.select(X_accepted.columns).cast(X_accepted.schema, strict=False)  # type: ignore[arg-type]


def _check_reject_weight(reject_weight: float) -> None:
    if not (np.isfinite(reject_weight) and reject_weight > 0):
        raise ValueError(f"reject_weight must be a positive number, got {reject_weight}")


def fuzzy(
    model: Any, X_accepted: Any, y_accepted: Any, X_rejected: Any, *, sample_weight: Any = None,
    reject_weight: float = 1.0,
) -> InferredSample:
    """Fuzzy augmentation: every reject enters twice, as bad with weight p and as good with weight 1 − p.

    ``model`` is the scorecard (or any ``predict_proba`` estimator) fitted on the accepted applications only;
    p is its predicted bad probability for the reject. ``reject_weight`` scales the rejects' weights against
    the accepted rows (weight ``sample_weight`` or 1).
    """
    _check_reject_weight(reject_weight)
    Xa = to_polars(X_accepted)
    ya = binary_target(y_accepted)
    wa = check_weight(sample_weight, len(ya))
    wa = np.ones(len(ya)) if wa is None else wa
    Xr = _rejects(Xa, X_rejected)
    p = _bad_probability(model, Xr)
    n = Xr.height
    return InferredSample(
        X=pl.concat([Xa, Xr, Xr]),
        y=np.r_[ya, np.ones(n, np.int8), np.zeros(n, np.int8)].astype(np.int8),
        sample_weight=np.r_[wa, reject_weight * p, reject_weight * (1.0 - p)],
        is_reject=np.r_[np.zeros(len(ya), bool), np.ones(2 * n, bool)],
    )


def parcel(
    model: Any, X_accepted: Any, y_accepted: Any, X_rejected: Any, *, bands: int = 10, factor: float = 1.5,
    sample_weight: Any = None, reject_weight: float = 1.0, seed: int = 0,
) -> InferredSample:
    """Parcelling: rejects are bad with their score band's accepted bad rate × ``factor`` (capped at 1).

    Bands are ``bands`` quantiles of the accepted-only ``model``'s predicted bad probability on the accepted
    rows; a reject outside the accepted range falls in the nearest end band. Each reject is then drawn bad or
    good at that rate (``seed``), and enters once with weight ``reject_weight``. ``factor`` > 1 encodes the
    usual assumption that a reject is riskier than an accept with the same score.
    """
    _check_reject_weight(reject_weight)
    if bands < 1:
        raise ValueError("bands must be at least 1")
    if not (np.isfinite(factor) and factor >= 0):
        raise ValueError(f"factor must be a non-negative number, got {factor}")
    Xa = to_polars(X_accepted)
    ya = binary_target(y_accepted)
    wa = check_weight(sample_weight, len(ya))
    wa = np.ones(len(ya)) if wa is None else wa
    Xr = _rejects(Xa, X_rejected)
    pa, pr = _bad_probability(model, Xa), _bad_probability(model, Xr)
    rate = band_bad_rates(pa, ya, wa, bands)
    edges = band_edges(pa, bands)
    br = np.clip(np.searchsorted(edges, pr, side="right"), 0, len(rate) - 1)
    p_bad = np.minimum(rate[br] * factor, 1.0)
    yr = (np.random.default_rng(seed).random(Xr.height) < p_bad).astype(np.int8)
    return InferredSample(
        X=pl.concat([Xa, Xr]),
        y=np.r_[ya, yr].astype(np.int8),
        sample_weight=np.r_[wa, np.full(Xr.height, float(reject_weight))],
        is_reject=np.r_[np.zeros(len(ya), bool), np.ones(Xr.height, bool)],
    )


def band_edges(p: np.ndarray, bands: int) -> np.ndarray:
    """Inner edges of ``bands`` quantile bands of ``p`` (duplicates removed); band i is edges[i-1] ≤ p < edges[i]."""
    return np.unique(np.quantile(p, np.linspace(0, 1, bands + 1)[1:-1]))


def band_bad_rates(p: np.ndarray, y: np.ndarray, w: np.ndarray, bands: int) -> np.ndarray:
    """Weighted bad rate of each quantile band of ``p`` (the bands of ``band_edges``)."""
    b = np.searchsorted(band_edges(p, bands), p, side="right")
    k = int(b.max()) + 1
    bad = np.bincount(b, weights=w * y, minlength=k)
    tot = np.bincount(b, weights=w, minlength=k)
    return np.where(tot > 0, bad / np.maximum(tot, 1e-300), 0.0)


def infer(
    method: str, model: Any, X_accepted: Any, y_accepted: Any, X_rejected: Any, **options: Any
) -> InferredSample:
    """The training sample of ``method`` (``fuzzy`` or ``parcel``); ``options`` go to that function."""
    if method == "fuzzy":
        return fuzzy(model, X_accepted, y_accepted, X_rejected, **options)
    if method == "parcel":
        return parcel(model, X_accepted, y_accepted, X_rejected, **options)
    raise ValueError(f"unknown reject inference method {method!r}; use one of {', '.join(METHODS)}")


def fit_with_rejects(
    estimator: Any, X_accepted: Any, y_accepted: Any, X_rejected: Any, method: str = "fuzzy",
    fit_params: dict[str, Any] | None = None, **options: Any,
) -> tuple[Any, Any, InferredSample]:
    """Fit ``estimator`` on the accepted rows, infer the rejects, refit a copy on both with sample weights.

    Returns (accepted-only model, model with reject inference, the inferred sample). ``fit_params`` (e.g.
    ``exclude``) go to both fits; the estimator needs ``get_params`` and ``fit(X, y, sample_weight=...)``.
    """
    fp = dict(fit_params or {})
    sw = options.pop("sample_weight", None)
    base = type(estimator)(**estimator.get_params()).fit(X_accepted, y_accepted, sample_weight=sw, **fp)
    sample = infer(method, base, X_accepted, y_accepted, X_rejected, sample_weight=sw, **options)
    final = type(estimator)(**estimator.get_params()).fit(sample.X, sample.y, sample_weight=sample.sample_weight,
                                                          **fp)
    return base, final, sample
