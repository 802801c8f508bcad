"""A scorecard model directory: fit one from a table, score a table with it, evaluate it on another sample."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from fengkong.errors import InputError

OUT_TYPES = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet", ".xlsx": "Excel"}
EXCEL_MAX_ROWS = 1_048_575  # one header row + this many data rows per sheet
SPLIT_SEED = 0
DEV_SCORES = "development_scores.parquet"

#: Shows that a long step is running (``status("fitting…")`` is a context manager); None: nothing shown.
Status = Callable[[str], AbstractContextManager[Any]] | None


class ModelDirError(InputError, ValueError):
    """Bad input to a scorecard job (data, target, option, model directory); the message says what to fix."""


def _status(status: Status, text: str) -> AbstractContextManager[Any]:
    return status(text) if status is not None else contextlib.nullcontext()


def load_table(path: Path) -> Any:
    """A CSV or Parquet table; a missing or unreadable file is a ModelDirError."""
    from fengkong.modeling._data import read_table

    try:
        return read_table(path)
    except (FileNotFoundError, ValueError) as e:
        raise ModelDirError(str(e)) from None
    except Exception as e:  # parse errors from the CSV / Parquet readers
        raise ModelDirError(f"cannot read {path}: {e}") from None


def target_of(df: Any, target: str, bad_value: str | None) -> Any:
    """The 0/1 target (1 = bad) of column ``target``; ``bad_value`` names the value meaning bad."""
    from fengkong.modeling._data import TargetError, binary_target

    if target not in df.columns:
        raise ModelDirError(
            f"target column {target!r} not found in the data (columns: {', '.join(df.columns[:20])})"
        )
    try:
        return binary_target(df.get_column(target), bad_value, name=target)
    except TargetError as e:
        raise ModelDirError(str(e)) from None


def check_parent(path: Path, option: str, kind: str = "file") -> None:
    """Refuse an output path whose folder is missing or not writable, before any work is done."""
    from fengkong.outpath import out_problem

    problem = out_problem(path, kind)
    if problem is not None:
        raise ModelDirError(f"{option} {path}: {problem}")


def check_table_out(path: Path, option: str = "--out") -> None:
    """Refuse an output table type we cannot write before any work is done."""
    suffix = path.suffix.lower()
    if suffix not in OUT_TYPES:
        raise ModelDirError(
            f"{option} {path}: unsupported output type {suffix or '(no suffix)'!r}; use .csv, .parquet or .xlsx"
        )
    if path.is_dir():
        raise ModelDirError(
            f"{option} {path} is a directory; give a file name ending in .csv, .parquet or .xlsx"
        )
    check_parent(path, option)


def write_table(df: Any, path: Path) -> None:
    """Write a frame as CSV, Parquet or Excel by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        df.write_parquet(path)
    elif suffix == ".xlsx":
        from fengkong.workbook import write_table as write_xlsx

        write_xlsx(df, path, worksheet="scores", autofit=False)
    elif suffix == ".csv":
        df.write_csv(path)
    else:  # check_table_out runs first; this is a programming error
        raise ValueError(f"unsupported output type {suffix!r}")


def columns_option(values: Iterable[str], df: Any, option: str) -> list[str]:
    """``--opt A,B --opt C`` → [A, B, C], each checked against the data's columns."""
    cols = [c.strip() for v in values for c in v.split(",") if c.strip()]
    for c in cols:
        if c not in df.columns:
            raise ModelDirError(f"{option} column {c!r} not found in the data")
    return cols


def special_values(text: str | None) -> list[float] | None:
    """``-999,-1`` → [-999, -1]: the codes binned on their own."""
    if text is None or not text.strip():
        return None
    out: list[float] = []
    for part in text.split(","):
        part = part.strip()
        try:
            v = float(part)
        except ValueError:
            raise ModelDirError(
                f"--special-values: {part!r} is not a number (give numeric codes such as -999,-1)"
            ) from None
        out.append(int(v) if v.is_integer() else v)
    return out


def _check_fit_options(
    holdout: float,
    max_psi: float,
    rejects: Path | None,
    reject_inference: str | None,
    parcel_factor: float,
    reject_weight: float,
) -> None:
    from fengkong.modeling.reject import METHODS

    if not 0 <= holdout < 0.9:
        raise ModelDirError("--holdout must be in [0, 0.9)")
    if not max_psi > 0:
        raise ModelDirError("--max-psi must be positive")
    if (rejects is None) != (reject_inference is None):
        raise ModelDirError(
            "--rejects and --reject-inference go together (--reject-inference fuzzy or parcel)"
        )
    if reject_inference is not None and reject_inference not in METHODS:
        raise ModelDirError(f"--reject-inference {reject_inference!r}: use one of {', '.join(METHODS)}")
    if not parcel_factor >= 0:
        raise ModelDirError("--parcel-factor must be non-negative")
    if not reject_weight > 0:
        raise ModelDirError("--reject-weight must be positive")


def fit_model_dir(
    data: str | Path,
    target: str,
    out: str | Path,
    *,
    bad_value: str | None = None,
    holdout: float = 0.3,
    exclude: Iterable[str] = (),
    categorical: Iterable[str] = (),
    special: str | None = None,
    stability_column: str | None = None,
    max_psi: float = 0.25,
    rejects: str | Path | None = None,
    reject_inference: str | None = None,
    parcel_factor: float = 1.5,
    reject_weight: float = 1.0,
    status: Status = None,
) -> dict[str, Any]:
    """Fit a scorecard on a table and write its model directory (``fengkong scorecard fit``): model.json,
    binning and points tables, HTML + Excel reports, dataset overview, strategy node and SQL, metrics.

    Returns ``model_dir``, ``features``, ``train`` / ``test`` metrics and the ``reject_inference`` summary."""
    import numpy as np
    import polars as pl
    import yaml

    from fengkong.modeling import export, metrics, report
    from fengkong.modeling.explore import write_explore_html
    from fengkong.modeling.reject import infer
    from fengkong.modeling.scorecard import Scorecard

    data, out = Path(data), Path(out)
    rejects = Path(rejects) if rejects is not None else None
    _check_fit_options(holdout, max_psi, rejects, reject_inference, parcel_factor, reject_weight)
    check_parent(out, "--out", "dir")
    specials = special_values(special)
    df = load_table(data)
    rej_df = load_table(rejects) if rejects is not None else None
    y = target_of(df, target, bad_value)
    exclude = columns_option(exclude, df, "--exclude")
    cats = columns_option(categorical, df, "--categorical")
    for c in cats:
        if c == target or c in exclude:
            raise ModelDirError(f"--categorical column {c!r} is the target or excluded")
    if stability_column is not None:
        columns_option([stability_column], df, "--stability-column")
        if stability_column == target or stability_column in exclude:
            raise ModelDirError(f"--stability-column {stability_column!r} is the target or excluded")
    X = df.drop([target, *exclude])
    if X.width - (stability_column is not None) == 0:
        raise ModelDirError("no feature columns left after removing the target and --exclude columns")
    # special codes apply to the numeric columns that are binned as numbers
    sv = None
    if specials:
        sv = {
            c: specials
            for c in X.columns
            if X.schema[c].is_numeric() and c not in cats and c != stability_column
        }
    idx = np.arange(df.height)
    tr, te = idx, None
    if holdout > 0:
        from sklearn.model_selection import train_test_split

        tr, te = train_test_split(idx, test_size=holdout, stratify=y, random_state=SPLIT_SEED)
        tr, te = np.sort(tr), np.sort(te)
    out.mkdir(exist_ok=True)  # the model directory itself; its parent must exist
    base = None
    ri: dict[str, Any] | None = None
    with _status(status, "fitting the scorecard…"):
        try:
            sc = Scorecard(
                categorical=cats or None,
                special_values=sv,
                stability_column=stability_column,
                max_psi=max_psi,
            ).fit(X[tr], y[tr])
            if rej_df is not None and reject_inference is not None:
                opts: dict[str, Any] = {"reject_weight": reject_weight}
                if reject_inference == "parcel":
                    opts.update(factor=parcel_factor, seed=SPLIT_SEED)
                sample = infer(reject_inference, sc, X[tr], y[tr], rej_df, **opts)
                base, sc = (
                    sc,
                    Scorecard(**sc.get_params()).fit(sample.X, sample.y, sample_weight=sample.sample_weight),
                )
                r = sample.is_reject
                ri = {
                    "method": reject_inference,
                    "rejects": str(rejects.resolve()) if rejects else None,
                    "reject_rows": rej_df.height,
                    "reject_weight": reject_weight,
                    "parcel_factor": parcel_factor if reject_inference == "parcel" else None,
                    "inferred_reject_bad_rate": float(
                        np.average(sample.y[r], weights=sample.sample_weight[r])
                    ),
                    "accepted_only_reject_pd": float(base.predict_proba(rej_df)[:, 1].mean()),
                    "reject_pd": float(sc.predict_proba(rej_df)[:, 1].mean()),
                }
        except ModelDirError:
            raise
        except ValueError as e:
            raise ModelDirError(str(e)) from None
    with _status(status, "writing tables, exports and reports…"):
        sc.save(out / "model.json")
        dev_name = f"Development: {data.name} ({len(tr):,} rows" + (
            f", {1 - holdout:.0%} split)" if te is not None else ")"
        )
        ho_name = f"Holdout: {data.name} ({len(te):,} rows, {holdout:.0%} split)" if te is not None else ""
        dev = report.sample(sc, dev_name, X[tr], y[tr])
        pl.DataFrame({"score": dev.score, "bad": y[tr].astype(np.int8)}).write_parquet(out / DEV_SCORES)
        (out / "meta.json").write_text(
            json.dumps(
                {
                    "target": target, "bad_value": bad_value, "data": str(data.resolve()), "rows": df.height,
                    "holdout": holdout, "exclude": exclude, "categorical": cats, "special_values": specials,
                    "stability_column": stability_column, "max_psi": max_psi if stability_column else None,
                    "split": {"method": "stratified train_test_split", "seed": SPLIT_SEED, "holdout": holdout,
                              "development_rows": len(tr), "holdout_rows": len(te) if te is not None else 0},
                    "development": {"name": dev_name, "scores": DEV_SCORES},
                    "reject_inference": ri,
                },
                indent=1,
            )
        )  # fmt: skip
        tables = pl.concat(
            [
                sc.binner_.table(c)
                .with_columns(pl.lit(c).alias("variable"))
                .select("variable", pl.exclude("variable"))
                for c in sc.iv_
            ]
        )
        tables.write_csv(out / "binning_tables.csv")
        sc.points_table().write_csv(out / "points_table.csv")
        (out / "scorecard_node.yaml").write_text(
            yaml.safe_dump([export.scorecard_node(sc)], sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        (out / "score.sql").write_text(export.scorecard_sql(sc, "applications") + ";\n", encoding="utf-8")
        samples = [dev] + ([report.sample(sc, ho_name, X[te], y[te])] if te is not None else [])
        report.write_html_report_samples(out / "report.html", sc, samples, title=f"Scorecard — {data.name}")
        report.excel_report_samples(out / "report.xlsx", sc, samples)
        write_explore_html(
            out / "explore.html", X[tr], y[tr], title=f"Dataset overview — {data.name} (development)"
        )
        m_tr = samples[0].evaluation["summary"]
        m_te = samples[1].evaluation["summary"] if te is not None else None
        if base is not None and ri is not None:
            ri["accepted_only"] = {}
            for part, rows in (("train", tr), ("test", te)):
                if rows is not None:
                    s = base.predict_score(X[rows])
                    ri["accepted_only"][part] = metrics.summary(y[rows], s, base.score_to_pd(s))
        (out / "metrics.json").write_text(
            json.dumps({"train": m_tr, "test": m_te, "reject_inference": ri}, indent=1)
        )
    return {
        "model_dir": str(out),
        "features": sc.features_,
        "train": m_tr,
        "test": m_te,
        "reject_inference": ri,
    }


def load_model(model: Path) -> Any:
    """The scorecard of a model directory written by :func:`fit_model_dir` (or a model.json file)."""
    from fengkong.modeling.scorecard import Scorecard

    f = model / "model.json" if model.is_dir() else model
    if not f.exists():
        raise ModelDirError(
            f"no model found at {model} (expected a directory written by `fengkong scorecard fit`)"
        )
    try:
        return Scorecard.load(f)
    except (ValueError, KeyError, json.JSONDecodeError) as e:
        raise ModelDirError(f"cannot load the model {f}: {e}") from None


def score_table(model: str | Path, data: str | Path, out: str | Path, reasons: bool = True) -> dict[str, Any]:
    """Add ``score`` (higher = less risky) and ``pd`` (and reason codes) to every row of a table and write it
    to ``out`` (.csv, .parquet, .xlsx) (``fengkong scorecard score``); returns rows, out and the mean score."""
    import polars as pl

    model, data, out = Path(model), Path(data), Path(out)
    check_table_out(out)
    sc = load_model(model)
    df = load_table(data)
    missing = [c for c in sc.features_ if c not in df.columns]
    if missing:
        raise ModelDirError(f"columns the model needs are missing from {data}: {', '.join(missing)}")
    if out.suffix.lower() == ".xlsx" and df.height > EXCEL_MAX_ROWS:
        raise ModelDirError(
            f"{df.height:,} rows do not fit in one Excel sheet (max {EXCEL_MAX_ROWS:,}); use .csv or .parquet"
        )
    try:
        s = sc.predict_score(df)
    except Exception as e:
        raise ModelDirError(f"cannot score {data}: {e}") from None
    d = sc.points_decimals
    res = df.with_columns(pl.Series("score", s.round(d)), pl.Series("pd", sc.score_to_pd(s)))
    if reasons:
        rc = sc.reason_codes(df)
        rc = rc.with_columns(pl.col(c).round(d) for c in rc.columns if c.startswith("lost_"))
        res = pl.concat([res, rc], how="horizontal")
    write_table(res, out)
    return {"rows": res.height, "out": str(out), "mean_score": float(s.mean())}


def development_sample(sc: Any, base: Path, meta: dict[str, Any]) -> Any:
    """The development sample of a model directory: its stored scores and target (written by ``fit``) and the
    model's own bin counts; only the bin counts for a directory without (or with a stale) scores file."""
    import polars as pl

    from fengkong.modeling import report

    dev_meta = meta.get("development") or {}
    name = dev_meta.get("name") or "Development sample (model fit)"
    f = base / dev_meta.get("scores", DEV_SCORES)
    n_model = int(sum(next(iter(sc.binner_.bins_.values())).count)) if sc.binner_.bins_ else -1
    # with reject inference the bins also count the (weighted) rejects; the scores are the accepts'
    if meta.get("reject_inference"):
        n_model = int((meta.get("split") or {}).get("development_rows", -1))
    if f.exists():
        d = pl.read_parquet(f)
        if d.height == n_model and {"score", "bad"} <= set(d.columns):
            return report.development_sample(sc, name, d["score"].to_numpy(), d["bad"].to_numpy())
    return report.development_sample(sc, name)


def report_model(
    model: str | Path,
    data: str | Path,
    target: str | None = None,
    bad_value: str | None = None,
    out: str | Path | None = None,
) -> dict[str, Any]:
    """Evaluate a fitted scorecard on another sample against its development sample (``fengkong scorecard
    report``): HTML report, Excel workbook beside it, stability (PSI / CSI); returns the paths and metrics."""
    from fengkong.modeling import report

    model, data, out = Path(model), Path(data), Path(out) if out is not None else None
    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise ModelDirError(
            f"--out {out}: the report is HTML; give a file name ending in .html (the workbook is written next "
            "to it as .xlsx)"
        )
    if out is not None:
        check_parent(out, "--out")
    sc = load_model(model)
    base = model if model.is_dir() else model.parent
    meta_f = base / "meta.json"
    meta = json.loads(meta_f.read_text()) if meta_f.exists() else {}
    target = target or meta.get("target")
    if not target:
        raise ModelDirError("--target is required (the model directory has no meta.json)")
    bad_value = bad_value if bad_value is not None else meta.get("bad_value")
    df = load_table(data)
    y = target_of(df, target, bad_value)
    missing = [c for c in sc.features_ if c not in df.columns]
    if missing:
        raise ModelDirError(f"columns the model needs are missing from {data}: {', '.join(missing)}")
    html_path = out or base / f"report_{data.stem}.html"
    try:
        evaluated = report.sample(sc, f"Evaluated: {data.name} ({df.height:,} rows)", df.drop(target), y)
    except ValueError as e:
        raise ModelDirError(f"cannot score {data}: {e}") from None
    samples = [development_sample(sc, base, meta), evaluated]
    report.write_html_report_samples(html_path, sc, samples, title=f"Scorecard — evaluated on {data.name}")
    report.excel_report_samples(html_path.with_suffix(".xlsx"), sc, samples)
    s = evaluated.evaluation["summary"]
    return {"report": str(html_path), "workbook": str(html_path.with_suffix(".xlsx")), **s}
