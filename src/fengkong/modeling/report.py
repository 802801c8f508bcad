"""Scorecard reports: a self-contained HTML report with every plot, and an Excel workbook (summary sheet,
points table, one sheet per variable's binning table with its chart) — the format risk teams exchange.

Every table and chart says which sample it describes. A report compares samples: the first is the reference
(the development sample the model was fitted on), the last the one evaluated; bins always carry the
development statistics stored in the model, next to the evaluated sample's.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling import metrics, plots
from fengkong.modeling._data import to_polars
from fengkong.modeling.binning import FeatureBinning
from fengkong.modeling.explore import _page, _table
from fengkong.modeling.scorecard import Scorecard


@dataclass
class Sample:
    """What a report needs of one sample: scores, target and the per-bin counts of every variable.

    ``counts[c]`` / ``bads[c]`` have one entry per bin of ``c`` plus a last one for categories never seen in
    training. ``score`` / ``y`` are ``None`` when only the bin counts are known (a development sample
    described by the model's own statistics).
    """

    name: str
    score: np.ndarray | None
    y: np.ndarray | None
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    bads: dict[str, np.ndarray] = field(default_factory=dict)
    model: Any = field(default=None, repr=False)

    @property
    def has_scores(self) -> bool:
        return self.score is not None and self.y is not None

    @property
    def n(self) -> int:
        if self.score is not None:
            return len(self.score)
        return int(next(iter(self.counts.values())).sum()) if self.counts else 0

    @cached_property
    def evaluation(self) -> dict[str, Any]:
        if not self.has_scores:
            raise ValueError(f"sample {self.name!r} has no scores to evaluate")
        return _evaluate_scores(self.model, self.score, self.y)  # type: ignore[arg-type]


def sample(sc: Scorecard, name: str, X: Any, y: np.ndarray) -> Sample:
    """Score ``X`` and count its rows per bin of every model variable present in ``X`` (one pass per column)."""
    df = to_polars(X)
    y = np.asarray(y, dtype=np.float64)
    idx: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    bads: dict[str, np.ndarray] = {}
    for c, fb in sc.binner_.bins_.items():
        if c not in df.columns:
            continue
        i = fb.bin_index(df.get_column(c))
        k = fb.missing_index + 2
        i = np.where(i < 0, k - 1, i)  # unseen category → last slot (= the default entry of the points table)
        idx[c] = i
        counts[c] = np.bincount(i, minlength=k)
        bads[c] = np.bincount(i, weights=y, minlength=k)
    missing = [c for c in sc.features_ if c not in idx]
    if missing:
        raise ValueError(f"columns missing from the data: {missing}")
    score = np.full(df.height, sc.offset_, dtype=np.float64)
    for c in sc.features_:  # same order and terms as Scorecard.predict_score → identical floats
        score = score + sc.points_[c][idx[c]]
    return Sample(name, score, y, counts, bads, model=sc)


def development_sample(sc: Scorecard, name: str, score: np.ndarray | None = None,
                       y: np.ndarray | None = None) -> Sample:
    """The development sample as the model knows it: its stored bin counts (and, if kept, its scores)."""
    counts = {c: np.append(np.asarray(fb.count, dtype=np.float64), 0.0) for c, fb in sc.binner_.bins_.items()}
    bads = {c: np.append(np.asarray(fb.bad, dtype=np.float64), 0.0) for c, fb in sc.binner_.bins_.items()}
    return Sample(name, None if score is None else np.asarray(score, dtype=np.float64),
                  None if y is None else np.asarray(y, dtype=np.float64), counts, bads, model=sc)


def _evaluate_scores(sc: Scorecard, score: np.ndarray, y: np.ndarray,
                     target_bad_rate: float | None = None) -> dict[str, Any]:
    pd_ = sc.score_to_pd(score)
    out: dict[str, Any] = {"summary": metrics.summary(y, score, pd_), "score": score, "pd": pd_}
    out["gains"] = metrics.gains_table(y, score)
    out["bands"] = metrics.score_bands(y, score)
    out["calibration"] = metrics.calibration_table(y, pd_)
    tb = target_bad_rate if target_bad_rate is not None else float(np.mean(y)) * 0.6
    out["approval"] = {"target_bad_rate": tb, **metrics.approval_at_bad_rate(y, score, tb)}
    return out


def evaluate(sc: Scorecard, X: Any, y: np.ndarray, target_bad_rate: float | None = None) -> dict[str, Any]:
    """Metrics and tables of a scorecard on one sample."""
    return _evaluate_scores(sc, sc.predict_score(X), np.asarray(y), target_bad_rate)


def _stability(sc: Scorecard, ref: Sample, new: Sample) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    if ref.score is not None and new.score is not None:
        rows.append({"name": "score (PSI)", "index": metrics.psi(ref.score, new.score)})
    for c in sc.features_:
        rows.append({"name": c, "index": metrics.psi_counts(ref.counts[c], new.counts[c])})
    return pl.DataFrame(rows).with_columns(
        assessment=pl.when(pl.col("index") < 0.1).then(pl.lit("stable"))
        .when(pl.col("index") < 0.25).then(pl.lit("watch")).otherwise(pl.lit("shifted")))


def stability(sc: Scorecard, X_ref: Any | None, X_new: Any) -> pl.DataFrame:
    """PSI of the score and CSI of every characteristic between a reference and a new sample.

    ``X_ref=None`` compares with the development sample's bin counts stored in the model (CSI only).
    """
    def counts_only(name: str, X: Any) -> Sample:
        df = to_polars(X)
        s = Sample(name, sc.predict_score(df), None)
        for c in sc.features_:
            fb = sc.binner_.bins_[c]
            k = fb.missing_index + 2
            i = fb.bin_index(df.get_column(c))
            s.counts[c] = np.bincount(np.where(i < 0, k - 1, i), minlength=k)
        return s

    ref = development_sample(sc, "development") if X_ref is None else counts_only("reference", X_ref)
    return _stability(sc, ref, counts_only("new", X_new))


def bin_comparison(sc: Scorecard, c: str, new: Sample | None = None) -> pl.DataFrame:
    """One variable's binning table (development statistics stored in the model, with points if selected),
    and — with ``new`` — that sample's count, share, bads and bad rate per bin and the CSI contribution."""
    fb = sc.binner_.bins_[c]
    t = fb.table()
    if c in sc.points_:
        t = t.with_columns(pl.Series("points", sc.points_[c][:-1]))
    if new is None or c not in new.counts:
        return t
    n, b = new.counts[c].astype(np.float64), new.bads[c].astype(np.float64)
    if n[-1] > 0:  # rows with categories never seen in training: show where they went
        extra = {"bin": t.height, "label": "(unseen, neutral WOE 0)", "count": 0, "share": 0.0, "good": 0, "bad": 0,
                 "bad_rate": None, "woe": float(fb.default_woe), "iv": 0.0}
        if "points" in t.columns:
            extra["points"] = float(sc.points_[c][-1])
        t = pl.concat([t, pl.DataFrame([extra], schema=t.schema)])
    else:
        n, b = n[:-1], b[:-1]
    dev = t["count"].to_numpy().astype(np.float64)
    k = len(dev)
    pe = (dev + 0.5) / (dev.sum() + 0.5 * k)
    pa = (n + 0.5) / (n.sum() + 0.5 * k)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, b / np.maximum(n, 1), np.nan)
    return t.with_columns(
        pl.Series("eval_count", n.astype(np.int64)),
        pl.Series("eval_share", n / max(n.sum(), 1)),
        pl.Series("eval_bad", b.astype(np.int64)),
        pl.Series("eval_bad_rate", rate).fill_nan(None),
        pl.Series("csi", (pa - pe) * np.log(pa / pe)),
    )


def _kpis(s: dict[str, float]) -> str:
    items = [("AUC", f"{s['auc']:.3f}"), ("Gini", f"{s['gini']:.3f}"), ("KS", f"{s['ks']:.3f}"),
             ("Brier", f"{s['brier']:.4f}"), ("rows", f"{s['n']:,}"), ("bad rate", f"{s['bad_rate']:.2%}")]
    return "".join(f'<span class="kpi">{k}<b>{v}</b></span>' for k, v in items)


def _img(fig: Any) -> str:
    return f'<img src="{plots.to_data_uri(fig)}">'


def _bin_png(fb: FeatureBinning) -> bytes:
    """The bin chart of a variable as PNG; the HTML report and the workbook draw the same charts, so they
    are drawn once (matplotlib is the slowest part of writing the reports)."""
    return _bin_png_of(json.dumps(fb.to_dict(), sort_keys=True, default=str))


@lru_cache(maxsize=128)
def _bin_png_of(key: str) -> bytes:
    return plots.to_png(plots.bin_chart(FeatureBinning.from_dict(json.loads(key))))


def _bin_img(fb: FeatureBinning) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(_bin_png(fb)).decode()}">'


def _samples(sc: Scorecard, X_train: Any, y_train: Any, X_test: Any, y_test: Any,
             names: tuple[str, str]) -> list[Sample]:
    out = []
    if X_train is not None and y_train is not None:
        out.append(sample(sc, names[0], X_train, y_train))
    if X_test is not None and y_test is not None:
        out.append(sample(sc, names[1], X_test, y_test))
    if not out:
        raise ValueError("a report needs at least one sample with its target")
    return out


def html_report(
    sc: Scorecard, X_train: Any, y_train: np.ndarray, X_test: Any | None = None, y_test: np.ndarray | None = None,
    title: str = "Scorecard report", names: tuple[str, str] = ("Development sample", "Test sample"),
) -> str:
    """The full HTML report (plots embedded as PNG data URIs; one file, no external assets)."""
    return html_report_samples(sc, _samples(sc, X_train, y_train, X_test, y_test, names), title)


def html_report_samples(sc: Scorecard, samples: list[Sample], title: str = "Scorecard report") -> str:
    """The HTML report over prepared samples: the first is the reference, the last the one evaluated."""
    parts = []
    for s in samples:
        parts.append(f"<h2>{_esc(s.name)}</h2>")
        if not s.has_scores:
            parts.append(f"<p>{s.n:,} rows. Only the bin counts of this sample are stored with the model, so "
                         "its metrics and score distribution are not shown; the stability table uses its counts.</p>")
            continue
        ev = s.evaluation
        ap = ev["approval"]
        y = s.y
        parts.append(_kpis(ev["summary"]))
        short = _short(s.name)
        parts.append('<div class="charts">' + _img(plots.roc(y, ev["score"], f"ROC — {short}"))
                     + _img(plots.ks_curve(y, ev["score"], f"KS — {short}"))
                     + _img(plots.score_distribution(y, ev["score"], f"Scores — {short}"))
                     + _img(plots.calibration(y, ev["pd"], f"Calibration — {short}")) + "</div>")
        parts.append(f"<p>Approval at a target bad rate of {ap['target_bad_rate']:.2%}: approve "
                     f"{ap['approval_rate']:.1%} (score ≥ {ap['cutoff']:.2f}, approved bad rate "
                     f"{_pct(ap['bad_rate'])}).</p>")
        parts.append(f"<h3>Gains by decile — {_esc(s.name)} (riskiest first)</h3>" + _table(ev["gains"]))
        parts.append(f"<h3>Bad rate by score band — {_esc(s.name)}</h3>" + _table(ev["bands"]))
    ref, new = samples[0], samples[-1]
    if len(samples) > 1:
        parts.append(f"<h2>Stability ({_esc(ref.name)} → {_esc(new.name)})</h2>"
                     "<p>PSI of the score and CSI of each characteristic (bins of the model); "
                     "&lt; 0.1 stable, 0.1–0.25 watch, ≥ 0.25 shifted.</p>" + _table(_stability(sc, ref, new)))
    parts.append(
        f"<h2>Scorecard</h2><p>score = {sc.offset_:g} + Σ points; base score {sc.base_score:g} at odds "
        f"{sc.base_odds:g}:1, {sc.pdo:g} points to double the odds. WOE = ln(bad share / good share). "
        "Bin statistics are those of the development sample. A category never seen in training goes to the "
        "rare group if the characteristic has one, else it gets the neutral WOE 0 (0 points).</p>"
        + _table(sc.summary_table()) + "<h3>Points table</h3>" + _table(sc.points_table())
    )
    if len(samples) > 1:
        parts.append(f"<h2>Characteristic analysis: {_esc(ref.name)} → {_esc(new.name)}</h2>"
                     "<p>Per bin: the development statistics stored in the model, then the evaluated sample's "
                     "rows, bads and bad rate, and the bin's contribution to the CSI.</p>")
        groups = None
        for c in sc.features_:
            t = bin_comparison(sc, c, new)
            n_dev = t.width - 5
            groups = [("", 2), (f"{ref.name} — model bins", n_dev - 2), (new.name, 5)]
            parts.append(f"<h3>{_esc(c)}</h3>" + _table(t, groups=groups))
    charts = "".join(_bin_img(sc.binner_.bins_[c]) for c in sc.features_)
    parts.append(f"<h2>Bins of the selected characteristics (development sample)</h2><div class='charts'>{charts}</div>")
    return _page(title, "".join(parts))


def _short(name: str) -> str:
    """A chart-title form of a sample name ("Development: x.csv (700 rows)" → "Development")."""
    return name.split(":")[0] if ":" in name else (name if len(name) <= 28 else name[:27] + "…")


def _esc(s: str) -> str:
    import html

    return html.escape(s)


def _pct(v: float) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.2%}"


def _sheet_name(name: str, used: set[str]) -> str:
    from fengkong.workbook import sheet_name

    return sheet_name(name, used)


_PCT_COLS = ("share", "bad_rate", "missing_share", "cum_bad_share", "cum_good_share", "cum_count_share",
             "eval_share", "eval_bad_rate", "mean_pd")
_PTS_COLS = ("points", "min_score", "max_score", "lift", "cum_lift")


def excel_report(
    path: str | Path, sc: Scorecard, X_train: Any, y_train: np.ndarray,
    X_test: Any | None = None, y_test: np.ndarray | None = None,
    names: tuple[str, str] = ("Development sample", "Test sample"),
) -> Path:
    """Write the workbook: Summary, Points, Gains, Stability and one sheet per candidate variable."""
    return excel_report_samples(path, sc, _samples(sc, X_train, y_train, X_test, y_test, names))


def excel_report_samples(path: str | Path, sc: Scorecard, samples: list[Sample]) -> Path:
    """The workbook over prepared samples: the first is the reference (development), the last is evaluated."""
    from fengkong.workbook import open_workbook

    p = Path(path)
    wb = open_workbook(p)
    hdr = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"})
    band = wb.add_format({"bold": True, "bg_color": "#B8CCE4", "border": 1, "align": "center"})
    pct = wb.add_format({"num_format": "0.00%", "border": 1})
    num = wb.add_format({"num_format": "0.0000", "border": 1})
    pts = wb.add_format({"num_format": "0.00", "border": 1})
    txt = wb.add_format({"border": 1})
    dash = wb.add_format({"border": 1, "align": "right"})
    title = wb.add_format({"bold": True, "font_size": 14})
    note = wb.add_format({"italic": True, "font_color": "#555555"})
    used: set[str] = set()

    def write_frame(ws: Any, df: pl.DataFrame, row: int, col: int = 0,
                    groups: list[tuple[str, int]] | None = None) -> int:
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # print one page wide
        if groups:
            j = col
            for label, width in groups:
                if width > 1:
                    ws.merge_range(row, j, row, j + width - 1, label, band if label else txt)
                elif width == 1:
                    ws.write(row, j, label, band if label else txt)
                j += width
            row += 1
        for j, c in enumerate(df.columns):
            ws.write(row, col + j, c, hdr)
        for i, r in enumerate(df.iter_rows()):
            for j, (c, v) in enumerate(zip(df.columns, r, strict=True)):
                fmt = (pct if c in _PCT_COLS else pts if c in _PTS_COLS else num if isinstance(v, float) else txt)
                if isinstance(v, bool):
                    ws.write_string(row + 1 + i, col + j, "yes" if v else "no", txt)
                elif v is None or (isinstance(v, float) and not np.isfinite(v)):
                    ws.write_string(row + 1 + i, col + j, "–", dash)
                elif isinstance(v, float) and v == 0:
                    ws.write_number(row + 1 + i, col + j, 0.0, fmt)  # no "-0.00"
                else:
                    ws.write(row + 1 + i, col + j, v, fmt)
        return row + 1 + df.height

    ref, last = samples[0], samples[-1]
    ws = wb.add_worksheet(_sheet_name("Summary", used))
    ws.write(0, 0, "Scorecard summary", title)
    ws.write(1, 0, f"score = {sc.offset_:g} + Σ points; base score {sc.base_score:g} at odds {sc.base_odds:g}:1, "
                   f"PDO {sc.pdo:g}; WOE = ln(bad share / good share)")
    scored = [s for s in samples if s.has_scores]
    r = 3
    met = pl.DataFrame([{"sample": s.name, **s.evaluation["summary"]} for s in scored])
    r = write_frame(ws, met, r) + 1
    for s in samples:
        if not s.has_scores:
            ws.write(r, 0, f"{s.name}: only its bin counts are stored with the model (no metrics).", note)
            r += 1
    r = write_frame(ws, sc.summary_table(), r + 1)
    ws.set_column(0, 0, min(60, max(len(x) for x in [*(s.name for s in samples), *sc.iv_, "feature"]) + 2))
    ws.set_column(1, 8, 12)
    ws.freeze_panes(4, 1)

    ws = wb.add_worksheet(_sheet_name("Points", used))
    ws.write(0, 0, f"Points table (offset {sc.offset_:g}; bin statistics of the development sample)", title)
    write_frame(ws, sc.points_table(), 2)
    ws.set_column(0, 0, 30)
    ws.set_column(2, 2, 40)
    ws.set_column(3, 8, 11)
    ws.freeze_panes(3, 0)

    if scored:
        ev_s = scored[-1]
        ev = ev_s.evaluation
        ws = wb.add_worksheet(_sheet_name("Gains", used))
        ws.write(0, 0, f"Gains by decile — {ev_s.name} (riskiest first)", title)
        r = write_frame(ws, ev["gains"], 2) + 2
        ws.write(r, 0, f"Bad rate by score band — {ev_s.name}", title)
        write_frame(ws, ev["bands"], r + 2)
        ws.set_column(0, 12, 13)

    compare = last if len(samples) > 1 else None
    if compare is not None:
        ws = wb.add_worksheet(_sheet_name("Stability", used))
        ws.write(0, 0, f"Stability: {ref.name} → {compare.name}", title)
        ws.write(1, 0, "PSI of the score, CSI of each characteristic; < 0.1 stable, 0.1–0.25 watch, ≥ 0.25 shifted",
                 note)
        write_frame(ws, _stability(sc, ref, compare), 3)
        ws.set_column(0, 0, 40)
        ws.set_column(1, 2, 12)

    for c in sc.iv_:
        fb = sc.binner_.bins_[c]
        ws = wb.add_worksheet(_sheet_name(c, used))
        sel = "selected" if c in sc.coef_ else "not selected"
        ws.write(0, 0, f"{c} — IV {fb.iv:.4f}, {fb.trend}, {sel}", title)
        t = bin_comparison(sc, c, compare)
        groups = None
        if "eval_count" in t.columns:
            groups = [("", 2), (f"{ref.name} — model bins", t.width - 7), (compare.name, 5)]  # type: ignore[union-attr]
        end = write_frame(ws, t, 2, groups=groups)
        ws.set_column(0, 0, 6)
        ws.set_column(1, 1, 42)
        ws.set_column(2, t.width, 13)
        ws.insert_image(end + 2, 1, f"{c}.png", {"image_data": io.BytesIO(_bin_png(fb)),
                                                  "x_scale": 0.9, "y_scale": 0.9})
    wb.close()
    return p


def write_html_report(path: str | Path, *args: Any, **kwargs: Any) -> Path:
    p = Path(path)
    p.write_text(html_report(*args, **kwargs), encoding="utf-8")
    return p


def write_html_report_samples(path: str | Path, sc: Scorecard, samples: list[Sample], title: str) -> Path:
    p = Path(path)
    p.write_text(html_report_samples(sc, samples, title), encoding="utf-8")
    return p


__all__ = ["Sample", "bin_comparison", "development_sample", "evaluate", "excel_report", "excel_report_samples",
           "html_report", "html_report_samples", "sample", "stability", "write_html_report",
           "write_html_report_samples"]
