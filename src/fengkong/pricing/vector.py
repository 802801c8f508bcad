"""Vectorised schedules and APRs for many loans at once (integer-fen NumPy arithmetic, same rounding as
:mod:`fengkong.pricing.schedule`), and the bridge from disbursement events to per-loan cost figures."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import polars as pl

from fengkong.pricing.config import Config, load_config
from fengkong.pricing.cost import annualised_cost
from fengkong.pricing.errors import PricingError
from fengkong.pricing.irr import solve_irr_vector
from fengkong.pricing.schedule import METHODS, Charge, Product, build_schedule
from fengkong.settings import BUSINESS_TZ_NAME, business_today

SCALE = 100_000_000  # rates as integer units of 1e-8
VECTOR_METHODS = ("equal_installment", "equal_principal", "interest_first", "fee_per_period", "fee_total")


def _ppb(x: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(x, dtype=np.float64) * SCALE).astype(np.int64)


def _div(a: np.ndarray, b: int, mode: str = "ROUND_HALF_UP") -> np.ndarray:
    """a / b rounded to an integer with a ``decimal`` rounding mode (a >= 0, b > 0, exact int64 arithmetic)."""
    if mode == "ROUND_HALF_UP":
        return (2 * a + b) // (2 * b)
    q, r = np.divmod(a, b)
    if mode == "ROUND_DOWN":
        return q
    if mode == "ROUND_UP":
        return q + (r > 0)
    if mode == "ROUND_HALF_DOWN":
        return q + (2 * r > b)
    if mode == "ROUND_HALF_EVEN":
        return q + ((2 * r > b) | ((2 * r == b) & (q % 2 == 1)))
    raise PricingError("money.rounding", f"{mode!r} is not supported by the vectorised path")


def _round_float(x: np.ndarray, mode: str) -> np.ndarray:
    """Round non-negative float amounts of fen to integers with a ``decimal`` rounding mode."""
    r = {"ROUND_HALF_UP": lambda v: np.floor(v + 0.5), "ROUND_HALF_EVEN": np.rint, "ROUND_DOWN": np.floor,
         "ROUND_UP": np.ceil, "ROUND_HALF_DOWN": lambda v: np.ceil(v - 0.5)}[mode](x)
    return r.astype(np.int64)


def flow_matrix(principal_fen: np.ndarray, term: np.ndarray, method: np.ndarray, rate: np.ndarray,
                fee_rate: np.ndarray, upfront_fen: np.ndarray, guarantee_rate: np.ndarray,
                rounding: str = "ROUND_HALF_UP") -> np.ndarray:
    """Lender-view flows (N × (max term + 1), int64 fen) for monthly products; ``method`` as codes of METHODS.

    ``fee_rate`` is per period on the original principal (fee_total spreads fee_rate × term evenly);
    ``guarantee_rate`` is a per-month fee on the original principal paid to the guarantor; ``rounding``
    is the ``money.rounding`` mode (the same as the scalar schedule's).
    """
    P = np.asarray(principal_fen, dtype=np.int64)
    n = np.asarray(term, dtype=np.int64)
    m = np.asarray(method, dtype=np.int64)
    N, T = len(P), int(n.max()) if len(n) else 1
    r, f, g = _ppb(rate), _ppb(fee_rate), _ppb(guarantee_rate)
    tm = np.zeros((T + 1, N), dtype=np.int64)   # time-major: each period is one contiguous row
    tm[0] = -(P - np.asarray(upfront_fen, dtype=np.int64))
    ei = m == METHODS.index("equal_installment")
    io = m == METHODS.index("interest_first")
    fpp = m == METHODS.index("fee_per_period")
    ftot = m == METHODS.index("fee_total")
    i = np.asarray(rate, dtype=np.float64) / 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pay = np.where(i > 0, P * i / (1.0 - (1.0 + i) ** (-n.astype(np.float64))), P / np.maximum(n, 1))
    payment = _round_float(pay, rounding)
    base = P // np.maximum(n, 1)
    per_fee = _div(P * f, SCALE, rounding)
    total_fee = _div(P * f * n, SCALE, rounding)
    spread_fee = total_fee // np.maximum(n, 1)
    guar = _div(P * g, SCALE, rounding)
    out = P.copy()
    for k in range(T):
        live = k < n
        last = k == n - 1
        interest = _div(out * r, 12 * SCALE, rounding)
        principal = np.where(last, out, np.where(io, 0, np.where(ei, np.minimum(out, payment - interest), base)))
        fee = np.where(fpp, per_fee, 0) + np.where(ftot, np.where(last, total_fee - spread_fee * (n - 1),
                                                                   spread_fee), 0)
        tm[k + 1] = np.where(live, principal + interest + fee + guar, 0)
        out = np.where(live, out - principal, out)
    return tm.T


def apr_vector(flows: np.ndarray) -> np.ndarray:
    """APR (periodic IRR × 12) of each row of a lender-view monthly flow matrix."""
    return solve_irr_vector(flows.astype(np.float64)) * 12.0


def product_of_row(row: dict) -> Product:
    """The scalar Product of one disbursement row (same interpretation as the vector path)."""
    method = row.get("repayment_method") or "equal_installment"
    if method not in METHODS:
        raise PricingError("repayment_method", f"unknown method {method!r} (loan {row.get('loan_id')})")
    start = row["start"]
    fee = Decimal(repr(float(row.get("fee_rate") or 0.0)))
    charges = ()
    g = float(row.get("guarantee_fee_rate") or 0.0)
    if g > 0:
        charges = (Charge("guarantee_fee", kind="guarantee_fee", payee="guarantor", rate=Decimal(repr(g))),)
    return Product(principal_fen=int(row["amount_fen"]), term=int(row["term_months"]), method=method,
                   rate=Decimal(repr(float(row.get("contract_rate") or 0.0))),
                   fee_rate=fee if method == "fee_per_period" else Decimal(0),
                   total_fee_rate=fee * int(row["term_months"]) if method == "fee_total" else Decimal(0),
                   upfront_fee_fen=int(row.get("upfront_fee_fen") or 0), charges=charges, start=start,
                   first_due=row.get("first_due_date"), name=str(row.get("loan_id") or "loan"))


def loans_apr(loans: pl.DataFrame, chunk: int = 200_000, config: Config | None = None) -> pl.DataFrame:
    """Add ``start``, ``apr_irr`` and ``total_cost_fen`` to a frame of disbursement events.

    Regular monthly loans go through the vectorised solver; daily-rate loans and loans whose first
    period is irregular (first_due_date not one calendar month after disbursement) use the exact scalar path.
    """
    cfg = config or load_config()
    rounding = cfg.rounding()
    for col in ("amount_fen", "term_months"):
        if col not in loans.columns:
            raise PricingError(col, "required column is missing from the loans file")
    df = loans.with_columns(
        (pl.col("ts").dt.convert_time_zone(BUSINESS_TZ_NAME).dt.date() if "ts" in loans.columns
         else pl.lit(business_today())).alias("start"))
    for c, d in (("repayment_method", "equal_installment"), ("contract_rate", 0.0), ("fee_rate", 0.0),
                 ("upfront_fee_fen", 0), ("guarantee_fee_rate", 0.0)):
        if c not in df.columns:
            df = df.with_columns(pl.lit(d).alias(c))
        else:
            df = df.with_columns(pl.col(c).fill_null(d))
    if "first_due_date" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Date).alias("first_due_date"))
    bad = df.filter(~pl.col("repayment_method").is_in(list(METHODS)))
    if bad.height:
        raise PricingError("repayment_method", f"unknown method {bad['repayment_method'][0]!r}")
    neg = df.filter((pl.col("amount_fen") <= 0) | (pl.col("term_months") < 1))
    if neg.height:
        raise PricingError("amount_fen" if neg["amount_fen"][0] <= 0 else "term_months",
                           f"must be positive (loan {neg['loan_id'][0] if 'loan_id' in neg.columns else '?'})")
    # the same test as Product.irregular_first: polars' "1mo" offset clamps to the month end like add_months
    regular = pl.col("first_due_date").is_null() | (pl.col("first_due_date") == pl.col("start").dt.offset_by("1mo"))
    df = df.with_columns(
        (pl.col("repayment_method").is_in(list(VECTOR_METHODS)) & regular).alias("_vec"),
        pl.col("repayment_method").replace_strict({m: i for i, m in enumerate(METHODS)},
                                                  return_dtype=pl.Int64).alias("_m"))
    over = df.filter(pl.col("upfront_fee_fen") >= pl.col("amount_fen"))
    if over.height:
        raise PricingError("upfront_fee_fen", "up-front deductions leave nothing of the principal to the borrower"
                           f" (loan {over['loan_id'][0] if 'loan_id' in over.columns else '?'})")
    apr = np.full(df.height, np.nan)
    cost = np.zeros(df.height, dtype=np.int64)
    vec = df["_vec"].to_numpy()
    terms = df["term_months"].to_numpy()
    cols = {c: df[c].to_numpy() for c in ("amount_fen", "_m", "contract_rate", "fee_rate", "upfront_fee_fen",
                                          "guarantee_fee_rate")}
    for term in np.unique(terms[vec]):   # one group per term: no Horner work on padding
        group = np.nonzero(vec & (terms == term))[0]
        for s in range(0, len(group), chunk):
            ix = group[s:s + chunk]
            fl = flow_matrix(cols["amount_fen"][ix], terms[ix], cols["_m"][ix], cols["contract_rate"][ix],
                             cols["fee_rate"][ix], cols["upfront_fee_fen"][ix], cols["guarantee_fee_rate"][ix],
                             rounding)
            apr[ix] = apr_vector(fl)
            cost[ix] = fl.sum(axis=1)
    for i in np.nonzero(~df["_vec"].to_numpy())[0]:
        row = df.row(int(i), named=True)
        try:
            c = annualised_cost(build_schedule(product_of_row(row), cfg), breakdown=False)
        except PricingError as exc:
            raise PricingError(exc.field, f"loan {row.get('loan_id')} (row {int(i) + 1}): {exc.reason}") from None
        apr[i] = c.apr_irr
        cost[i] = c.total_cost_fen
    return df.drop("_vec", "_m").with_columns(pl.Series("apr_irr", apr), pl.Series("total_cost_fen", cost))
