"""``fengkong evaluate`` for the post-loan pack: the reference transfer and disbursement strategies over a
simulated world, scored against its planted fund misuse, loan-to-repay-loan, payee mismatches and splitting.

Decisions use only the event files (``alerts.decide_history``); ``labels.parquet`` is read afterwards. The
planted categories are translated to taxonomy classes with the dictionary's own category map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from fengkong.errors import InputError
from fengkong.postloan.alerts import DESTINATION_RULES, Alerts, decide_history
from fengkong.postloan.taxonomy import load_taxonomy

#: Loan-level targets of the issue: (recall, precision) per destination class and for loan-to-repay-loan;
#: alerts on good borrowers' loans below this share.
TARGET_RECALL, TARGET_PRECISION, GOOD_ALERT_MAX = 0.95, 0.90, 0.005


class EvaluationError(InputError, ValueError):
    """The world directory cannot be evaluated; the message names the file."""


def _pr(pred: set, truth: set) -> tuple[float | None, float | None, int, int, int]:
    tp, fp, fn = len(pred & truth), len(pred - truth), len(truth - pred)
    return (tp / (tp + fn) if tp + fn else None, tp / (tp + fp) if tp + fp else None, tp, fp, fn)


def _row(unit: str, pred: set, truth: set, **extra: Any) -> dict[str, Any]:
    rec, prec, tp, fp, fn = _pr(pred, truth)
    return {"unit": unit, "positives": len(truth), "alerted": len(pred), "recall": rec, "precision": prec,
            "tp": tp, "fp": fp, "fn": fn, **extra}


def score(res: Alerts, labels: pl.DataFrame, events: pl.DataFrame) -> dict[str, Any]:
    """Recall / precision per destination class, loan-to-repay-loan, payee mismatch, splitting, and the good-loan
    alert rate."""
    tax = load_taxonomy()
    cat_map = dict(tax.merchant_category)

    def lab(pattern: str, entity: str) -> pl.DataFrame:
        return labels.filter((pl.col("pattern") == pattern) & (pl.col("entity_type") == entity))

    fm_tr = lab("fund_misuse", "transfer").select(pl.col("entity_id").alias("event_id"),
                                                  pl.col("group_id").alias("loan_id"), "detail")
    truth_pairs = {(r[0], cat_map.get(r[1], "UNKNOWN")) for r in fm_tr.select("loan_id", "detail").iter_rows()}
    a = res.alerts
    dest = a.filter(pl.col("rule").is_in(list(DESTINATION_RULES)) & pl.col("loan_id").is_not_null())
    pred_pairs = {(r[0], r[1]) for r in dest.select("loan_id", "use_class").iter_rows()}
    classes = sorted({c for _, c in truth_pairs} | {c for _, c in pred_pairs})
    out: dict[str, Any] = {}
    misuse_loans = set(lab("fund_misuse", "loan")["entity_id"].to_list())
    out["fund_misuse"] = _row("loan (any prohibited-use alert)", {x for x, _ in pred_pairs}, misuse_loans)
    for c in classes:
        out[f"fund_misuse.{c}"] = _row(f"loan × destination {c}", {p for p in pred_pairs if p[1] == c},
                                       {p for p in truth_pairs if p[1] == c})
    l2r_pred = set(a.filter(pl.col("rule") == "PL_LOAN_TO_REPAY_LOAN")["loan_id"].drop_nulls().to_list())
    # a planted loan-to-repay-loan whose transfers fall after the world's end cannot be seen: not a positive
    l2r_all = set(lab("loan_to_repay_loan", "loan")["entity_id"].to_list())
    l2r_seen = l2r_all & set(fm_tr["loan_id"].to_list())
    out["loan_to_repay_loan.postloan"] = _row("loan (PL_LOAN_TO_REPAY_LOAN)", l2r_pred, l2r_seen,
                                              unobservable=len(l2r_all - l2r_seen))
    pm_pred = set(a.filter(pl.col("rule") == "DB_PAYEE_MISMATCH")["loan_id"].drop_nulls().to_list())
    out["payee_mismatch"] = _row("loan (DB_PAYEE_MISMATCH)", pm_pred,
                                 set(lab("payee_mismatch", "loan")["entity_id"].to_list()))
    # good borrowers: customers with no planted pattern on themselves, any of their applications or loans
    disb = events.filter(pl.col("event_type") == "disbursement").select("loan_id", "application_id", "customer_id")
    # splitting is a customer's pattern (two drawdowns paid to one payee): scored per customer
    sp_loans = a.filter(pl.col("rule") == "PL_SPLITTING")["loan_id"].drop_nulls().to_list()
    sp_pred = set(disb.filter(pl.col("loan_id").is_in(sp_loans))["customer_id"].to_list())
    sp_truth = set(disb.filter(pl.col("loan_id").is_in(lab("splitting", "loan")["entity_id"].to_list()))
                   ["customer_id"].to_list())
    out["splitting"] = _row("customer (PL_SPLITTING)", sp_pred, sp_truth)
    bad_ids = list(set(labels["entity_id"].to_list()))
    bad_cust = set(disb.filter(pl.col("loan_id").is_in(bad_ids) | pl.col("application_id").is_in(bad_ids)
                               | pl.col("customer_id").is_in(bad_ids))["customer_id"].to_list())
    apps = events.filter((pl.col("event_type") == "application") & pl.col("event_id").is_in(bad_ids))
    bad_cust |= set(apps["customer_id"].to_list())
    good = disb.filter(~pl.col("customer_id").is_in(list(bad_cust)))
    good_loans = set(good["loan_id"].to_list())
    alerted = set(a["loan_id"].drop_nulls().to_list())
    by_rule = {r: len(set(g["loan_id"].drop_nulls().to_list()) & good_loans)
               for (r,), g in a.group_by("rule")}
    n_good = max(len(good_loans), 1)
    io_loans = set(a.filter(pl.col("rule") == "PL_IN_OUT_24H")["loan_id"].drop_nulls().to_list())
    labelled_loans = set(disb["loan_id"].to_list()) - good_loans
    out["in_out_24h"] = {"unit": "loan (PL_IN_OUT_24H; any planted pattern counts as true)", "alerted": len(io_loans),
                         "on_labelled_loans": len(io_loans & labelled_loans), "on_good_loans": len(io_loans & good_loans),
                         "positives": len(labelled_loans), "recall": None,
                         "precision": len(io_loans & labelled_loans) / len(io_loans) if io_loans else None}
    tr = res.trace.filter(pl.col("direction") == "out")
    looks = tr.filter(pl.col("pl_class").is_in(["OWN_ACCOUNT", "PERSON", "CONSUMPTION"]))
    dest_look = dest.join(looks.select("event_id"), on="event_id", how="semi").height
    inflow_alerts = a.join(res.trace.filter(pl.col("direction") == "in").select("event_id"), on="event_id",
                           how="semi").height
    unknown = tr.filter((pl.col("pl_class") == "UNKNOWN") & (pl.col("pl_attributed_fen").fill_null(0) > 0))
    out["postloan_good_loans"] = {
        "good_loans": len(good_loans), "alerted": len(alerted & good_loans),
        "alert_rate": len(alerted & good_loans) / n_good, "by_rule": by_rule,
        "lookalike_outflows": looks.height, "destination_alerts_on_lookalikes": dest_look,
        "alerts_on_inflows": inflow_alerts,
        "unknown_outflows_reported": unknown.height, "unknown_loan_money_fen": int(unknown["pl_attributed_fen"].sum()),
        "transfers": res.trace.height, "taxonomy": res.taxonomy, "strategies": res.strategies}
    out["postloan_targets"] = _targets(out, classes)
    return out


def _targets(out: dict[str, Any], classes: list[str]) -> dict[str, Any]:
    def ok(r: dict[str, Any]) -> bool:
        return (r["recall"] is not None and r["recall"] >= TARGET_RECALL and r["precision"] is not None
                and r["precision"] >= TARGET_PRECISION)

    t = {f"fund_misuse.{c}_recall>=0.95_at_precision>=0.90": {
        "met": ok(out[f"fund_misuse.{c}"]), "recall": out[f"fund_misuse.{c}"]["recall"],
        "precision": out[f"fund_misuse.{c}"]["precision"], "positives": out[f"fund_misuse.{c}"]["positives"]}
        for c in classes if out[f"fund_misuse.{c}"]["positives"]}
    r = out["loan_to_repay_loan.postloan"]
    t["loan_to_repay_loan_recall>=0.95_at_precision>=0.90"] = {"met": ok(r), "recall": r["recall"],
                                                              "precision": r["precision"]}
    if out["splitting"]["positives"]:
        r = out["splitting"]
        t["splitting_recall>=0.95_at_precision>=0.90"] = {"met": ok(r), "recall": r["recall"],
                                                         "precision": r["precision"], "positives": r["positives"]}
    g = out["postloan_good_loans"]
    t["good_loan_alert_rate<0.005"] = {"met": g["alert_rate"] < GOOD_ALERT_MAX, "alert_rate": g["alert_rate"]}
    t["no_destination_alert_on_lookalikes"] = {"met": g["destination_alerts_on_lookalikes"] == 0
                                               and g["alerts_on_inflows"] == 0,
                                               "alerts": g["destination_alerts_on_lookalikes"] + g["alerts_on_inflows"]}
    return t


def evaluate_world(world: str | Path) -> dict[str, Any]:
    """Decisions over the world's events, then their scores against its ground truth."""
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world
    from fengkong.postloan.tracing import TracingError

    w = Path(world)
    try:
        events = read_world(w)
        res = decide_history(events)
    except (EventValidationError, TracingError) as exc:
        raise EvaluationError(f"{w}: {exc}") from None
    if not (w / "labels.parquet").exists():
        raise EvaluationError(f"{w / 'labels.parquet'}: missing (evaluate needs a simulated world with ground truth)")
    return score(res, pl.read_parquet(w / "labels.parquet"), events)


def render_table(res: dict[str, Any]) -> str:
    """The evaluation as a text table."""
    def f(v: Any) -> str:
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else f"{v:,}"

    lines = [f"{'post-loan pattern':<30} {'unit':<44} {'pos':>6} {'alerts':>7} {'recall':>7} {'prec':>7}"]
    for k, v in res.items():
        if isinstance(v, dict) and "unit" in v:
            lines.append(f"{k:<30} {v['unit']:<44} {v['positives']:>6} {v['alerted']:>7} {f(v['recall']):>7} "
                         f"{f(v['precision']):>7}")
    g = res["postloan_good_loans"]
    lines.append(f"good borrowers' loans {g['good_loans']:,}: alerted {g['alerted']:,} ({g['alert_rate']:.3%}) "
                 f"by rule {g['by_rule']}; look-alike outflows {g['lookalike_outflows']:,} "
                 f"(destination alerts on them {g['destination_alerts_on_lookalikes']}), alerts on inflows "
                 f"{g['alerts_on_inflows']}; unclassified outflows reported {g['unknown_outflows_reported']:,}")
    for name, t in res["postloan_targets"].items():
        lines.append(f"target {name}: {'met' if t['met'] else 'NOT met'} "
                     + ", ".join(f"{k}={f(v)}" for k, v in t.items() if k != "met"))
    lines.append(f"strategies: {g['strategies']}; taxonomy {g['taxonomy']}")
    return "\n".join(lines)
