"""``fengkong scorecard fit / score / report``: build, apply and evaluate a scorecard from CSV or Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

scorecard_app = typer.Typer(help="Build, apply and evaluate WOE scorecards.", no_args_is_help=True)


def _fail(msg: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(msg)}", highlight=False)
    raise typer.Exit(2)


def _load(path: Path) -> Any:
    from fengkong.modeling._data import read_table

    try:
        return read_table(path)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    except Exception as e:  # parse errors from the CSV / Parquet readers
        _fail(f"cannot read {path}: {e}")


def _target(df: Any, target: str, bad_value: str | None) -> Any:
    from fengkong.modeling._data import TargetError, binary_target

    if target not in df.columns:
        _fail(f"target column {target!r} not found in the data (columns: {', '.join(df.columns[:20])})")
    try:
        return binary_target(df.get_column(target), bad_value, name=target)
    except TargetError as e:
        _fail(str(e))


OUT_TYPES = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet", ".xlsx": "Excel"}
EXCEL_MAX_ROWS = 1_048_575  # one header row + this many data rows per sheet


def _check_out(path: Path, option: str = "--out") -> None:
    """Refuse an output type we cannot write before any work is done."""
    suffix = path.suffix.lower()
    if suffix not in OUT_TYPES:
        _fail(f"{option} {path}: unsupported output type {suffix or '(no suffix)'!r}; use .csv, .parquet or .xlsx")
    if path.is_dir():
        _fail(f"{option} {path} is a directory; give a file name ending in .csv, .parquet or .xlsx")
    _check_parent(path, option)


def _check_parent(path: Path, option: str, kind: str = "file") -> None:
    from fengkong.outpath import out_problem

    problem = out_problem(path, kind)
    if problem is not None:
        _fail(f"{option} {path}: {problem}")


def _write_table(df: Any, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        df.write_parquet(path)
    elif suffix == ".xlsx":
        from fengkong.workbook import write_table

        write_table(df, path, worksheet="scores", autofit=False)
    elif suffix == ".csv":
        df.write_csv(path)
    else:  # _check_out runs first; this is a programming error
        raise ValueError(f"unsupported output type {suffix!r}")


def _columns_option(values: list[str], df: Any, option: str) -> list[str]:
    """``--opt A,B --opt C`` → [A, B, C], each checked against the data's columns."""
    cols = [c.strip() for v in values for c in v.split(",") if c.strip()]
    for c in cols:
        if c not in df.columns:
            _fail(f"{option} column {c!r} not found in the data")
    return cols


def _special_values(text: str | None) -> list[float] | None:
    if text is None or not text.strip():
        return None
    out: list[float] = []
    for part in text.split(","):
        part = part.strip()
        try:
            v = float(part)
        except ValueError:
            _fail(f"--special-values: {part!r} is not a number (give numeric codes such as -999,-1)")
        out.append(int(v) if v.is_integer() else v)
    return out


SPLIT_SEED = 0
DEV_SCORES = "development_scores.parquet"


@scorecard_app.command("fit")
def fit_cmd(
    data: Path = typer.Option(..., "--data", help="Training data (.csv or .parquet)."),
    target: str = typer.Option(..., "--target", help="Target column (1 = bad unless --bad-value is given)."),
    bad_value: str | None = typer.Option(None, "--bad-value", help="The target value meaning bad."),
    out: Path = typer.Option(..., "--out", help="Output directory for the model and reports."),
    holdout: float = typer.Option(0.3, "--holdout", help="Share kept out of fitting for the test report (0 = none)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Columns that are not features (ids, dates); COL,COL."),
    categorical: list[str] = typer.Option([], "--categorical",
                                          help="Columns to bin as categories even if numeric (codes); COL,COL."),
    special_values: str | None = typer.Option(None, "--special-values",
                                              help="Codes binned on their own in every numeric column, e.g. -999,-1."),
    stability_column: str | None = typer.Option(None, "--stability-column",
                                                help="Time-slice column (e.g. month): drop features whose PSI "
                                                     "across slices exceeds --max-psi. Not used as a feature."),
    max_psi: float = typer.Option(0.25, "--max-psi", help="PSI limit for --stability-column."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Rejected applications (.csv or .parquet) with the "
                                        "same feature columns, outcome unknown: used for reject inference."),
    reject_inference: str | None = typer.Option(None, "--reject-inference",
                                                help="fuzzy or parcel (needs --rejects)."),
    parcel_factor: float = typer.Option(1.5, "--parcel-factor", help="parcel: a reject's bad rate is its score "
                                        "band's accepted bad rate times this."),
    reject_weight: float = typer.Option(1.0, "--reject-weight", help="Weight of each reject against an accepted "
                                        "row."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Fit a scorecard; write model.json, binning tables, points table, HTML + Excel reports, node and SQL."""
    import numpy as np
    import polars as pl
    import yaml
    from rich.console import Console

    from fengkong.modeling import export, metrics, report
    from fengkong.modeling.explore import write_explore_html
    from fengkong.modeling.reject import METHODS, infer
    from fengkong.modeling.scorecard import Scorecard

    con = Console(stderr=True)
    if not 0 <= holdout < 0.9:
        _fail("--holdout must be in [0, 0.9)")
    if not max_psi > 0:
        _fail("--max-psi must be positive")
    if (rejects is None) != (reject_inference is None):
        _fail("--rejects and --reject-inference go together (--reject-inference fuzzy or parcel)")
    if reject_inference is not None and reject_inference not in METHODS:
        _fail(f"--reject-inference {reject_inference!r}: use one of {', '.join(METHODS)}")
    if not parcel_factor >= 0:
        _fail("--parcel-factor must be non-negative")
    if not reject_weight > 0:
        _fail("--reject-weight must be positive")
    _check_parent(out, "--out", "dir")
    specials = _special_values(special_values)
    df = _load(data)
    rej_df = _load(rejects) if rejects is not None else None
    y = _target(df, target, bad_value)
    exclude = _columns_option(exclude, df, "--exclude")
    cats = _columns_option(categorical, df, "--categorical")
    for c in cats:
        if c == target or c in exclude:
            _fail(f"--categorical column {c!r} is the target or excluded")
    if stability_column is not None:
        _columns_option([stability_column], df, "--stability-column")
        if stability_column == target or stability_column in exclude:
            _fail(f"--stability-column {stability_column!r} is the target or excluded")
    X = df.drop([target, *exclude])
    if X.width - (stability_column is not None) == 0:
        _fail("no feature columns left after removing the target and --exclude columns")
    # special codes apply to the numeric columns that are binned as numbers
    sv = None
    if specials:
        sv = {c: specials for c in X.columns if X.schema[c].is_numeric() and c not in cats and c != stability_column}
    idx = np.arange(df.height)
    tr, te = idx, None
    if holdout > 0:
        from sklearn.model_selection import train_test_split

        tr, te = train_test_split(idx, test_size=holdout, stratify=y, random_state=SPLIT_SEED)
        tr, te = np.sort(tr), np.sort(te)
    out.mkdir(exist_ok=True)  # the model directory itself; its parent must exist
    base = None
    ri: dict[str, Any] | None = None
    with con.status("fitting the scorecard…"):
        try:
            sc = Scorecard(categorical=cats or None, special_values=sv, stability_column=stability_column,
                           max_psi=max_psi).fit(X[tr], y[tr])
            if rej_df is not None and reject_inference is not None:
                opts: dict[str, Any] = {"reject_weight": reject_weight}
                if reject_inference == "parcel":
                    opts.update(factor=parcel_factor, seed=SPLIT_SEED)
                sample = infer(reject_inference, sc, X[tr], y[tr], rej_df, **opts)
                base, sc = sc, Scorecard(**sc.get_params()).fit(sample.X, sample.y,
                                                                 sample_weight=sample.sample_weight)
                r = sample.is_reject
                ri = {"method": reject_inference, "rejects": str(rejects.resolve()) if rejects else None,
                      "reject_rows": rej_df.height, "reject_weight": reject_weight,
                      "parcel_factor": parcel_factor if reject_inference == "parcel" else None,
                      "inferred_reject_bad_rate": float(np.average(sample.y[r], weights=sample.sample_weight[r])),
                      "accepted_only_reject_pd": float(base.predict_proba(rej_df)[:, 1].mean()),
                      "reject_pd": float(sc.predict_proba(rej_df)[:, 1].mean())}
        except ValueError as e:
            _fail(str(e))
    with con.status("writing tables, exports and reports…"):
        sc.save(out / "model.json")
        dev_name = f"Development: {data.name} ({len(tr):,} rows" + (f", {1 - holdout:.0%} split)" if te is not None
                                                                    else ")")
        ho_name = f"Holdout: {data.name} ({len(te):,} rows, {holdout:.0%} split)" if te is not None else ""
        dev = report.sample(sc, dev_name, X[tr], y[tr])
        pl.DataFrame({"score": dev.score, "bad": y[tr].astype(np.int8)}).write_parquet(out / DEV_SCORES)
        (out / "meta.json").write_text(json.dumps({
            "target": target, "bad_value": bad_value, "data": str(data.resolve()), "rows": df.height,
            "holdout": holdout, "exclude": exclude, "categorical": cats, "special_values": specials,
            "stability_column": stability_column, "max_psi": max_psi if stability_column else None,
            "split": {"method": "stratified train_test_split", "seed": SPLIT_SEED, "holdout": holdout,
                      "development_rows": len(tr), "holdout_rows": len(te) if te is not None else 0},
            "development": {"name": dev_name, "scores": DEV_SCORES},
            "reject_inference": ri,
        }, indent=1))
        tables = pl.concat([sc.binner_.table(c).with_columns(pl.lit(c).alias("variable")).select(
            "variable", pl.exclude("variable")) for c in sc.iv_])
        tables.write_csv(out / "binning_tables.csv")
        sc.points_table().write_csv(out / "points_table.csv")
        (out / "scorecard_node.yaml").write_text(
            yaml.safe_dump([export.scorecard_node(sc)], sort_keys=False, allow_unicode=True), encoding="utf-8")
        (out / "score.sql").write_text(export.scorecard_sql(sc, "applications") + ";\n", encoding="utf-8")
        samples = [dev] + ([report.sample(sc, ho_name, X[te], y[te])] if te is not None else [])
        report.write_html_report_samples(out / "report.html", sc, samples, title=f"Scorecard — {data.name}")
        report.excel_report_samples(out / "report.xlsx", sc, samples)
        write_explore_html(out / "explore.html", X[tr], y[tr], title=f"Dataset overview — {data.name} (development)")
        m_tr = samples[0].evaluation["summary"]
        m_te = samples[1].evaluation["summary"] if te is not None else None
        if base is not None and ri is not None:
            ri["accepted_only"] = {}
            for part, rows in (("train", tr), ("test", te)):
                if rows is not None:
                    s = base.predict_score(X[rows])
                    ri["accepted_only"][part] = metrics.summary(y[rows], s, base.score_to_pd(s))
        (out / "metrics.json").write_text(json.dumps({"train": m_tr, "test": m_te, "reject_inference": ri}, indent=1))
    res = {"model_dir": str(out), "features": sc.features_, "train": m_tr, "test": m_te, "reject_inference": ri}
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"scorecard with {len(sc.features_)} characteristics written to {out}")
    typer.echo(f"train AUC {m_tr['auc']:.4f} KS {m_tr['ks']:.4f}"
               + (f" | test AUC {m_te['auc']:.4f} KS {m_te['ks']:.4f}" if m_te else ""))
    if ri is not None:
        a = ri["accepted_only"].get("test") or ri["accepted_only"]["train"]
        typer.echo(f"reject inference ({ri['method']}, {ri['reject_rows']} rejects): inferred reject bad rate "
                   f"{ri['inferred_reject_bad_rate']:.4f}; accepted-only model "
                   f"{'test' if m_te else 'train'} AUC {a['auc']:.4f}")


def _model(model: Path) -> Any:
    from fengkong.modeling.scorecard import Scorecard

    f = model / "model.json" if model.is_dir() else model
    if not f.exists():
        _fail(f"no model found at {model} (expected a directory written by `fengkong scorecard fit`)")
    try:
        return Scorecard.load(f)
    except (ValueError, KeyError, json.JSONDecodeError) as e:
        _fail(f"cannot load the model {f}: {e}")


@scorecard_app.command("score")
def score_cmd(
    model: Path = typer.Option(..., "--model", help="Model directory written by `scorecard fit`."),
    data: Path = typer.Option(..., "--data", help="Data to score (.csv or .parquet)."),
    out: Path = typer.Option(..., "--out", help="Output file (.csv, .parquet or .xlsx)."),
    reasons: bool = typer.Option(True, "--reasons/--no-reasons", help="Add reason-code columns."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    engine: str = typer.Option("polars", "--engine", help="polars, or spark: the exported SQL runs as Spark "
                               "SQL and --out is a Parquet dataset (no reason codes)."),
    master: str = typer.Option(None, "--master", help="Spark master, e.g. local[2] (engine spark)."),
) -> None:
    """Add `score` (higher = less risky) and `pd` columns (and reason codes) to every row."""
    import polars as pl

    if engine == "spark":
        from fengkong.spark.cli import score_spark

        _check_parent(out, "--out", "dir")
        score_spark(_model(model), data, out, master, as_json)
        return
    _check_out(out)
    sc = _model(model)
    df = _load(data)
    missing = [c for c in sc.features_ if c not in df.columns]
    if missing:
        _fail(f"columns the model needs are missing from {data}: {', '.join(missing)}")
    if out.suffix.lower() == ".xlsx" and df.height > EXCEL_MAX_ROWS:
        _fail(f"{df.height:,} rows do not fit in one Excel sheet (max {EXCEL_MAX_ROWS:,}); use .csv or .parquet")
    try:
        s = sc.predict_score(df)
    except Exception as e:
        _fail(f"cannot score {data}: {e}")
    d = sc.points_decimals
    res = df.with_columns(pl.Series("score", s.round(d)), pl.Series("pd", sc.score_to_pd(s)))
    if reasons:
        rc = sc.reason_codes(df)
        rc = rc.with_columns(pl.col(c).round(d) for c in rc.columns if c.startswith("lost_"))
        res = pl.concat([res, rc], how="horizontal")
    _write_table(res, out)
    info = {"rows": res.height, "out": str(out), "mean_score": float(s.mean())}
    typer.echo(json.dumps(info) if as_json else f"scored {res.height} rows → {out}")


def _development(sc: Any, base: Path, meta: dict[str, Any]) -> Any:
    """The development sample of a model directory: its stored scores and target (written by ``fit``) and the
    model's own bin counts; only the bin counts for a directory without (or with a stale) scores file."""
    import polars as pl

    from fengkong.modeling import report

    dev_meta = meta.get("development") or {}
    name = dev_meta.get("name") or "Development sample (model fit)"
    f = base / dev_meta.get("scores", DEV_SCORES)
    n_model = int(sum(next(iter(sc.binner_.bins_.values())).count)) if sc.binner_.bins_ else -1
    if meta.get("reject_inference"):  # the bins also count the (weighted) rejects; the scores are the accepts'
        n_model = int((meta.get("split") or {}).get("development_rows", -1))
    if f.exists():
        d = pl.read_parquet(f)
        if d.height == n_model and {"score", "bad"} <= set(d.columns):
            return report.development_sample(sc, name, d["score"].to_numpy(), d["bad"].to_numpy())
    return report.development_sample(sc, name)


@scorecard_app.command("report")
def report_cmd(
    model: Path = typer.Option(..., "--model", help="Model directory written by `scorecard fit`."),
    data: Path = typer.Option(..., "--data", help="Out-of-sample data with the target column."),
    target: str | None = typer.Option(None, "--target", help="Target column (default: the one used in fit)."),
    bad_value: str | None = typer.Option(None, "--bad-value", help="Target value meaning bad (default: fit's)."),
    out: Path | None = typer.Option(None, "--out", help="HTML report path (default MODEL/report_<data>.html); "
                                                        "the workbook goes next to it (.xlsx)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Evaluate a fitted scorecard on another sample against its development sample: HTML report, Excel
    workbook and stability (PSI / CSI)."""
    from fengkong.modeling import report

    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        _fail(f"--out {out}: the report is HTML; give a file name ending in .html (the workbook is written next "
              "to it as .xlsx)")
    if out is not None:
        _check_parent(out, "--out")
    sc = _model(model)
    base = model if model.is_dir() else model.parent
    meta_f = base / "meta.json"
    meta = json.loads(meta_f.read_text()) if meta_f.exists() else {}
    target = target or meta.get("target")
    if not target:
        _fail("--target is required (the model directory has no meta.json)")
    bad_value = bad_value if bad_value is not None else meta.get("bad_value")
    df = _load(data)
    y = _target(df, target, bad_value)
    missing = [c for c in sc.features_ if c not in df.columns]
    if missing:
        _fail(f"columns the model needs are missing from {data}: {', '.join(missing)}")
    html_path = out or base / f"report_{data.stem}.html"
    try:
        evaluated = report.sample(sc, f"Evaluated: {data.name} ({df.height:,} rows)", df.drop(target), y)
    except ValueError as e:
        _fail(f"cannot score {data}: {e}")
    samples = [_development(sc, base, meta), evaluated]
    report.write_html_report_samples(html_path, sc, samples, title=f"Scorecard — evaluated on {data.name}")
    report.excel_report_samples(html_path.with_suffix(".xlsx"), sc, samples)
    s = evaluated.evaluation["summary"]
    res = {"report": str(html_path), "workbook": str(html_path.with_suffix(".xlsx")), **s}
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"{data.name}: AUC {s['auc']:.4f} Gini {s['gini']:.4f} KS {s['ks']:.4f} Brier {s['brier']:.4f} "
               f"({s['n']} rows) → {html_path}")


def register(app: typer.Typer) -> None:
    """Add the ``scorecard`` command group to the ``fengkong`` CLI."""
    app.add_typer(scorecard_app, name="scorecard")
