"""Portfolio rate-cap monitor: per-loan cap breaches and the principal-weighted quarterly average of the
comprehensive cost of newly issued loans, with drivers, a projection to quarter end and what-if caps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from fengkong.pricing.caps import CHANNELS, LENDER_TYPES, pricing_cap
from fengkong.pricing.config import Config, _date, load_config
from fengkong.pricing.errors import PricingError
from fengkong.pricing.subsidy import quarter_bounds
from fengkong.pricing.vector import loans_apr


@dataclass
class PortfolioRule:
    """One average-cost rule evaluated over the quarter to date."""

    rule_id: str
    lender_type: str
    limit: float
    status: str
    in_transition: bool
    loans: int
    principal_fen: int
    weighted_apr: float
    excess: float
    projected_apr: float
    projected_whatif_apr: float | None
    required_rest_apr: float | None
    recent_daily_principal_fen: float
    remaining_days: int
    drivers: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    daily: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    transition_from: dt.date | None = None   # configured start of the transition period
    binding_from: dt.date | None = None      # configured date from which the limit binds


@dataclass
class ComplianceReport:
    quarter: str
    as_of: dt.date
    loans: pl.DataFrame                     # QTD loans with apr_irr, cap, breach
    breaches: pl.DataFrame
    rules: list[PortfolioRule]
    what_if_cap: float | None
    what_if_from: dt.date | None
    config_source: str
    recent_days: int = 14
    breach_items: pl.DataFrame = field(default_factory=pl.DataFrame)   # cost breakdown of the top breaches

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter, "as_of": self.as_of.isoformat(), "loans": self.loans.height,
            "principal_fen": int(self.loans["amount_fen"].sum()) if self.loans.height else 0,
            "per_loan_breaches": self.breaches.height,
            "breaches": [dict(b, items=self.breakdown_of(b["loan_id"])) for b in self.breaches.select(
                "loan_id", "amount_fen", "apr_irr", "cap", "cap_rule").head(50).to_dicts()],
            "what_if_cap": self.what_if_cap,
            "what_if_from": self.what_if_from.isoformat() if self.what_if_from else None,
            "portfolio_rules": [{k: v for k, v in r.__dict__.items() if k != "daily"} for r in self.rules],
            "config": self.config_source,
        }

    def breakdown_of(self, loan_id: str) -> list[dict[str, Any]]:
        """Each cost item of one breach: item, kind, payee, amount (fen), annualised contribution."""
        if self.breach_items.height == 0:
            return []
        return (self.breach_items.filter(pl.col("loan_id") == loan_id).drop("loan_id").to_dicts())


def _caps_column(df: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    combos = df.select("lender_type", "channel", "start").unique()
    rows = []
    for lt, ch, d in combos.iter_rows():
        try:
            cap = pricing_cap(d, lt, ch, cfg)
        except PricingError as exc:
            raise PricingError("ts", f"loans disbursed on {d} ({lt}, {ch}): {exc.reason}") from None
        rows.append({"lender_type": lt, "channel": ch, "start": d, "cap": cap.limit, "cap_rule": cap.rule_id})
    caps = pl.DataFrame(rows, schema={"lender_type": pl.Utf8, "channel": pl.Utf8, "start": pl.Date,
                                      "cap": pl.Float64, "cap_rule": pl.Utf8})
    return df.join(caps, on=["lender_type", "channel", "start"], how="left")


def breach_breakdown(breaches: pl.DataFrame, cfg: Config) -> pl.DataFrame:
    """Per breach loan and cost item: kind, payee, amount and annualised contribution (exact scalar path)."""
    from fengkong.pricing.cost import annualised_cost
    from fengkong.pricing.schedule import build_schedule
    from fengkong.pricing.vector import product_of_row

    rows = []
    for row in breaches.iter_rows(named=True):
        cost = annualised_cost(build_schedule(product_of_row(row), cfg))
        rows += [{"loan_id": row["loan_id"], "item": i.name, "kind": i.kind, "payee": i.payee, "timing": i.timing,
                  "amount_fen": i.total_fen, "annualised": i.annualised_contribution}
                 for i in cost.items if i.total_fen or i.name == "interest"]
    return pl.DataFrame(rows, schema={"loan_id": pl.Utf8, "item": pl.Utf8, "kind": pl.Utf8, "payee": pl.Utf8,
                                      "timing": pl.Utf8, "amount_fen": pl.Int64, "annualised": pl.Float64})


def monitor(loans: pl.DataFrame, quarter: str, *, as_of: dt.date | None = None, recent_days: int = 14,
            what_if_cap: float | None = None, what_if_from: dt.date | None = None,
            config: Config | None = None, top: int = 10, breakdown_top: int = 200) -> ComplianceReport:
    """Evaluate the quarter to date (disbursements with start in [quarter start, as_of]); the cost breakdown
    of the ``breakdown_top`` highest-cost breaches is computed for the reports."""
    cfg = config or load_config()
    q0, q1 = quarter_bounds(quarter)
    earliest = cfg.earliest_cap_date()
    if q1 - dt.timedelta(days=1) < earliest:
        raise PricingError("quarter", f"{quarter} ends before every configured cap rule (earliest {earliest})")
    if recent_days < 1:
        raise PricingError("recent_days", "must be >= 1")
    if what_if_cap is not None and not 0 < what_if_cap < 1:
        raise PricingError("what_if_cap", f"must be an annual decimal in (0, 1), got {what_if_cap}")
    for col, choices in (("lender_type", LENDER_TYPES), ("channel", CHANNELS)):
        if col not in loans.columns:
            raise PricingError(col, "required column is missing from the loans file")
        bad = loans.filter(pl.col(col).is_null() | ~pl.col(col).is_in(list(choices)))
        if bad.height:
            lid = bad["loan_id"][0] if "loan_id" in bad.columns else "?"
            raise PricingError(col, f"{bad[col][0]!r} is not one of {', '.join(choices)} (loan {lid})")
    if "loan_id" not in loans.columns:
        raise PricingError("loan_id", "required column is missing from the loans file")
    df = loans_apr(loans, config=cfg)
    last = df["start"].max() if df.height else None
    if as_of is None:
        as_of = min(last, q1 - dt.timedelta(days=1)) if last is not None and last >= q0 else q0  # type: ignore[operator]
    if not q0 <= as_of < q1:
        raise PricingError("as_of", f"{as_of} is not inside {quarter} ({q0} to {q1 - dt.timedelta(days=1)})")
    qtd = df.filter((pl.col("start") >= q0) & (pl.col("start") <= as_of))
    if qtd.height:
        qtd = _caps_column(qtd, cfg)
    else:
        qtd = qtd.with_columns(pl.lit(None, dtype=pl.Float64).alias("cap"), pl.lit(None, dtype=pl.Utf8).alias("cap_rule"))
    nd = int((cfg.data.get("cap_check") or {}).get("compare_decimals", 4))
    # same rule as caps.compare_apr: round half-up to nd decimals (the 1e-12 guards binary representation)
    cmp = ((pl.col("apr_irr") * 10**nd + 0.5 + 1e-9).floor() / 10**nd)
    qtd = qtd.with_columns((pl.col("cap").is_not_null() & (cmp > pl.col("cap") + 1e-12)).alias("breach"))
    breaches = qtd.filter(pl.col("breach")).sort("apr_irr", descending=True)
    start_wi = max(what_if_from or as_of, as_of + dt.timedelta(days=1))
    remaining = max(0, (q1 - as_of).days - 1)
    wi_days = max(0, (q1 - start_wi).days) if what_if_cap is not None else 0
    rules: list[PortfolioRule] = []
    for lt in sorted(set(qtd["lender_type"].to_list())) if qtd.height else []:
        for r in cfg.caps_on(q1 - dt.timedelta(days=1), lt, "own") + cfg.caps_on(q1 - dt.timedelta(days=1), lt, "zhudai"):
            if r.get("metric") != "avg_new_loan_cost" or any(x.rule_id == r["id"] and x.lender_type == lt for x in rules):
                continue
            rules.append(_evaluate(qtd.filter(pl.col("lender_type") == lt), r, lt, as_of, recent_days, remaining,
                                   what_if_cap, wi_days, top))
    return ComplianceReport(quarter, as_of, qtd, breaches, rules, what_if_cap,
                            start_wi if what_if_cap is not None else None, cfg.source, recent_days,
                            breach_breakdown(breaches.head(breakdown_top), cfg))


def _evaluate(g: pl.DataFrame, r: dict[str, Any], lt: str, as_of: dt.date, recent_days: int, remaining: int,
              what_if_cap: float | None, wi_days: int, top: int) -> PortfolioRule:
    limit = float(r["limit"])
    w = g["amount_fen"].cast(pl.Float64).to_numpy()
    a = g["apr_irr"].to_numpy()
    W, S = float(w.sum()), float((w * a).sum())
    avg = S / W if W else float("nan")
    recent = g.filter(pl.col("start") > as_of - dt.timedelta(days=recent_days))
    rw = recent["amount_fen"].cast(pl.Float64).to_numpy()
    ra = recent["apr_irr"].to_numpy()
    V = float(rw.sum()) / recent_days
    ar = float((rw * ra).sum() / rw.sum()) if rw.sum() else avg
    add = V * remaining
    projected = (S + add * ar) / (W + add) if W + add else float("nan")
    whatif = None
    if what_if_cap is not None:
        ar_c = float((rw * np.minimum(ra, what_if_cap)).sum() / rw.sum()) if rw.sum() else min(avg, what_if_cap)
        plain = V * (remaining - wi_days)
        whatif = (S + plain * ar + V * wi_days * ar_c) / (W + add) if W + add else float("nan")
    required = (limit * (W + add) - S) / add if add else None
    contrib = g.with_columns(((pl.col("amount_fen").cast(pl.Float64) * (pl.col("apr_irr") - limit)) / W)
                             .alias("contribution"))
    drivers = (contrib.sort("contribution", descending=True).head(top)
               .select("loan_id", "start", "amount_fen", "repayment_method", "term_months", "apr_irr", "contribution")
               .with_columns(pl.col("start").cast(pl.Utf8)).to_dicts())
    seg_cols = [c for c in ("repayment_method", "term_months", "channel", "partner_id") if c in g.columns]
    segments = (contrib.group_by(seg_cols).agg(pl.len().alias("loans"), pl.col("amount_fen").sum(),
                                                ((pl.col("amount_fen") * pl.col("apr_irr")).sum()
                                                 / pl.col("amount_fen").sum()).alias("weighted_apr"),
                                                pl.col("contribution").sum())
                .sort("contribution", descending=True).head(top).to_dicts())
    daily = (g.group_by("start").agg(pl.col("amount_fen").sum().alias("p"),
                                     (pl.col("amount_fen") * pl.col("apr_irr")).sum().alias("s"))
             .sort("start").with_columns((pl.col("s").cum_sum() / pl.col("p").cum_sum()).alias("cum_avg"),
                                         (pl.col("s") / pl.col("p")).alias("day_avg"))
             .with_columns(pl.col("start").cast(pl.Utf8)).select("start", "p", "day_avg", "cum_avg").to_dicts())
    return PortfolioRule(
        rule_id=r["id"], lender_type=lt, limit=limit, status=str(r.get("status")), in_transition=r["in_transition"],
        loans=g.height, principal_fen=int(W), weighted_apr=avg, excess=avg - limit, projected_apr=projected,
        projected_whatif_apr=whatif, required_rest_apr=required, recent_daily_principal_fen=V,
        remaining_days=remaining, drivers=drivers, segments=segments, daily=daily,
        description=str(r.get("description") or ""),
        transition_from=_date(r.get("transition_from"), f"caps.{r['id']}.transition_from"),
        binding_from=_date(r.get("from"), f"caps.{r['id']}.from"))
