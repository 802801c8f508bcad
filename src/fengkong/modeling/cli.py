"""``fengkong scorecard fit / score / report``: build, apply and evaluate a scorecard from CSV or Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

scorecard_app = typer.Typer(help="Build, apply and evaluate WOE scorecards.", no_args_is_help=True)


def _fail(msg: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[red]error:[/red] {msg}", highlight=False)
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


def _write_table(df: Any, path: Path) -> None:
    if path.suffix.lower() in (".parquet", ".pq"):
        df.write_parquet(path)
    else:
        df.write_csv(path)


@scorecard_app.command("fit")
def fit_cmd(
    data: Path = typer.Option(..., "--data", help="Training data (.csv or .parquet)."),
    target: str = typer.Option(..., "--target", help="Target column (1 = bad unless --bad-value is given)."),
    bad_value: str | None = typer.Option(None, "--bad-value", help="The target value meaning bad."),
    out: Path = typer.Option(..., "--out", help="Output directory for the model and reports."),
    holdout: float = typer.Option(0.3, "--holdout", help="Share kept out of fitting for the test report (0 = none)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Columns that are not features (ids, dates)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Fit a scorecard; write model.json, binning tables, points table, HTML + Excel reports, node and SQL."""
    import numpy as np
    import polars as pl
    import yaml
    from rich.console import Console

    from fengkong.modeling import export, report
    from fengkong.modeling.explore import write_explore_html
    from fengkong.modeling.scorecard import Scorecard

    con = Console(stderr=True)
    df = _load(data)
    y = _target(df, target, bad_value)
    for c in exclude:
        if c not in df.columns:
            _fail(f"--exclude column {c!r} not found in the data")
    X = df.drop([target, *exclude])
    if X.width == 0:
        _fail("no feature columns left after removing the target and --exclude columns")
    if not 0 <= holdout < 0.9:
        _fail("--holdout must be in [0, 0.9)")
    idx = np.arange(df.height)
    tr, te = idx, None
    if holdout > 0:
        from sklearn.model_selection import train_test_split

        tr, te = train_test_split(idx, test_size=holdout, stratify=y, random_state=0)
        tr, te = np.sort(tr), np.sort(te)
    out.mkdir(parents=True, exist_ok=True)
    with con.status("fitting the scorecard…"):
        sc = Scorecard().fit(X[tr], y[tr])
    with con.status("writing tables, exports and reports…"):
        sc.save(out / "model.json")
        (out / "meta.json").write_text(json.dumps({"target": target, "bad_value": bad_value, "data": str(data),
                                                   "rows": df.height, "holdout": holdout}, indent=1))
        tables = pl.concat([sc.binner_.table(c).with_columns(pl.lit(c).alias("variable")).select(
            "variable", pl.exclude("variable")) for c in sc.iv_])
        tables.write_csv(out / "binning_tables.csv")
        sc.points_table().write_csv(out / "points_table.csv")
        (out / "scorecard_node.yaml").write_text(
            yaml.safe_dump([export.scorecard_node(sc)], sort_keys=False, allow_unicode=True), encoding="utf-8")
        (out / "score.sql").write_text(export.scorecard_sql(sc, "applications") + ";\n", encoding="utf-8")
        Xte, yte = (X[te], y[te]) if te is not None else (None, None)
        report.write_html_report(out / "report.html", sc, X[tr], y[tr], Xte, yte, title=f"Scorecard — {data.name}")
        report.excel_report(out / "report.xlsx", sc, X[tr], y[tr], Xte, yte)
        write_explore_html(out / "explore.html", X[tr], y[tr], title=f"Dataset overview — {data.name}")
        m_tr = report.evaluate(sc, X[tr], y[tr])["summary"]
        m_te = report.evaluate(sc, Xte, yte)["summary"] if te is not None else None
        (out / "metrics.json").write_text(json.dumps({"train": m_tr, "test": m_te}, indent=1))
    res = {"model_dir": str(out), "features": sc.features_, "train": m_tr, "test": m_te}
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"scorecard with {len(sc.features_)} characteristics written to {out}")
    typer.echo(f"train AUC {m_tr['auc']:.4f} KS {m_tr['ks']:.4f}"
               + (f" | test AUC {m_te['auc']:.4f} KS {m_te['ks']:.4f}" if m_te else ""))


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
    out: Path = typer.Option(..., "--out", help="Output file (.csv or .parquet)."),
    reasons: bool = typer.Option(True, "--reasons/--no-reasons", help="Add reason-code columns."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Add `score` (higher = less risky) and `pd` columns (and reason codes) to every row."""
    import polars as pl

    sc = _model(model)
    df = _load(data)
    missing = [c for c in sc.features_ if c not in df.columns]
    if missing:
        _fail(f"columns the model needs are missing from {data}: {', '.join(missing)}")
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


@scorecard_app.command("report")
def report_cmd(
    model: Path = typer.Option(..., "--model", help="Model directory written by `scorecard fit`."),
    data: Path = typer.Option(..., "--data", help="Out-of-sample data with the target column."),
    target: str | None = typer.Option(None, "--target", help="Target column (default: the one used in fit)."),
    bad_value: str | None = typer.Option(None, "--bad-value", help="Target value meaning bad (default: fit's)."),
    out: Path | None = typer.Option(None, "--out", help="HTML report path (default MODEL/report_<data>.html)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Evaluate a fitted scorecard on another sample: metrics, HTML report and Excel workbook."""
    from fengkong.modeling import report
    from fengkong.modeling._data import read_table

    sc = _model(model)
    meta_f = (model if model.is_dir() else model.parent) / "meta.json"
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
    base = model if model.is_dir() else model.parent
    html_path = out or base / f"report_{data.stem}.html"
    train_src = meta.get("data")
    X = df.drop(target)
    ev = report.evaluate(sc, X, y)
    if train_src and Path(train_src).exists():
        tr = read_table(train_src)
        ytr = _target(tr, target, bad_value)
        report.write_html_report(html_path, sc, tr.drop(target), ytr, X, y, title=f"Scorecard — {data.name}",
                                 names=(f"Development data ({Path(train_src).name})", f"Evaluated: {data.name}"))
    else:
        report.write_html_report(html_path, sc, X, y, title=f"Scorecard — {data.name}",
                                 names=(f"Evaluated: {data.name}", ""))
    report.excel_report(html_path.with_suffix(".xlsx"), sc, X, y)
    res = {"report": str(html_path), **ev["summary"]}
    if as_json:
        typer.echo(json.dumps(res))
        return
    s = ev["summary"]
    typer.echo(f"{data.name}: AUC {s['auc']:.4f} Gini {s['gini']:.4f} KS {s['ks']:.4f} Brier {s['brier']:.4f} "
               f"({s['n']} rows) → {html_path}")


def register(app: typer.Typer) -> None:
    """Add the ``scorecard`` command group to the ``fengkong`` CLI."""
    app.add_typer(scorecard_app, name="scorecard")
