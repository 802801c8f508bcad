"""Portfolio report of a history (``fengkong postloan report``): vintage curves, roll-rate matrix, flow rates,
FPD / SPD and the B card, as HTML with plots and as Excel."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.postloan.portfolio import BUCKETS, _matrix, portfolio


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "<img src='data:image/png;base64," + base64.b64encode(buf.getvalue()).decode() + "'/>"


def _vintage_plot(v: pl.DataFrame, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for (c,), g in v.sort("cohort", "mob").group_by("cohort", maintain_order=True):
        ax.plot(g["mob"], g["rate"] * 100, marker="o", label=c)
    ax.set_xlabel("months on book (MOB)")
    ax.set_ylabel("% of cohort principal")
    ax.set_title(title)
    ax.legend(title="disbursed", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def _roll_plot(rr: pl.DataFrame) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = _matrix(rr)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    im = ax.imshow(m, cmap="Reds", vmin=0, vmax=1)
    ax.set_xticks(range(len(BUCKETS)), BUCKETS)
    ax.set_yticks(range(len(BUCKETS)), BUCKETS)
    ax.set_xlabel("bucket next month end")
    ax.set_ylabel("bucket this month end")
    for i in range(len(BUCKETS)):
        for j in range(len(BUCKETS)):
            if m[i, j] > 0:
                ax.text(j, i, f"{m[i, j]:.0%}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title("roll rates (accounts)")
    return _png(fig)


def _table(df: pl.DataFrame, limit: int = 200) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(f'{v:.4f}' if isinstance(v, float) else str(v))}</td>"
                                    for v in r) + "</tr>" for r in df.head(limit).iter_rows())
    return f"<table><tr>{head}</tr>{body}</table>"


def build(events: pl.DataFrame, trace: pl.DataFrame | None = None, bcard: bool = True) -> dict[str, Any]:
    """The portfolio tables and, when the history is long enough, the fitted B card."""
    out = portfolio(events)
    out["bcard"] = None
    out["bcard_note"] = None
    if bcard:
        from fengkong.postloan.bcard import BehaviourDataError, behaviour_frame, fit_bcard
        from fengkong.postloan.tracing import trace as _trace

        tr = trace if trace is not None else _trace(events)
        try:
            out["bcard"] = fit_bcard(behaviour_frame(events, tr))
        except BehaviourDataError as exc:
            out["bcard_note"] = str(exc)
    return out


def write_report(rep: dict[str, Any], out_dir: str | Path, name: str = "portfolio") -> tuple[Path, Path]:
    """``<name>.html`` (plots and tables) and ``<name>.xlsx`` (one sheet per table)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    v, ve = rep["vintage30"], rep["vintage30_ever"]
    wide = v.pivot(on="mob", index="cohort", values="rate", sort_columns=True) if v.height else v
    css = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}th{background:#eee}")
    parts = [f"<html><head><meta charset='utf-8'><title>Portfolio report</title><style>{css}</style></head><body>",
             f"<h1>Portfolio performance as of {rep['as_of']}</h1>",
             "<p>Definitions (DOMAIN §6): vintage = principal of loans at 30+ DPD at the month end k months after "
             "the disbursement month ÷ the cohort's principal; roll rate = share of accounts in bucket Mi at a month "
             "end that are in Mj at the next; flow rate = Mi → Mi+1 and its chained product; FPDx = first "
             "installment more than x days late (denominator: first installment matured x days ago); SPDx = first "
             "paid, second more than x days late.</p>"]
    if v.height:
        parts += ["<h2>Vintage DPD30+ (current)</h2>", _vintage_plot(v, "vintage 30+ (current)"), _table(wide),
                  "<h2>Vintage DPD30+ (ever)</h2>", _vintage_plot(ve, "vintage 30+ (ever)")]
    parts += ["<h2>Roll rates</h2>", _roll_plot(rep["roll_rates"]) if rep["roll_rates"].height else "",
              _table(rep["roll_rates"]), "<h2>Flow rates</h2>", _table(rep["flow_rates"]),
              "<h2>FPD / SPD</h2>", _table(rep["payment_defaults"])]
    b = rep.get("bcard")
    if b is not None:
        parts += ["<h2>Behaviour score (B card)</h2>",
                  f"<p>trained on {b.train_n:,} loans disbursed before {b.split_date}, tested on {b.test_n:,} later "
                  f"ones (out of time): {html.escape(str({k: round(x, 4) for k, x in b.metrics.items()}))}. "
                  "Observation 45 days after disbursement on loans current then; bad = 30+ DPD within the next 60 "
                  "days. A KS above 0.75 means the world's fraud loans (money sent on to individuals, then never "
                  "repaid) dominate the signal.</p>", _table(b.points)]
    elif rep.get("bcard_note"):
        parts.append(f"<h2>Behaviour score (B card)</h2><p>not fitted: {html.escape(rep['bcard_note'])}</p>")
    parts.append(f"<p>generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}</p></body></html>")
    h = out / f"{name}.html"
    h.write_text("".join(parts), encoding="utf-8")
    x = out / f"{name}.xlsx"
    from fengkong.workbook import open_workbook, write_frame

    sheets = {"vintage30": v, "vintage30_ever": ve, "roll_rates": rep["roll_rates"],
              "flow_rates": rep["flow_rates"], "payment_defaults": rep["payment_defaults"]}
    if b is not None:
        sheets["bcard_points"] = b.points
        sheets["bcard_metrics"] = pl.DataFrame({"metric": list(b.metrics), "value": [float(x) for x in b.metrics.values()]})
    with open_workbook(x) as wb:
        for k, f in sheets.items():
            write_frame(f.with_columns([pl.col(c).cast(pl.Utf8) for c, t in f.schema.items()
                                        if isinstance(t, pl.Datetime | pl.Date)]).fill_nan(None),
                        wb, k, autofit=True)
    return h, x
