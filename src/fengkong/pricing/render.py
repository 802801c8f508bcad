"""Rendering primitives the pricing reports share: yuan / percent formatting, HTML tables and pages, plots,
Excel sheets."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

CSS = """body{font-family:'Noto Sans CJK SC','Noto Sans',Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px}
td{white-space:nowrap}
th{background:#f0f3f7;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#0a7d32;font-weight:bold}.bad{color:#b3261e;font-weight:bold}.warn{color:#b26a00;font-weight:bold}
.note{color:#555;font-size:12px}img{max-width:100%}"""


def yuan(fen: int | float | None) -> str:
    """Integer fen as a yuan string with thousands separators (exact; no float rounding)."""
    if fen is None:
        return ""
    f = round(fen)
    sign = "-" if f < 0 else ""
    q, r = divmod(abs(f), 100)
    return f"{sign}{q:,}.{r:02d}"


def pct(x: float | None, nd: int = 2) -> str:
    return "" if x is None or x != x else f"{x * 100:.{nd}f}%"


def _table(rows: list[dict[str, Any]], cols: list[tuple[str, str, str]]) -> str:
    """cols: (key, header, kind) with kind in text|yuan|pct|pp|int|item (item: annualised % over amount)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in cols)
    body = []
    for r in rows:
        tds = []
        for k, _, kind in cols:
            v = r.get(k)
            if kind == "yuan":
                tds.append(f'<td class="n">{yuan(v)}</td>')
            elif kind == "pct":
                tds.append(f'<td class="n">{pct(v)}</td>')
            elif kind == "pp":
                tds.append(f'<td class="n">{"" if v is None else f"{v * 100:+.3f}"}</td>')
            elif kind == "int":
                tds.append(f'<td class="n">{"" if v is None else f"{int(v):,}"}</td>')
            elif kind == "item":
                amount = r.get(f"{k}__fen")
                tds.append(f'<td class="n">{pct(v)}<br><span class="note">{yuan(amount)}</span></td>'
                           if v is not None else '<td class="n"></td>')
            else:
                tds.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _write_html(path: Path, title: str, parts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(title)}"
                    f"</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>", encoding="utf-8")


def _xlsx_sheet(wb, name: str, rows: list[dict[str, Any]], cols: list[tuple[str, str, str]], fmts) -> None:
    from fengkong.workbook import sheet_name

    ws = wb.add_worksheet(sheet_name(name))
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    for j, (k, h, kind) in enumerate(cols):
        ws.write(0, j, h, fmts["head"])
        sample = [r.get(k) for r in rows[:500]]
        longest = max([len(h)] + [len(str(v)) + (4 if kind == "yuan" else 0) for v in sample if v is not None])
        ws.set_column(j, j, min(48, max(10, longest + 2)))
    for i, r in enumerate(rows, start=1):
        for j, (k, _, kind) in enumerate(cols):
            v = r.get(k)
            if v is None:
                continue
            if kind == "yuan":
                ws.write_number(i, j, int(v) / 100, fmts["yuan"])
            elif kind == "pct":
                ws.write_number(i, j, float(v), fmts["pct"])
            elif kind == "pp":
                ws.write_number(i, j, float(v) * 100, fmts["pp"])
            elif kind == "int":
                ws.write_number(i, j, int(v))
            else:
                ws.write(i, j, str(v))
    ws.freeze_panes(1, 0)


def _workbook(path: Path):
    from fengkong.workbook import open_workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = open_workbook(path)
    fmts = {"head": wb.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1}),
            "yuan": wb.add_format({"num_format": "#,##0.00"}), "pct": wb.add_format({"num_format": "0.00%"}),
            "pp": wb.add_format({"num_format": "+0.000;-0.000"}), "title": wb.add_format({"bold": True, "font_size": 13})}
    return wb, fmts
