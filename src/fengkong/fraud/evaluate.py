"""``fengkong evaluate``: run the fraud rules over a simulated world and score them against its ground truth.

Decisions use only the event files: the reference application strategy that ``fengkong decide`` runs
(``fengkong/strategies/application.yaml``), over point-in-time features from the same backfill as
``fengkong backtest`` (``features.providers.backfill_all``: the standard features + the fraud provider's),
compiled by the strategy language to Polars; merchant lists come from weekly batches over past purchases.
``labels.parquet`` and ``outcomes.parquet`` are read afterwards, to measure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.errors import InputError
from fengkong.strategy.spec import ACTION_RANK

#: Merchant cash-out score at or above which the weekly batch lists a merchant.
MERCHANT_THRESHOLD = 0.535  # evidence >= 1.5 (score = 1 - 0.6 ** evidence), see signals.merchant_scores
#: Loan share sent to other lenders within 7 days that raises a loan-to-repay-loan alert.
REPAY_SHARE_THRESHOLD = 0.3
#: The rulesets of the reference application strategy that act for each planted pattern ("the identity
#: rules" are the hard identity checks + the fraud pack's identity-theft ruleset).
PATTERN_RULESETS = {"identity": ("identity", "fraud_identity"), "ring": ("fraud_ring",),
                    "multi_head": ("fraud_multi_head",)}
#: Single rules outside those rulesets that act on a pattern: repeat applications by one ID in 7 days
#: (the velocity ruleset's VEL_ID_7D) are the visible face of multi-head borrowing.
PATTERN_RULES = {"multi_head": ("VEL_ID_7D",)}
#: The reference purchase strategy (what ``fengkong decide`` runs for purchases).
PURCHASE_STRATEGY = Path(__file__).parents[1] / "strategies" / "purchase.yaml"


class EvaluationError(InputError, ValueError):
    """The world directory cannot be evaluated; the message names the file."""


def _ap(y: np.ndarray, s: np.ndarray) -> float | None:
    from sklearn.metrics import average_precision_score

    if y.sum() == 0 or y.sum() == len(y):
        return None
    return float(average_precision_score(y, np.nan_to_num(s.astype(float), nan=0.0)))


def _pr(pred: pl.Series, truth: pl.Series) -> tuple[float | None, float | None, int, int, int]:
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    rec = tp / (tp + fn) if tp + fn else None
    prec = tp / (tp + fp) if tp + fp else None
    return rec, prec, tp, fp, fn


def decide(events: pl.DataFrame, strategy_path: str | Path | None = None,
           features: pl.DataFrame | None = None) -> tuple[pl.DataFrame, Any, pl.DataFrame]:
    """Run the reference application strategy over every application with the strategy package's vectorised
    evaluation (``Strategy.evaluate_frame``, the offline twin of the engine's online path, features from
    ``backfill_all`` exactly as ``fengkong backtest``): per pattern the strongest action of its rulesets,
    and the outcome. Returns (decisions, strategy, feature frame)."""
    from fengkong.features import load_features
    from fengkong.features.providers import ProviderContext, backfill_all, combined_kinds
    from fengkong.fraud.provider import STRATEGY
    from fengkong.strategy.backtest import prepare_frame
    from fengkong.strategy.compiled import load_strategy

    fs = load_features()
    strategy = load_strategy(strategy_path or STRATEGY, features=combined_kinds(fs.kinds))
    if features is None:
        features = backfill_all(events, fs, ProviderContext(state="memory"), names=set(strategy.used_features))
    frame = prepare_frame(events, strategy, features=features)
    dec = strategy.evaluate_frame(frame)
    cols = []
    for rid, node in strategy.spec.nodes.items():
        if not getattr(node, "rules", None):
            continue
        acts = [pl.when(pl.col(f"hit.{r.id}")).then(pl.lit(ACTION_RANK[r.action])).otherwise(0) for r in node.rules]
        cols.append(pl.max_horizontal(acts).alias(f"act_{rid}"))
    credited = {r.id: r.action for node in strategy.spec.nodes.values() for r in (getattr(node, "rules", None) or ())
                if any(r.id in ids for ids in PATTERN_RULES.values())}
    cols += [pl.when(pl.col(f"hit.{rid}")).then(pl.lit(ACTION_RANK[act])).otherwise(0).alias(f"rule_{rid}")
             for rid, act in credited.items()]
    out = dec.select("event_id", "outcome", "reason_codes", *cols).join(
        frame.select("event_id", "customer_id", "ts", "amount_fen"), on="event_id", how="left")
    acts = [c for c in out.columns if c.startswith("act_")]  # rule_* columns repeat an act_* ruleset
    out = out.with_columns(pl.max_horizontal(acts).alias("act"))
    for pattern, rulesets in PATTERN_RULESETS.items():
        have = [pl.col(f"act_{r}") for r in rulesets if f"act_{r}" in out.columns]
        have += [pl.col(f"rule_{r}") for r in PATTERN_RULES.get(pattern, ()) if f"rule_{r}" in out.columns]
        out = out.with_columns((pl.max_horizontal(have) if have else pl.lit(0)).alias(f"pat_{pattern}"))
    return out.drop([c for c in out.columns if c.startswith("rule_")]), strategy, features


def purchase_decisions(events: pl.DataFrame, strategy_path: str | Path | None = None,
                       features: pl.DataFrame | None = None) -> pl.DataFrame:
    """The reference purchase strategy over every purchase (vectorised, features from ``backfill_all``, or
    ``features`` when given): ``event_id``, ``outcome`` and one ``hit.<rule>`` column per rule."""
    from fengkong.features import load_features
    from fengkong.features.providers import ProviderContext, backfill_all, combined_kinds
    from fengkong.strategy.backtest import prepare_frame
    from fengkong.strategy.compiled import load_strategy

    fs = load_features()
    strategy = load_strategy(strategy_path or PURCHASE_STRATEGY, features=combined_kinds(fs.kinds))
    if not (events["event_type"] == "purchase").any():
        return pl.DataFrame(schema={"event_id": pl.Utf8, "outcome": pl.Utf8})
    feats = features if features is not None else backfill_all(
        events, fs, ProviderContext(state="memory"), names=set(strategy.used_features))
    frame = prepare_frame(events, strategy, features=feats)
    dec = strategy.evaluate_frame(frame)
    return dec.select("event_id", "outcome", *[c for c in dec.columns if c.startswith("hit.")])


def _cash_out_decisions(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Weekly batches: merchants scored on purchases before each week; at a listed merchant, purchases with the
    cash-out shape (round, just below a round sum, or the buyer's whole credit line) are stopped (the merchant's
    ordinary sales go on)."""
    from fengkong.fraud.signals import _credit_line, cash_out_shape, merchant_scores

    pur = events.filter((pl.col("event_type") == "purchase") & ~pl.col("is_refund").fill_null(False))
    if pur.height == 0:
        return (pur.select("event_id").with_columns(pl.lit(False).alias("stopped"), pl.lit(0.0).alias("score")),
                pl.DataFrame())
    pur = _credit_line(events, pur)
    start = pur["ts"].min()
    end = pur["ts"].max()
    parts = []
    week = dt.timedelta(days=7)
    cut = start + week
    while cut <= end + week:
        hist = events.filter(pl.col("ts") < cut)
        ms = merchant_scores(hist).select("merchant_id", pl.col("score").alias("m_score"))
        wk = pur.filter((pl.col("ts") >= cut) & (pl.col("ts") < cut + week)).join(ms, on="merchant_id", how="left")
        # purchase-level score (for AP): the merchant's batch score, halved unless the amount has the shape
        parts.append(wk.select("event_id", ((pl.col("m_score").fill_null(0.0) >= MERCHANT_THRESHOLD)
                                            & cash_out_shape()).alias("stopped"),
                               (pl.col("m_score").fill_null(0.0)
                                * pl.when(cash_out_shape()).then(1.0).otherwise(0.5)).alias("score")))
        cut += week
    final = merchant_scores(events)
    first_week = pur.filter(pl.col("ts") < start + week).select("event_id").with_columns(
        pl.lit(False).alias("stopped"), pl.lit(0.0).alias("score"))
    return pl.concat([first_week, *parts]), final


def evaluate_world(world: str | Path, features: pl.DataFrame | None = None,
                   strategy: str | Path | None = None, events: pl.DataFrame | None = None) -> dict[str, Any]:
    """Decisions over the world, then recall / precision / AP / loss avoided per planted pattern (``events`` /
    ``features``: the world's events and their full point-in-time backfill when the caller has them)."""
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world
    from fengkong.fraud.signals import loan_to_repay

    w = Path(world)
    try:
        events = read_world(w) if events is None else events
    except EventValidationError as exc:
        raise EvaluationError(f"{w}: {exc}") from None
    dec, spec, feats = decide(events, strategy, features)
    co_dec, merchants = _cash_out_decisions(events)
    l2r = loan_to_repay(events)
    # ---- ground truth only from here on
    for name in ("labels.parquet", "outcomes.parquet"):
        if not (w / name).exists():
            raise EvaluationError(f"{w / name}: missing (evaluate needs a simulated world with ground truth)")
    labels = pl.read_parquet(w / "labels.parquet")
    outcomes = pl.read_parquet(w / "outcomes.parquet")
    disb = events.filter(pl.col("event_type") == "disbursement").select("loan_id", pl.col("amount_fen").alias("loan_fen"))
    loss = (outcomes.filter(pl.col("bad").fill_null(False)).join(disb, on="loan_id")
            .select(pl.col("application_id").alias("event_id"), "loan_fen"))
    dec = dec.join(loss, on="event_id", how="left").with_columns(pl.col("loan_fen").fill_null(0))
    dec = dec.join(feats.select("event_id", "idt_signal_count", "graph_cluster_applicants", "graph_cluster_apps_7d",
                                "graph_device_identities", "graph_agent_applicants", "fr_packaged_docs",
                                "fr_thin_file_high_income", "fr_inquiries_7d", "fr_nonbank_loans", "fr_dti"),
                   on="event_id", how="left")
    app_labels = labels.filter(pl.col("entity_type") == "application")
    any_label = app_labels["entity_id"].unique().implode()
    stop = ACTION_RANK["review"]
    res: dict[str, Any] = {}

    def lab(pattern: str, entity: str) -> pl.Series:
        return labels.filter((pl.col("pattern") == pattern) & (pl.col("entity_type") == entity))["entity_id"].unique()

    # identity theft: application level
    theft = dec["event_id"].is_in(lab("identity_theft", "application").implode())
    pred = dec["pat_identity"] >= stop
    rec, prec, *_ = _pr(pred, theft)
    score = dec["idt_signal_count"].to_numpy() + 0.01 * dec["graph_device_identities"].to_numpy()
    res["identity_theft"] = {"unit": "application", "positives": int(theft.sum()), "recall": rec, "precision": prec,
                             "average_precision": _ap(theft.to_numpy(), score),
                             "loss_avoided_fen": int(dec.filter(pred & theft)["loan_fen"].sum()),
                             "loss_missed_fen": int(dec.filter(~pred & theft)["loan_fen"].sum())}
    # debt-bearing rings: member level, caught at their first or second application (before a second loan)
    ring_members = lab("debt_bearing_ring", "customer")
    d2 = dec.sort("ts", "event_id").with_columns(pl.int_range(pl.len()).over("customer_id").alias("k"))
    ring_score = (pl.col("graph_cluster_apps_7d").clip(0, 10) / 10 + (pl.col("graph_device_identities") >= 2)
                  + (pl.col("graph_agent_applicants") >= 3) + pl.col("fr_packaged_docs").cast(pl.Float64)
                  + pl.col("fr_thin_file_high_income").cast(pl.Float64))
    per_c = d2.group_by("customer_id").agg(
        (pl.col("pat_ring") >= stop).filter(pl.col("k") <= 1).any().alias("caught_early"),
        (pl.col("pat_ring") >= stop).any().alias("flagged"), ring_score.max().alias("score"),
        pl.col("loan_fen").filter(pl.col("pat_ring") >= stop).sum().alias("avoided"))
    is_ring = per_c["customer_id"].is_in(ring_members.implode())
    rec = float(per_c.filter(is_ring)["caught_early"].mean()) if is_ring.any() else None
    flagged = per_c["flagged"]
    prec = float((flagged & is_ring).sum() / flagged.sum()) if flagged.any() else None
    res["debt_bearing_ring"] = {"unit": "member (caught by the 2nd application)", "positives": int(is_ring.sum()),
                                "recall": rec, "precision": prec,
                                "average_precision": _ap(is_ring.to_numpy(), per_c["score"].to_numpy()),
                                "loss_avoided_fen": int(per_c.filter(is_ring)["avoided"].sum())}
    # multi-head: customer level
    mh = lab("multi_head", "customer")
    per_m = dec.group_by("customer_id").agg(
        (pl.col("pat_multi_head") >= stop).any().alias("flagged"),
        (pl.col("fr_inquiries_7d").cast(pl.Float64) + pl.col("fr_nonbank_loans") + pl.col("fr_dti").fill_null(0))
        .max().alias("score"), pl.col("loan_fen").filter(pl.col("pat_multi_head") >= stop).sum().alias("avoided"))
    is_mh = per_m["customer_id"].is_in(mh.implode())
    rec, prec, *_ = _pr(per_m["flagged"], is_mh)
    res["multi_head"] = {"unit": "customer", "positives": int(is_mh.sum()), "recall": rec, "precision": prec,
                         "average_precision": _ap(is_mh.to_numpy(), per_m["score"].to_numpy()),
                         "loss_avoided_fen": int(per_m.filter(is_mh)["avoided"].sum())}
    # loan-to-repay-loan: post-loan alert, loan level via the customer's loans
    l2r_loans = lab("loan_to_repay_loan", "loan")
    if l2r.height:
        loans = l2r
        pred = loans["repay_share"].fill_null(0) >= REPAY_SHARE_THRESHOLD
        truth = loans["loan_id"].is_in(l2r_loans.implode())
        rec, prec, *_ = _pr(pred, truth)
        res["loan_to_repay_loan"] = {"unit": "loan (post-loan alert)", "positives": int(truth.sum()), "recall": rec,
                                     "precision": prec,
                                     "average_precision": _ap(truth.to_numpy(), loans["repay_share"].fill_null(0)
                                                              .to_numpy()), "loss_avoided_fen": None}
    # cash-out merchants (final batch) and cash-out purchases (stopped by the weekly merchant list)
    cm = lab("cash_out_merchant", "merchant")
    if merchants.height:
        pred = merchants["score"] >= MERCHANT_THRESHOLD
        truth = merchants["merchant_id"].is_in(cm.implode())
        rec, prec, *_ = _pr(pred, truth)
        res["cash_out_merchant"] = {"unit": "merchant", "positives": int(truth.sum()), "recall": rec, "precision": prec,
                                    "average_precision": _ap(truth.to_numpy(), merchants["score"].to_numpy()),
                                    "loss_avoided_fen": None}
    co = lab("cash_out", "purchase")
    pur = co_dec.join(events.select("event_id", "amount_fen", "merchant_id"), on="event_id")
    if "cash_out_merchant" in res:  # purchases stopped at truly colluding merchants (weekly lists)
        res["cash_out_merchant"]["loss_avoided_fen"] = int(
            pur.filter(pl.col("stopped") & pl.col("merchant_id").is_in(cm.implode()))["amount_fen"].sum())
    truth = pur["event_id"].is_in(co.implode())
    rec, prec, *_ = _pr(pur["stopped"], truth)
    res["cash_out"] = {"unit": "purchase (stopped at a listed merchant)", "positives": int(truth.sum()),
                       "recall": rec, "precision": prec,
                       "average_precision": _ap(truth.to_numpy(), pur["score"].to_numpy()),
                       "loss_avoided_fen": int(pur.filter(pl.col("stopped") & truth)["amount_fen"].sum())}
    # cost side: good applications (no planted pattern) rejected / sent to review
    good = ~dec["event_id"].is_in(any_label)
    g = dec.filter(good)
    n = max(g.height, 1)
    idt_review = int((g["pat_identity"] == ACTION_RANK["review"]).sum())
    # the whole strategy's outcome: rules, score cut-off and the flow's review band included
    res["good_review_rate"] = float((g["outcome"] == "review").sum() / n)
    res["good_reject_rate"] = float((g["outcome"] == "reject").sum() / n)
    res["good_rule_review_rate"] = float((g["act"] == ACTION_RANK["review"]).sum() / n)
    res["good_rule_reject_rate"] = float((g["act"] == ACTION_RANK["reject"]).sum() / n)
    res["good_identity_review_rate"] = idt_review / n
    # the ring rules (they act on graph evidence): share of good applications they stop
    res["good_ring_rule_rate"] = float((g["pat_ring"] >= stop).sum() / n)
    fraud_act = pl.max_horizontal([pl.col(f"pat_{p}") for p in PATTERN_RULESETS])
    res["good_fraud_review_rate"] = float(g.select(fraud_act == ACTION_RANK["review"]).to_series().sum() / n)
    res["good_fraud_reject_rate"] = float(g.select(fraud_act == ACTION_RANK["reject"]).to_series().sum() / n)
    res["good_purchase_stop_rate"] = float(pur.filter(~truth)["stopped"].mean() or 0.0)
    # the reference purchase strategy itself (what `fengkong decide` runs on purchases): good = not cash-out
    pdec = purchase_decisions(events, features=features)
    if pdec.height:
        good_p = pdec.filter(~pl.col("event_id").is_in(co.implode()))
        m = max(good_p.height, 1)
        res["purchase_strategy"] = {
            "good_purchases": good_p.height,
            "good_stop_rate": float((good_p["outcome"] != "allow").sum() / m),
            "cash_out_stopped": float(pdec.filter(pl.col("event_id").is_in(co.implode()))["outcome"]
                                      .ne("allow").mean() or 0.0),
            "good_stop_rate_by_rule": {c[4:]: float(good_p[c].fill_null(False).sum() / m)
                                       for c in pdec.columns if c.startswith("hit.")}}
    res["applications"] = dec.height
    res["good_applications"] = g.height
    res["strategy"] = (f"{spec.name} v{spec.version} via fengkong.strategy Strategy.evaluate_frame "
                       f"(sha256 {spec.sha256[:12]})")
    res["targets"] = _targets(res)
    return res


def _targets(res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    def ge(v: float | None, t: float) -> bool:
        return v is not None and v >= t

    r, i, c = res["debt_bearing_ring"], res["identity_theft"], res.get("cash_out_merchant", {})
    return {
        "ring_recall>=0.90_at_precision>=0.90": {"met": ge(r["recall"], 0.9) and ge(r["precision"], 0.9),
                                                 "recall": r["recall"], "precision": r["precision"]},
        "identity_theft_stopped>=0.85_with_identity_review<0.01": {
            "met": ge(i["recall"], 0.85) and res["good_identity_review_rate"] < 0.01,
            "recall": i["recall"], "good_identity_review_rate": res["good_identity_review_rate"]},
        "cash_out_merchants_flagged>=0.90": {"met": ge(c.get("recall"), 0.9), "recall": c.get("recall")},
    }


def render_table(res: dict[str, Any]) -> str:
    """The evaluation as a text table."""
    def f(v: Any) -> str:
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else f"{v:,}"

    lines = [f"{'pattern':<20} {'unit':<38} {'pos':>6} {'recall':>7} {'prec':>7} {'AP':>7} {'loss avoided ¥':>15}"]
    for k, v in res.items():
        if isinstance(v, dict) and "recall" in v and "unit" in v:
            la = v.get("loss_avoided_fen")
            lines.append(f"{k:<20} {v['unit']:<38} {v['positives']:>6} {f(v['recall']):>7} {f(v['precision']):>7} "
                         f"{f(v['average_precision']):>7} {'–' if la is None else f'{la / 100:,.0f}':>15}")
    lines.append(f"good applications {res['good_applications']:,} of {res['applications']:,} (whole strategy): "
                 f"review rate {res['good_review_rate']:.3%}, reject rate {res['good_reject_rate']:.3%}; by the fraud "
                 f"rules: review {res['good_fraud_review_rate']:.3%} (identity rules "
                 f"{res['good_identity_review_rate']:.3%}), reject {res['good_fraud_reject_rate']:.3%}; ring rules "
                 f"{res['good_ring_rule_rate']:.3%}; good purchases "
                 f"stopped {res['good_purchase_stop_rate']:.3%} (weekly merchant list)")
    ps = res.get("purchase_strategy")
    if ps:
        worst = ", ".join(f"{k} {v:.3%}" for k, v in sorted(ps["good_stop_rate_by_rule"].items(),
                                                             key=lambda kv: -kv[1])[:3])
        lines.append(f"purchase strategy: good purchases stopped (review/reject) {ps['good_stop_rate']:.3%} of "
                     f"{ps['good_purchases']:,} ({worst}); cash-out purchases stopped {ps['cash_out_stopped']:.3%}")
    for name, t in res["targets"].items():
        lines.append(f"target {name}: {'met' if t['met'] else 'NOT met'} "
                     + ", ".join(f"{k}={f(v)}" for k, v in t.items() if k != "met"))
    lines.append(f"strategy: {res['strategy']}")
    return "\n".join(lines)
