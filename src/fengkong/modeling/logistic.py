"""L2-penalised logistic regression by Newton's method on float32 design matrices, in row chunks.

Same objective as scikit-learn's ``LogisticRegression(C=C)`` (intercept not penalised); a handful of
Newton steps converge on WOE inputs, far fewer passes over the data than L-BFGS.
"""

from __future__ import annotations

import numpy as np

CHUNK = 131_072


def fit_logistic(
    X: np.ndarray, y: np.ndarray, C: float = 1.0, max_iter: int = 50, tol: float = 1e-7,
    start: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Return (intercept, coefficients) minimising Σ log-loss + ||w||² / (2C).

    ``start`` = [intercept, coefficients...] warm-starts the iterations (e.g. after dropping a column).
    """
    n, p = X.shape
    X = np.asarray(X, dtype=np.float32)
    yf = np.asarray(y, dtype=np.float64)
    beta = np.zeros(p + 1)  # [intercept, w...]
    rate = min(max(yf.mean(), 1e-6), 1 - 1e-6)
    beta[0] = np.log(rate / (1 - rate))
    if start is not None:
        beta = np.asarray(start, dtype=np.float64).copy()
    pen = np.r_[0.0, np.full(p, 1.0 / C)]
    prev = np.inf
    for _ in range(max_iter):
        grad = pen * beta
        hess = np.diag(pen)
        loss = 0.5 * float(np.sum(pen * beta * beta))
        for a in range(0, n, CHUNK):
            Xc = X[a : a + CHUNK]
            yc = yf[a : a + CHUNK]
            eta = beta[0] + Xc @ beta[1:].astype(np.float32)
            eta = eta.astype(np.float64)
            mu = 1.0 / (1.0 + np.exp(-eta))
            loss += float(np.sum(np.logaddexp(0.0, eta) - yc * eta))
            r = mu - yc
            w = mu * (1.0 - mu)
            grad[0] += r.sum()
            grad[1:] += Xc.T @ r.astype(np.float32)
            Xw = Xc * w.astype(np.float32)[:, None]
            hess[0, 0] += w.sum()
            s = Xw.sum(axis=0, dtype=np.float64)
            hess[0, 1:] += s
            hess[1:, 0] += s
            hess[1:, 1:] += (Xw.T @ Xc).astype(np.float64)
        step = np.linalg.solve(hess + 1e-9 * np.eye(p + 1), grad)
        beta = beta - step
        if abs(prev - loss) <= tol * max(1.0, abs(loss)) or np.max(np.abs(step)) < 1e-6:
            break
        prev = loss
    return float(beta[0]), beta[1:].copy()
