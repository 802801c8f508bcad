"""Exploratory report on a dataset: per column type, missing share, distinct count, top values, IV, KS and
bad rate by bin, plus a one-page HTML summary."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fengkong.modeling._data import binary_target, to_polars
from fengkong.modeling.binner import Binner


def explore(X: Any, y: Any | None = None, top: int = 3) -> pl.DataFrame:
    """One row per column: dtype, missing share, distinct count, top values and (with a target) IV and KS."""
    return _explore(X, y, top)[0]


def _explore(X: Any, y: Any | None, top: int = 3) -> tuple[pl.DataFrame, Binner | None]:
    df = to_polars(X)
    n = df.height
    binner = None
    if y is not None:
        binner = Binner().fit(df, binary_target(y))
        yy = binary_target(y).astype(np.float64)
    rows = []
    for c in df.columns:
        s = df.get_column(c)
        miss = s.null_count() + (int(s.is_nan().sum()) if s.dtype.is_float() else 0)
        vc = s.drop_nulls().value_counts(sort=True).head(top)
        top_vals = "; ".join(f"{v} ({k / n:.1%})" for v, k in zip(vc[c].to_list(), vc["count"].to_list(), strict=True))
        row: dict[str, Any] = {"column": c, "dtype": str(s.dtype), "missing_share": miss / max(n, 1),
                               "distinct": s.n_unique(), "top_values": top_vals}
        if binner is not None and c in binner.bins_:
            fb = binner.bins_[c]
            row["iv"] = fb.iv
            idx = fb.bin_index(s)
            # KS of the column's bins ordered by WOE
            w = np.append(np.asarray(fb.woe), fb.default_woe)[idx]
            from fengkong.modeling.metrics import ks

            row["ks"] = ks(yy, w)
            row["n_bins"] = fb.n_regular
        rows.append(row)
    out = pl.DataFrame(rows)
    if "iv" in out.columns:
        out = out.sort("iv", descending=True, nulls_last=True)
    return out, binner


def explore_html(X: Any, y: Any | None = None, title: str = "Dataset overview", charts: int = 12) -> str:
    """A one-page HTML summary: the overview table and bad-rate-by-bin charts of the strongest columns."""
    from fengkong.modeling import plots

    summary, binner = _explore(X, y)
    df = to_polars(X)
    head = f"<p>{df.height:,} rows × {df.width} columns"
    if y is not None:
        head += f"; bad rate {float(np.mean(binary_target(y))):.2%}"
    head += "</p>"
    imgs = ""
    if binner is not None:
        for c in summary["column"].to_list()[:charts]:
            imgs += f'<img src="{plots.to_data_uri(plots.bin_chart(binner.bins_[c]))}" alt="{html.escape(c)}">'
    return _page(title, head + _table(summary) + f'<div class="charts">{imgs}</div>')


def _fmt_cell(v: Any, col: str) -> str:
    """One table cell: shares and bad rates as percentages, points to 2 decimals, missing values as "–"."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        v = v + 0.0  # -0.0 → 0.0
        if col.endswith("share"):
            return f"{v:.1%}"
        if col.endswith(("bad_rate", "mean_pd", "approval_rate")):
            return f"{v:.2%}"
        if col in ("points", "min_score", "max_score", "lift", "cum_lift") or col.startswith("lost_"):
            return f"{v:.2f}"
        return f"{v:.4f}"
    if isinstance(v, int):
        return f"{v:,}"
    return html.escape(str(v))


def _table(df: pl.DataFrame, groups: list[tuple[str, int]] | None = None) -> str:
    """An HTML table; ``groups`` adds a header row of (label, number of columns) bands over the columns."""
    band = ""
    if groups:
        band = "<tr>" + "".join(f'<th colspan="{w}" class="band">{html.escape(g)}</th>' for g, w in groups if w) + "</tr>"
    left = [' class="t"' if dt == pl.String else "" for dt in df.dtypes]  # text left, numbers right
    head = "".join(f"<th{left[j]}>{html.escape(c)}</th>" for j, c in enumerate(df.columns))
    body = "".join(
        "<tr>" + "".join(f"<td{left[j]}>{_fmt_cell(v, c)}</td>" for j, (c, v) in enumerate(zip(df.columns, row,
                                                                                                 strict=True)))
        + "</tr>"
        for row in df.iter_rows()
    )
    return f"<table><thead>{band}<tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """body{font-family:-apple-system,'Segoe UI','Noto Sans CJK SC',sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f2f5f9}th.band{background:#dce6f1;text-align:center}td.t,th.t{text-align:left}td:first-child,th:first-child{text-align:left}.charts img{margin:6px;border:1px solid #eee}
.kpi{display:inline-block;margin:0 18px 8px 0;font-size:13px}.kpi b{font-size:18px;display:block}"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def write_explore_html(path: str | Path, X: Any, y: Any | None = None, title: str = "Dataset overview") -> Path:
    p = Path(path)
    p.write_text(explore_html(X, y, title), encoding="utf-8")
    return p
