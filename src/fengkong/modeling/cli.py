"""``fengkong scorecard fit / score / report``: build, apply and evaluate a scorecard from CSV or Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from fengkong.errors import InputError, fail

scorecard_app = typer.Typer(help="Build, apply and evaluate WOE scorecards.", no_args_is_help=True)


def _run(job: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a model-directory job; its input error is one line on stderr, exit 2."""
    from fengkong.modeling.model_dir import ModelDirError

    try:
        return job(*args, **kwargs)
    except ModelDirError as e:
        fail(str(e))


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
    from rich.console import Console

    from fengkong.modeling.model_dir import fit_model_dir

    con = Console(stderr=True)
    res = _run(fit_model_dir, data, target, out, bad_value=bad_value, holdout=holdout, exclude=exclude,
               categorical=categorical, special=special_values, stability_column=stability_column, max_psi=max_psi,
               rejects=rejects, reject_inference=reject_inference, parcel_factor=parcel_factor,
               reject_weight=reject_weight, status=con.status)
    m_tr, m_te, ri = res["train"], res["test"], res["reject_inference"]
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"scorecard with {len(res['features'])} characteristics written to {out}")
    typer.echo(f"train AUC {m_tr['auc']:.4f} KS {m_tr['ks']:.4f}"
               + (f" | test AUC {m_te['auc']:.4f} KS {m_te['ks']:.4f}" if m_te else ""))
    if ri is not None:
        a = ri["accepted_only"].get("test") or ri["accepted_only"]["train"]
        typer.echo(f"reject inference ({ri['method']}, {ri['reject_rows']} rejects): inferred reject bad rate "
                   f"{ri['inferred_reject_bad_rate']:.4f}; accepted-only model "
                   f"{'test' if m_te else 'train'} AUC {a['auc']:.4f}")


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
    from fengkong.modeling.model_dir import check_parent, load_model, score_table

    if engine != "polars":
        from fengkong.packs import engine_task

        try:
            run = engine_task(engine, "score")
        except InputError as exc:
            fail(str(exc))
        _run(check_parent, out, "--out", "dir")
        run(_run(load_model, model), data, out, master, as_json)
        return
    info = _run(score_table, model, data, out, reasons)
    typer.echo(json.dumps(info) if as_json else f"scored {info['rows']} rows → {out}")


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
    from fengkong.modeling.model_dir import report_model

    res = _run(report_model, model, data, target, bad_value, out)
    s, html_path = res, res["report"]
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"{data.name}: AUC {s['auc']:.4f} Gini {s['gini']:.4f} KS {s['ks']:.4f} Brier {s['brier']:.4f} "
               f"({s['n']} rows) → {html_path}")


def register(app: typer.Typer) -> None:
    """Add the ``scorecard`` command group to the ``fengkong`` CLI."""
    app.add_typer(scorecard_app, name="scorecard")
