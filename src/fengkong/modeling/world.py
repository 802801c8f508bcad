"""Application scorecard on a simulated world: outcomes of months 1–2 joined to point-in-time features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling import metrics
from fengkong.modeling.scorecard import Scorecard
from fengkong.settings import BUSINESS_TZ_NAME

TZ = BUSINESS_TZ_NAME


def application_sample(world_dir: str | Path, features_frame: pl.DataFrame, months: tuple[int, ...] = (1, 2),
                       application_fields: list[str] | None = None) -> pl.DataFrame:
    """Observed, booked applications of the given world months (1 = first) with their features and ``bad``.

    ``features_frame`` is ``event_id`` + feature columns (e.g. ``fengkong.features.offline.backfill``);
    ``application_fields`` optionally adds raw fields of the application event itself.
    """
    world = Path(world_dir)
    for name in ("outcomes.parquet", "application.parquet"):
        if not (world / name).exists():
            raise FileNotFoundError(f"{world / name} not found: is {world} a simulated world directory?")
    if "event_id" not in features_frame.columns:
        raise ValueError("features_frame needs an event_id column")
    apps = pl.read_parquet(world / "application.parquet", columns=["event_id", "ts", *(application_fields or [])])
    local = pl.col("ts").dt.convert_time_zone(TZ)
    first = apps.select(local.min()).item()
    apps = apps.with_columns(
        month=(local.dt.year() * 12 + local.dt.month() - (first.year * 12 + first.month) + 1).cast(pl.Int32)
    ).filter(pl.col("month").is_in(list(months)))
    out = pl.read_parquet(world / "outcomes.parquet").filter(pl.col("observed") & pl.col("loan_id").is_not_null())
    sample = (
        out.select(pl.col("application_id").alias("event_id"), pl.col("bad").cast(pl.Int8))
        .join(apps.drop("ts"), on="event_id", how="inner")
        .join(features_frame, on="event_id", how="inner")
    )
    if sample.height == 0:
        raise ValueError(f"no observed applications in months {months} of {world} match the features frame")
    return sample


def train_application_scorecard(
    world_dir: str | Path, features_frame: pl.DataFrame, *, months: tuple[int, ...] = (1, 2),
    application_fields: list[str] | None = None, test_share: float = 0.3, seed: int = 0,
    scorecard: Scorecard | None = None,
) -> tuple[Scorecard, dict[str, Any]]:
    """Fit an application scorecard on the world's observed month 1–2 outcomes; return it and test metrics.

    Outcomes are only observable for loans whose first installment is at least 30 days past due by the
    end of the world, so in a 3-month world nearly all observed loans come from month 1: the test set is a
    stratified random ``test_share`` of the sample (not out-of-time).
    """
    from sklearn.model_selection import train_test_split

    sample = application_sample(world_dir, features_frame, months, application_fields)
    y = sample["bad"].to_numpy()
    if y.min() == y.max():
        raise ValueError("the observed sample has a single class; simulate more customers")
    idx = np.arange(sample.height)
    tr, te = train_test_split(idx, test_size=test_share, stratify=y, random_state=seed)
    X = sample.drop("event_id", "bad", "month")
    sc = (scorecard or Scorecard()).fit(X[np.sort(tr)], y[np.sort(tr)])
    res: dict[str, Any] = {"split": f"stratified random {test_share:.0%} test, months {list(months)}",
                           "features": sc.features_}
    for name, part in (("train", np.sort(tr)), ("test", np.sort(te))):
        s = sc.predict_score(X[part])
        res[name] = metrics.summary(y[part], s, sc.score_to_pd(s))
    return sc, res


# raw application fields the reject-inference study models on (ids, tokens, places and timestamps left out)
APPLICATION_FIELDS = [
    "amount_fen", "term_months", "channel", "age", "gender", "declared_income_fen", "occupation", "education",
    "doc_income_proof", "doc_statement_edited", "liveness_score", "face_match_score", "is_emulator", "is_rooted",
    "is_proxy", "phone_name_match", "phone_tenure_months", "form_fill_seconds", "bureau_score",
    "bureau_hard_inquiries_7d", "bureau_hard_inquiries_30d", "bureau_hard_inquiries_90d", "bureau_open_loans",
    "bureau_nonbank_loans", "bureau_thin_file", "bureau_max_dpd_24m", "monthly_debt_payment_fen",
    "social_insurance_months", "housing_fund_months", "housing_fund_backpaid_months",
]
# the incumbent (earlier) model behind the simulated approval policy: a bureau-only scorecard
INCUMBENT_FIELDS = ["bureau_score", "bureau_hard_inquiries_90d", "bureau_max_dpd_24m", "bureau_open_loans",
                    "monthly_debt_payment_fen"]


def booked_applications(world_dir: str | Path, fields: list[str] | None = None) -> pl.DataFrame:
    """Every observed booked application of a simulated world: ``event_id``, ``bad`` and raw ``fields``.

    The simulator books every cash-loan application (there is no approval step), so these are the
    through-the-door applicants with their true outcome; booleans become 0/1.
    """
    world = Path(world_dir)
    for name in ("outcomes.parquet", "application.parquet"):
        if not (world / name).exists():
            raise FileNotFoundError(f"{world / name} not found: is {world} a simulated world directory?")
    fields = APPLICATION_FIELDS if fields is None else fields
    apps = pl.read_parquet(world / "application.parquet", columns=["event_id", *fields])
    apps = apps.with_columns(pl.col(c).cast(pl.Int8) for c, t in apps.schema.items() if t == pl.Boolean)
    out = pl.read_parquet(world / "outcomes.parquet").filter(pl.col("observed") & pl.col("loan_id").is_not_null())
    return (out.select(pl.col("application_id").alias("event_id"), pl.col("bad").cast(pl.Int8))
            .join(apps, on="event_id", how="inner").sort("event_id"))


def reject_inference_study(
    world_dir: str | Path, *, accept_rate: float = 0.7, incumbent_share: float = 0.3, test_share: float = 0.5,
    seed: int = 0, parcel_factor: float = 1.5, scorecard: Scorecard | None = None, detail: bool = False,
) -> dict[str, Any]:
    """Accepted-only scorecard against fuzzy augmentation and parcelling, measured where the truth is known.

    Policy (the simulator records no approval decision): a random ``incumbent_share`` of the observed booked
    applications is an earlier vintage on which a bureau-only scorecard (``INCUMBENT_FIELDS``) is fitted; on
    the rest (the through-the-door population) it accepts the ``accept_rate`` best scores. That population
    is split ``test_share`` at random (splits never look at outcomes, so the rejects' outcomes are used for
    measurement only); the new scorecards (all ``APPLICATION_FIELDS``) are fitted on the
    training half's accepts (plus its rejects, outcomes hidden, for inference). Reported on the test half:
    AUC on all of it (accepted + rejected, true outcomes), AUC on its accepts, and on its rejects the mean
    predicted bad rate, the true bad rate and their difference (the bias). ``detail`` adds ``predictions``:
    one row per through-the-door application (``part`` train / test, ``accepted``, ``bad``, each model's pd).
    """
    from fengkong.modeling.reject import infer

    if not 0 < accept_rate < 1:
        raise ValueError("accept_rate must be in (0, 1)")
    s = booked_applications(world_dir)
    y = s["bad"].to_numpy()
    X = s.drop("event_id", "bad")
    rng = np.random.default_rng(seed)
    is_old = rng.random(s.height) < incumbent_share
    old, ttd = np.flatnonzero(is_old), np.flatnonzero(~is_old)
    incumbent = Scorecard().fit(X[old].select(INCUMBENT_FIELDS), y[old])
    inc_score = incumbent.predict_score(X[ttd])
    accepted = inc_score >= np.quantile(inc_score, 1 - accept_rate)
    is_test = rng.random(len(ttd)) < test_share
    tr, te = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    Xt, yt = X[ttd], y[ttd]
    acc_tr, rej_tr = tr[accepted[tr]], tr[~accepted[tr]]
    proto = scorecard or Scorecard()
    base = type(proto)(**proto.get_params()).fit(Xt[acc_tr], yt[acc_tr])
    models: dict[str, Scorecard] = {"accepted_only": base}
    inferred_bad_rate: dict[str, float] = {}
    for method, opts in (("fuzzy", {}), ("parcel", {"factor": parcel_factor, "seed": seed})):
        sample = infer(method, base, Xt[acc_tr], yt[acc_tr], Xt[rej_tr], **opts)
        models[method] = type(proto)(**proto.get_params()).fit(sample.X, sample.y,
                                                               sample_weight=sample.sample_weight)
        r = sample.is_reject
        inferred_bad_rate[method] = float(np.average(sample.y[r], weights=sample.sample_weight[r]))
    rej_te, acc_te = te[~accepted[te]], te[accepted[te]]
    res: dict[str, Any] = {
        "policy": f"bureau-only incumbent scorecard on a {incumbent_share:.0%} earlier vintage, "
                  f"accept the best {accept_rate:.0%}",
        "rows": {"incumbent": len(old), "through_the_door": len(ttd), "train_accepted": len(acc_tr),
                 "train_rejected": len(rej_tr), "test": len(te), "test_rejected": len(rej_te)},
        "bad_rate": {"accepted": float(yt[accepted].mean()), "rejected": float(yt[~accepted].mean())},
        "inferred_reject_bad_rate": inferred_bad_rate,
        "parcel_factor": parcel_factor,
    }
    for name, m in models.items():
        p_te = m.predict_proba(Xt[te])[:, 1]
        p_rej = m.predict_proba(Xt[rej_te])[:, 1]
        res[name] = {
            "features": len(m.features_),
            "auc_through_the_door": metrics.auc(yt[te], p_te),
            "auc_accepted": metrics.auc(yt[acc_te], m.predict_proba(Xt[acc_te])[:, 1]),
            "reject_predicted_bad_rate": float(p_rej.mean()),
            "reject_true_bad_rate": float(yt[rej_te].mean()),
            "reject_bias": float(p_rej.mean() - yt[rej_te].mean()),
        }
    if detail:
        res["predictions"] = pl.DataFrame({
            "event_id": s["event_id"].gather(ttd), "part": np.where(is_test, "test", "train"),
            "accepted": accepted, "bad": yt,
            **{f"pd_{name}": m.predict_proba(Xt)[:, 1] for name, m in models.items()},
        })
    return res
