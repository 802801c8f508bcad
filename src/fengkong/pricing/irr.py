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


def _brent(f, a: float, b: float) -> float:
    """Brent's method on a bracket with f(a)·f(b) < 0 (bisection fallback guaranteed)."""
    from scipy.optimize import brentq

    return float(brentq(f, a, b, xtol=1e-15, rtol=1e-15, maxiter=500))


# --- counting the roots of flows with several sign changes -------------------------------------------
# With x = ln(1 + r) (r > -100 %  <=>  x real), NPV is the exponential sum F(x) = Σ a_i·exp(λ_i·x),
# λ_i = -t_i, for any real times. Descartes' rule of signs holds for such sums (Laguerre): F has at most
# as many real zeros as the coefficients (ordered by λ) have sign changes. Multiplying by exp(μx) with
# -μ between two exponents at a sign change and differentiating removes exactly that sign change, and
# between consecutive zeros of that derivative F is strictly monotone. Recursing down to one sign
# change (exactly one simple zero) therefore isolates every real zero of F; a value at a critical point
# that is zero within rounding error (a double or nearly double root) is refused rather than guessed.

_EVAL_TOL = 1e-11     # |F(p)| below this × Σ|terms| at a critical point: sign not trustworthy


def _terms(lam: np.ndarray, coef: np.ndarray, x: float) -> tuple[float, float]:
    """(F(x), Σ|a_i e^{λ_i x}|), both scaled by the same positive factor (no overflow)."""
    e = lam * x
    w = np.exp(e - e.max())
    t = coef * w
    return float(t.sum()), float(np.abs(t).sum())


def _f(lam: np.ndarray, coef: np.ndarray):
    return lambda x: _terms(lam, coef, x)[0]


def _sign_at_infinity(coef: np.ndarray, upper: bool) -> int:
    """Sign of F(x) for x -> +inf (dominant term: largest λ) or -inf (smallest λ); λ sorted ascending."""
    return int(np.sign(coef[-1] if upper else coef[0]))


def _expand(lam: np.ndarray, coef: np.ndarray, start: float, step: float, want: int) -> float:
    """Walk from ``start`` in the direction of ``step`` until sign(F) == ``want`` (the sign at that infinity)."""
    x = start + step
    while abs(step) <= 1e5:
        if np.sign(_terms(lam, coef, x)[0]) == want:
            return x
        step *= 2.0
        x = start + step
    raise IRRError("cannot bracket a root of the cash flows (values too extreme)")


def _root_between(lam: np.ndarray, coef: np.ndarray, a: float | None, b: float | None, lo_sign: int,
                  hi_sign: int) -> float:
    """The single zero of F on (a, b), where F is monotone and changes sign; None = that infinity."""
    f = _f(lam, coef)
    if a is None and b is None:
        s0 = np.sign(f(0.0))
        if s0 == 0:
            return 0.0
        a = 0.0 if s0 == lo_sign else _expand(lam, coef, 0.0, -1.0, lo_sign)
        b = 0.0 if s0 == hi_sign else _expand(lam, coef, 0.0, 1.0, hi_sign)
    elif a is None:
        a = _expand(lam, coef, b, -1.0, lo_sign)  # type: ignore[arg-type]
    elif b is None:
        b = _expand(lam, coef, a, 1.0, hi_sign)
    return _brent(f, a, b)  # type: ignore[arg-type]


def _real_roots(lam: np.ndarray, coef: np.ndarray) -> list[float]:
    """Every real zero of F(x) = Σ coef_i·exp(lam_i·x) (lam ascending, coef non-zero), sorted."""
    signs = np.sign(coef)
    changes = np.nonzero(signs[:-1] != signs[1:])[0]
    if len(changes) == 0:
        return []
    lo_sign, hi_sign = _sign_at_infinity(coef, False), _sign_at_infinity(coef, True)
    if len(changes) == 1:
        return [_root_between(lam, coef, None, None, lo_sign, hi_sign)]
    j = int(changes[len(changes) // 2])
    mu = -(lam[j] + lam[j + 1]) / 2.0
    crit = _real_roots(lam, coef * (lam + mu))   # zeros of d/dx[exp(mu x) F(x)]
    pts_sign = [lo_sign]
    for p in crit:
        v, scale = _terms(lam, coef, p)
        if abs(v) <= _EVAL_TOL * scale:
            raise IRRError(f"the NPV touches zero at a rate of about {np.expm1(p):.6%} (a double or nearly double "
                           "root): the IRR is not unique")
        pts_sign.append(int(np.sign(v)))
    pts_sign.append(hi_sign)
    roots = []
    edges = [None, *crit, None]
    for k in range(len(edges) - 1):
        if pts_sign[k] == pts_sign[k + 1]:
            continue
        roots.append(_root_between(lam, coef, edges[k], edges[k + 1], lo_sign, hi_sign))
    return roots


def count_irrs(flows: Sequence[float], times: Sequence[float] | None = None) -> list[float]:
    """Every IRR > -100 % of ``flows`` (periodic rates, ascending); raises on a double/near-double root."""
    ts = np.arange(len(flows), dtype=np.float64) if times is None else np.asarray(times, dtype=np.float64)
    cf = np.asarray(flows, dtype=np.float64)
    keep = cf != 0
    if not keep.any():
        return []
    lam_all, cf = -ts[keep], cf[keep]
    lam, inv = np.unique(lam_all, return_inverse=True)   # merge flows at the same time
    coef = np.zeros(len(lam))
    np.add.at(coef, inv, cf)
    nz = coef != 0
    lam, coef = lam[nz], coef[nz]
    if len(coef) < 2:
        return []
    return [float(np.expm1(x)) for x in _real_roots(lam, coef)]


def solve_irr(flows: Sequence[float], times: Sequence[float] | None = None) -> float:
    """The periodic IRR of ``flows`` (one sign convention, any), which must lie in (-0.99, 1e6).

    One sign change (every conventional loan): by Descartes' rule exactly one IRR > -100 % exists;
    it is bracketed and solved with Brent. Several sign changes: every real root is isolated exactly
    (see :func:`count_irrs`) and :class:`IRRError` is raised unless there is exactly one. Also raises
    when the flows never change sign (no IRR) or the root lies outside the bracket.
    """
    fl = [float(x) for x in flows]
    if times is not None and len(times) != len(fl):
        raise IRRError("times and flows differ in length")
    if len(fl) < 2:
        raise IRRError("need at least two cash flows")
    if not all(np.isfinite(fl)):
        raise IRRError("cash flows must be finite numbers")
    changes = _sign_changes(fl)
    if changes == 0:
        raise IRRError("cash flows never change sign: no IRR exists (nothing received or nothing repaid)")

    def f(r: float) -> float:
        return npv(r, fl, times)

    if changes > 1:
        roots = count_irrs(fl, times)
        if not roots:
            raise IRRError("cash flows change sign several times but NPV has no root: no IRR exists")
        if len(roots) > 1:
            raise IRRError(f"several IRRs exist ({', '.join(f'{r:.6%}' for r in roots)}): refusing to pick one")
        r = roots[0]
        if not LO < r < HI_MAX:
            raise IRRError(f"the only IRR ({r:.6g} per period) is outside [{LO}, {HI_MAX:g}]")
        # polish on the original NPV in a tight bracket around the isolated root
        span = max(1e-9, abs(r) * 1e-9)
        a, b = max(LO, r - span), min(HI_MAX, r + span)
        if f(a) * f(b) < 0:
            return _brent(f, a, b)
        return r
    # Exactly one sign change: exactly one root; expand the upper end until NPV changes sign.
    lo, hi = LO, HI
    flo = f(lo)
    fhi = f(hi)
    while flo * fhi > 0 and hi < HI_MAX:
        hi *= 4.0
        fhi = f(hi)
    if flo * fhi > 0:
        raise IRRError(f"NPV does not change sign on [{LO}, {hi:g}] per period: the rate is out of range")
    if flo == 0:
        return lo
    if fhi == 0:
        return hi
    return _brent(f, lo, hi)


def solve_irr_vector(flows: np.ndarray, max_iter: int = 200, tol: float = 1e-14) -> np.ndarray:
    """Periodic IRR of every row of ``flows`` (N × (T+1), lender's view: row[0] < 0, rest >= 0).

    Works on the discount factor v = 1/(1+r): f(v) = Σ CF_t v^t is increasing and convex on v > 0
    for these flows, so Newton steps are kept inside a per-row bracket [a, b] and replaced by
    bisection whenever they leave it. Such flows have one sign change, hence (Descartes) exactly one
    IRR > -100 %. Rows whose flows are not of that form, whose root cannot be shown to lie in the
    bracket by a one-pass bound, or that do not converge are solved one by one with :func:`solve_irr`
    (which raises on ambiguity or a root out of range). Stops at |Δv| <= ``tol`` (APR error ~1e-12).
    """
    cf = np.asarray(flows, dtype=np.float64)
    if cf.ndim != 2 or cf.shape[1] < 2:
        raise IRRError("flows must be a 2-D array with at least two columns")
    n, T = cf.shape
    # one sign change (Descartes): exactly one IRR > -100 %, so any root found is the root
    repaid = cf[:, 1:].sum(axis=1)
    conventional = (cf[:, 0] < 0) & (cf[:, 1:] >= 0).all(axis=1) & (repaid > 0)
    # cheap proof that the root lies inside the bracket (v^t <= v for v < 1, >= v for v > 1, t >= 1):
    # f(1/(1+1e6)) <= c0 + Σc/(1+1e6) < 0 and f(1/(1-0.99)) >= c0 + 100·Σc > 0; other rows: scalar path
    conventional &= (cf[:, 0] + repaid / (1.0 + HI_MAX) < 0) & (cf[:, 0] + repaid / (1.0 + LO) > 0)
    out = np.full(n, np.nan)
    rows = np.nonzero(conventional)[0]
    if len(rows):
        # time-major copy (T × m, C-contiguous) so each Horner step reads one contiguous row
        cc = np.ascontiguousarray(cf[rows].T) if len(rows) < n else np.ascontiguousarray(cf.T)
        m = len(rows)
        a = np.full(m, 1.0 / (1.0 + HI_MAX))   # r = 1e6  -> f(a) ~ c0 < 0
        b = np.full(m, 1.0 / (1.0 + LO))       # r = -0.99 -> f(b) > 0 unless almost nothing is repaid
        converged = np.zeros(m, dtype=bool)
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
                converged[idx[done]] = True
                idx = idx[keep]
                cc = cc[:, keep]
        out[rows[converged]] = 1.0 / v[converged] - 1.0
    for i in np.nonzero(np.isnan(out))[0]:   # unusual, out-of-bracket or unconverged rows: exact path
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
