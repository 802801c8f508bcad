"""Scorecard reports: a self-contained HTML report with every plot, and an Excel workbook (summary sheet,
points table, one sheet per variable's binning table with its chart) — the format risk teams exchange."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling import metrics, plots
from fengkong.modeling._data import to_polars
from fengkong.modeling.explore import _page, _table
from fengkong.modeling.scorecard import Scorecard


def evaluate(sc: Scorecard, X: Any, y: np.ndarray, target_bad_rate: float | None = None) -> dict[str, Any]:
    """Metrics and tables of a scorecard on one sample."""
    score = sc.predict_score(X)
    pd_ = sc.score_to_pd(score)
    out: dict[str, Any] = {"summary": metrics.summary(y, score, pd_), "score": score, "pd": pd_}
    out["gains"] = metrics.gains_table(y, score)
    out["bands"] = metrics.score_bands(y, score)
    out["calibration"] = metrics.calibration_table(y, pd_)
    tb = target_bad_rate if target_bad_rate is not None else float(np.mean(y)) * 0.6
    out["approval"] = {"target_bad_rate": tb, **metrics.approval_at_bad_rate(y, score, tb)}
    return out


def stability(sc: Scorecard, X_ref: Any, X_new: Any) -> pl.DataFrame:
    """PSI of the score and CSI of every characteristic between a reference and a new sample."""
    a, b = to_polars(X_ref), to_polars(X_new)
    rows = [{"name": "score (PSI)", "index": metrics.psi(sc.predict_score(a), sc.predict_score(b))}]
    for c in sc.features_:
        fb = sc.binner_.bins_[c]
        n = fb.missing_index + 2
        ia = np.where((i := fb.bin_index(a.get_column(c))) < 0, n - 1, i)
        ib = np.where((j := fb.bin_index(b.get_column(c))) < 0, n - 1, j)
        rows.append({"name": c, "index": metrics.psi_by_bin(ia, ib, n)})
    return pl.DataFrame(rows)


def _kpis(s: dict[str, float]) -> str:
    items = [("AUC", f"{s['auc']:.3f}"), ("Gini", f"{s['gini']:.3f}"), ("KS", f"{s['ks']:.3f}"),
             ("Brier", f"{s['brier']:.4f}"), ("rows", f"{s['n']:,}"), ("bad rate", f"{s['bad_rate']:.2%}")]
    return "".join(f'<span class="kpi">{k}<b>{v}</b></span>' for k, v in items)


def _img(fig: Any) -> str:
    return f'<img src="{plots.to_data_uri(fig)}">'


def html_report(
    sc: Scorecard, X_train: Any, y_train: np.ndarray, X_test: Any | None = None, y_test: np.ndarray | None = None,
    title: str = "Scorecard report", names: tuple[str, str] = ("Training sample", "Test sample"),
) -> str:
    """The full HTML report (plots embedded as PNG data URIs; one file, no external assets)."""
    parts = []
    samples = [(names[0], X_train, y_train)]
    if X_test is not None and y_test is not None:
        samples.append((names[1], X_test, y_test))
    for name, X, y in samples:
        ev = evaluate(sc, X, y)
        ap = ev["approval"]
        parts.append(f"<h2>{name}</h2>{_kpis(ev['summary'])}")
        parts.append('<div class="charts">' + _img(plots.roc(y, ev["score"], f"ROC — {name}"))
                     + _img(plots.ks_curve(y, ev["score"], f"KS — {name}"))
                     + _img(plots.score_distribution(y, ev["score"], f"Scores — {name}"))
                     + _img(plots.calibration(y, ev["pd"], f"Calibration — {name}")) + "</div>")
        parts.append(f"<p>Approval at a target bad rate of {ap['target_bad_rate']:.2%}: approve "
                     f"{ap['approval_rate']:.1%} (score ≥ {ap['cutoff']:.0f}, approved bad rate {ap['bad_rate']:.2%}).</p>")
        parts.append("<h3>Gains by decile (riskiest first)</h3>" + _table(ev["gains"]))
        parts.append("<h3>Bad rate by score band</h3>" + _table(ev["bands"]))
    if X_test is not None:
        parts.append(f"<h2>Stability ({names[0]} → {names[1]})</h2>" + _table(stability(sc, X_train, X_test)))
    parts.append(
        f"<h2>Scorecard</h2><p>score = {sc.offset_:g} + Σ points; base score {sc.base_score:g} at odds "
        f"{sc.base_odds:g}:1, {sc.pdo:g} points to double the odds. WOE = ln(bad share / good share).</p>"
        + _table(sc.summary_table()) + "<h3>Points table</h3>" + _table(sc.points_table())
    )
    charts = "".join(_img(plots.bin_chart(sc.binner_.bins_[c])) for c in sc.features_)
    parts.append(f"<h2>Bins of the selected characteristics</h2><div class='charts'>{charts}</div>")
    return _page(title, "".join(parts))


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "var"
    out, i = base, 1
    while out.lower() in used:
        suffix = f"~{i}"
        out = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(out.lower())
    return out


def excel_report(
    path: str | Path, sc: Scorecard, X_train: Any, y_train: np.ndarray,
    X_test: Any | None = None, y_test: np.ndarray | None = None,
) -> Path:
    """Write the workbook: Summary, Points, Gains and one sheet per candidate variable (table + chart)."""
    import xlsxwriter

    p = Path(path)
    wb = xlsxwriter.Workbook(str(p), {"nan_inf_to_errors": True})
    hdr = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"})
    pct = wb.add_format({"num_format": "0.00%", "border": 1})
    num = wb.add_format({"num_format": "0.0000", "border": 1})
    pts = wb.add_format({"num_format": "0.00", "border": 1})
    txt = wb.add_format({"border": 1})
    title = wb.add_format({"bold": True, "font_size": 14})
    used: set[str] = set()

    def write_frame(ws: Any, df: pl.DataFrame, row: int, col: int = 0) -> int:
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # print one page wide
        for j, c in enumerate(df.columns):
            ws.write(row, col + j, c, hdr)
        for i, r in enumerate(df.iter_rows()):
            for j, (c, v) in enumerate(zip(df.columns, r, strict=True)):
                fmt = (pct if c in ("share", "bad_rate", "missing_share", "cum_bad_share", "cum_good_share",
                                    "cum_count_share") else pts if c in ("points", "min_score", "max_score")
                       else num if isinstance(v, float) else txt)
                if isinstance(v, bool):
                    ws.write_string(row + 1 + i, col + j, "yes" if v else "no", txt)
                elif v is None or (isinstance(v, float) and not np.isfinite(v)):
                    ws.write_blank(row + 1 + i, col + j, None, txt)
                else:
                    ws.write(row + 1 + i, col + j, v, fmt)
        return row + 1 + df.height

    ws = wb.add_worksheet(_sheet_name("Summary", used))
    ws.write(0, 0, "Scorecard summary", title)
    ws.write(1, 0, f"score = {sc.offset_:g} + Σ points; base score {sc.base_score:g} at odds {sc.base_odds:g}:1, "
                   f"PDO {sc.pdo:g}; WOE = ln(bad share / good share)")
    r = 3
    samples = [("train", X_train, y_train)] + ([("test", X_test, y_test)] if X_test is not None else [])
    met = pl.DataFrame([{"sample": n, **{k: v for k, v in evaluate(sc, X, y)["summary"].items()}}
                        for n, X, y in samples])
    r = write_frame(ws, met, r) + 2
    r = write_frame(ws, sc.summary_table(), r)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 8, 12)
    ws.freeze_panes(4, 1)

    ws = wb.add_worksheet(_sheet_name("Points", used))
    ws.write(0, 0, f"Points table (offset {sc.offset_:g})", title)
    write_frame(ws, sc.points_table(), 2)
    ws.set_column(0, 0, 30)
    ws.set_column(2, 2, 40)
    ws.set_column(3, 8, 11)
    ws.freeze_panes(3, 0)

    last = samples[-1]
    ev = evaluate(sc, last[1], last[2])
    ws = wb.add_worksheet(_sheet_name("Gains", used))
    ws.write(0, 0, f"Gains by decile ({last[0]} sample, riskiest first)", title)
    r = write_frame(ws, ev["gains"], 2) + 2
    ws.write(r, 0, "Bad rate by score band", title)
    write_frame(ws, ev["bands"], r + 2)
    ws.set_column(0, 12, 13)

    for c in sc.iv_:
        fb = sc.binner_.bins_[c]
        ws = wb.add_worksheet(_sheet_name(c, used))
        sel = "selected" if c in sc.coef_ else "not selected"
        ws.write(0, 0, f"{c} — IV {fb.iv:.4f}, {fb.trend}, {sel}", title)
        t = fb.table()
        if c in sc.points_:
            t = t.with_columns(pl.Series("points", sc.points_[c][:-1]))
        end = write_frame(ws, t, 2)
        ws.set_column(0, 0, 6)
        ws.set_column(1, 1, 42)
        ws.set_column(2, 9, 11)
        ws.insert_image(end + 2, 1, f"{c}.png", {"image_data": io.BytesIO(plots.to_png(plots.bin_chart(fb))),
                                                  "x_scale": 0.9, "y_scale": 0.9})
    wb.close()
    return p


def write_html_report(path: str | Path, *args: Any, **kwargs: Any) -> Path:
    p = Path(path)
    p.write_text(html_report(*args, **kwargs), encoding="utf-8")
    return p


__all__ = ["evaluate", "excel_report", "html_report", "stability", "write_html_report"]
