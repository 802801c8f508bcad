"""IRR solvers: an exact scalar bracketed solver that refuses ambiguous or missing roots, and a
vectorised safeguarded-Newton solver for many loans at once (NumPy)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import numpy as np

from fengkong.pricing.errors import PricingError

LO, HI, HI_MAX = -0.99, 1.0, 1e6
TOL = 1e-12


class IRRError(PricingError):
    """No IRR exists, or more than one does (the solver never picks one silently)."""

    def __init__(self, reason: str):
        super().__init__("cashflows", reason)


def npv(rate: float, flows: Sequence[float], times: Sequence[float] | None = None) -> float:
    """Σ CF_t / (1+rate)^t; ``times`` default to 0, 1, 2, … (periods)."""
    ts = range(len(flows)) if times is None else times
    return float(sum(cf / (1.0 + rate) ** t for cf, t in zip(flows, ts, strict=True)))


def _sign_changes(flows: Sequence[float]) -> int:
    signs = [1 if f > 0 else -1 for f in flows if f != 0]
    return sum(1 for a, b in itertools.pairwise(signs) if a != b)


def _brent(f, a: float, b: float, fa: float, fb: float) -> float:
    """Brent's method on a bracket with fa*fb < 0 (bisection fallback guaranteed)."""
    from scipy.optimize import brentq

    return float(brentq(f, a, b, xtol=1e-15, rtol=1e-15, maxiter=500))


def solve_irr(flows: Sequence[float], times: Sequence[float] | None = None) -> float:
    """The periodic IRR of ``flows`` (one sign convention, any), bracketed on (-0.99, 1e6).

    Raises :class:`IRRError` when the flows have no sign change (no IRR), when NPV has no sign change
    on the bracket, or when more than one root exists (non-conventional flows with several roots).
    """
    fl = [float(x) for x in flows]
    if times is not None and len(times) != len(fl):
        raise IRRError("times and flows differ in length")
    if len(fl) < 2:
        raise IRRError("need at least two cash flows")
    changes = _sign_changes(fl)
    if changes == 0:
        raise IRRError("cash flows never change sign: no IRR exists (nothing received or nothing repaid)")

    def f(r: float) -> float:
        return npv(r, fl, times)

    # Expand the upper end until NPV changes sign (or give up loudly).
    lo, hi = LO, HI
    flo = f(lo)
    fhi = f(hi)
    while flo * fhi > 0 and hi < HI_MAX:
        hi *= 4.0
        fhi = f(hi)
    if changes == 1:
        if flo * fhi > 0:
            raise IRRError(f"NPV does not change sign on [{LO}, {hi:g}] per period: the rate is out of range")
        return _brent(f, lo, hi, flo, fhi)
    # Several sign changes: scan for every bracket; refuse if not exactly one root.
    grid = np.concatenate([np.linspace(LO, 0.0, 400, endpoint=False), np.geomspace(1e-6, max(hi, 1.0), 600)])
    vals = np.array([f(float(g)) for g in grid])
    idx = np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)[0]
    if len(idx) == 0:
        raise IRRError("cash flows change sign several times but NPV has no root: no IRR exists")
    if len(idx) > 1:
        roots = [_brent(f, float(grid[i]), float(grid[i + 1]), float(vals[i]), float(vals[i + 1])) for i in idx]
        raise IRRError(f"several IRRs exist ({', '.join(f'{r:.6%}' for r in roots)}): refusing to pick one")
    i = int(idx[0])
    return _brent(f, float(grid[i]), float(grid[i + 1]), float(vals[i]), float(vals[i + 1]))


def solve_irr_vector(flows: np.ndarray, max_iter: int = 200, tol: float = 1e-14) -> np.ndarray:
    """Periodic IRR of every row of ``flows`` (N × (T+1), lender's view: row[0] < 0, rest >= 0).

    Works on the discount factor v = 1/(1+r): f(v) = Σ CF_t v^t is increasing and convex on v > 0
    for these flows, so Newton steps are kept inside a per-row bracket [a, b] and replaced by
    bisection whenever they leave it. Rows whose flows are not of that form are solved one by one
    with :func:`solve_irr` (which raises on ambiguity). Stops at |Δv| <= ``tol`` (APR error ~1e-12).
    """
    cf = np.asarray(flows, dtype=np.float64)
    if cf.ndim != 2 or cf.shape[1] < 2:
        raise IRRError("flows must be a 2-D array with at least two columns")
    n, T = cf.shape
    conventional = (cf[:, 0] < 0) & (cf[:, 1:] >= 0).all(axis=1) & (cf[:, 1:].sum(axis=1) > 0)
    out = np.full(n, np.nan)
    rows = np.nonzero(conventional)[0]
    if len(rows):
        # time-major copy (T × m, C-contiguous) so each Horner step reads one contiguous row
        cc = np.ascontiguousarray(cf[rows].T) if len(rows) < n else np.ascontiguousarray(cf.T)
        m = len(rows)
        a = np.full(m, 1.0 / (1.0 + HI_MAX))   # r = 1e6  -> f(a) ~ c0 < 0
        b = np.full(m, 1.0 / (1.0 + LO))       # r = -0.99 -> f(b) > 0 for any repayment
        v = np.ones(m)
        idx = np.arange(m)
        for _ in range(max_iter):
            if len(idx) == 0:
                break
            vv = v[idx]
            f = cc[T - 1].copy()
            df = np.zeros(len(idx))
            for t in range(T - 2, -1, -1):   # Horner for f and f'
                df *= vv
                df += f
                f *= vv
                f += cc[t]
            pos = f > 0
            bi = np.where(pos, vv, b[idx])
            ai = np.where(pos, a[idx], vv)
            b[idx], a[idx] = bi, ai
            with np.errstate(divide="ignore", invalid="ignore"):
                step = f / df
            newton = vv - step
            done = (np.abs(step) <= tol) | (f == 0) | (bi - ai <= tol)
            bad = ~done & (~((newton > ai) & (newton < bi)) | ~(df > 0))
            nv = np.where(bad, 0.5 * (ai + bi), newton)
            v[idx] = np.where(f == 0, vv, np.where(done, np.clip(newton, ai, bi), nv))
            keep = ~done
            if not keep.all():   # compact the working set only when rows finish
                idx = idx[keep]
                cc = cc[:, keep]
        out[rows] = 1.0 / v - 1.0
    for i in np.nonzero(~conventional)[0]:
        out[i] = solve_irr(cf[i].tolist())
    return out


def xirr(flows: Sequence[float], dates: Sequence[dt.date], basis: int = 365) -> float:
    """Annual effective rate of dated flows, day count Act/``basis`` (Act/365F by default) from the first date."""
    if len(flows) != len(dates):
        raise IRRError("flows and dates differ in length")
    if any(b < a for a, b in itertools.pairwise(dates)):
        raise PricingError("dates", "must be in ascending order")
    d0 = dates[0]
    return solve_irr(flows, [(d - d0).days / basis for d in dates])
