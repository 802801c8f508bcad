"""Server-rendered SVG: the link graph (igraph layout) and small line / bar charts (no JavaScript library)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#0b5cad", "#b3261e", "#1b7a3a", "#a15c00", "#6b3fa0", "#00838f", "#5b6475", "#c2185b")
KIND_COLORS = {"dv": "#a15c00", "ph": "#1b7a3a", "id": "#6b3fa0", "ct": "#00838f", "em": "#5b6475",
               "ag": "#c2185b", "cp": "#8d6e63", "cd": "#455a64", "ip": "#9e9d24"}


def graph_svg(nodes: Sequence[Mapping[str, Any]], edges: Sequence[tuple[int, int]], width: int = 1100,
              height: int = 720, seed: int = 7) -> Markup:
    """Nodes (``label``, ``kind``: ``person`` or an element kind, optional ``href``, ``title``, ``focus``,
    ``flag``) and edges (index pairs), laid out by igraph's Fruchterman–Reingold, as one SVG."""
    import random

    import igraph as ig

    n = len(nodes)
    if n == 0:
        return Markup('<svg width="10" height="10" role="img" aria-label="empty graph"></svg>')
    g = ig.Graph(n=n, edges=list(edges))
    random.seed(seed)
    start = [[math.cos(i), math.sin(i)] for i in range(n)]
    if n == 1:
        lay = ig.Layout([[0.0, 0.0]])
    elif n <= 120:
        lay = g.layout_fruchterman_reingold(niter=400, seed=start)
    else:  # large neighbourhoods: Kamada-Kawai spreads dense cores that Fruchterman-Reingold packs together
        lay = g.layout_kamada_kawai(seed=start, maxiter=50 * n)
    if n > 120:  # more room as the graph grows, so labels and nodes keep their size
        height = int(min(1400, height * math.sqrt(n / 120)))
    xs, ys = [p[0] for p in lay.coords], [p[1] for p in lay.coords]
    pad = 40
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 2 * pad) / ((x1 - x0) or 1)
    sy = (height - 2 * pad) / ((y1 - y0) or 1)
    pos = [(pad + (x - x0) * sx, pad + (y - y0) * sy) for x, y in zip(xs, ys, strict=True)]
    r = 9 if n <= 60 else 6 if n <= 150 else 4.5
    label_all = n <= 80
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="link graph, {n} nodes">',
           '<g stroke="#b8c0cc" stroke-width="1">']
    for a, b in edges:
        out.append(f'<line x1="{pos[a][0]:.1f}" y1="{pos[a][1]:.1f}" x2="{pos[b][0]:.1f}" y2="{pos[b][1]:.1f}"/>')
    out.append("</g>")
    for i, nd in enumerate(nodes):
        x, y = pos[i]
        kind = nd.get("kind", "person")
        title = escape(nd.get("title") or nd.get("label") or "")
        rr = r * (1.6 if nd.get("focus") else 1.0)
        if kind == "person":
            fill = "#b3261e" if nd.get("flag") else "#0b5cad"
            shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rr:.1f}" fill="{fill}" stroke="#fff" stroke-width="1.5"/>'
        else:
            fill = KIND_COLORS.get(kind, "#777")
            s = rr * 1.6
            shape = (f'<rect x="{x - s / 2:.1f}" y="{y - s / 2:.1f}" width="{s:.1f}" height="{s:.1f}" fill="{fill}" '
                     f'stroke="{"#b3261e" if nd.get("flag") else "#fff"}" stroke-width="{2 if nd.get("flag") else 1}"/>')
        label = ""
        if label_all or nd.get("focus") or (kind != "person" and nd.get("degree", 0) >= 3):
            label = (f'<text x="{x + rr + 2:.1f}" y="{y + 4:.1f}" font-size="11" fill="#1d2330" stroke="#fff" stroke-width="3" paint-order="stroke">'
                     f'{escape(nd.get("label") or "")}</text>')
        body = f"<title>{title}</title>{shape}{label}"
        if nd.get("href"):
            body = f'<a href="{escape(nd["href"])}">{body}</a>'
        out.append(f"<g>{body}</g>")
    out.append("</svg>")
    return Markup("".join(out))


def _nice(v: float) -> float:
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def line_chart(x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]], width: int = 1100,
               height: int = 230, y_label: str = "", fmt: str = "{:g}", stacked: bool = False) -> Markup:
    """A line chart (one line per series; ``stacked`` draws stacked areas) with axes and a legend."""
    n = len(x_labels)
    if n == 0 or not series:
        return Markup('<p>-</p>')
    names = list(series)
    vals = {k: [float(v) if v is not None else None for v in series[k]] for k in names}
    if stacked:
        acc = [0.0] * n
        tops: dict[str, list[float | None]] = {}
        for k in names:
            acc = [a + (v or 0.0) for a, v in zip(acc, vals[k], strict=True)]
            tops[k] = list(acc)
        vals = tops  # type: ignore[assignment]
    ymax = _nice(max([v for vs in vals.values() for v in vs if v is not None] or [1.0]))
    L, R, T, B = 56, 12, 10, 42
    w, h = width - L - R, height - T - B

    def px(i: int) -> float:
        return L + (w * i / max(n - 1, 1))

    def py(v: float) -> float:
        return T + h - h * (v / ymax)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'style="max-width:100%;height:auto" role="img" aria-label="{escape(y_label)}">']
    for j in range(5):
        v = ymax * j / 4
        out.append(f'<line x1="{L}" x2="{L + w}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#e3e6eb"/>'
                   f'<text x="{L - 4}" y="{py(v) + 4:.1f}" font-size="10" text-anchor="end">{escape(fmt.format(v))}</text>')
    step = max(1, n // 8)
    for i in range(0, n, step):
        out.append(f'<text x="{px(i):.1f}" y="{T + h + 14}" font-size="10" text-anchor="middle">{escape(x_labels[i])}</text>')
    prev_top: list[float] | None = None
    for k_i, k in enumerate(names):
        color = PALETTE[k_i % len(PALETTE)]
        pts = [(px(i), py(v)) for i, v in enumerate(vals[k]) if v is not None]
        if stacked:
            base = prev_top or [0.0] * n
            poly = [f"{px(i):.1f},{py(v or 0):.1f}" for i, v in enumerate(vals[k])] + \
                   [f"{px(i):.1f},{py(base[i]):.1f}" for i in range(n - 1, -1, -1)]
            out.append(f'<polygon points="{" ".join(poly)}" fill="{color}" fill-opacity=".55" stroke="{color}"/>')
            prev_top = [v or 0.0 for v in vals[k]]
        elif pts:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        lx = L + 8 + sum(24 + 7 * len(x) for x in names[:k_i])
        out.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{lx + 14}" y="{height - 5}" font-size="11">{escape(k)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(labels: Sequence[str], values: Sequence[float], width: int = 760, height: int = 230,
              fmt: str = "{:g}", threshold: float | None = None) -> Markup:
    """Vertical bars with value labels; bars above ``threshold`` are drawn red."""
    n = len(labels)
    if n == 0:
        return Markup('<p>-</p>')
    ymax = _nice(max(max(values), threshold or 0.0))
    L, T, B = 48, 10, 48
    w, h = width - L - 10, height - T - B
    bw = w / n
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" style="max-width:100%;height:auto" role="img">']
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        bh = h * v / ymax
        color = "#b3261e" if threshold is not None and v > threshold else "#0b5cad"
        x = L + i * bw
        out.append(f'<rect x="{x + 2:.1f}" y="{T + h - bh:.1f}" width="{bw - 4:.1f}" height="{bh:.1f}" fill="{color}">'
                   f'<title>{escape(lab)}: {escape(fmt.format(v))}</title></rect>'
                   f'<text x="{x + bw / 2:.1f}" y="{T + h - bh - 2:.1f}" font-size="10" text-anchor="middle">{escape(fmt.format(v))}</text>'
                   f'<text x="{x + bw / 2:.1f}" y="{T + h + 14}" font-size="10" text-anchor="middle">{escape(lab[:12])}</text>')
    if threshold is not None:
        y = T + h - h * threshold / ymax
        out.append(f'<line x1="{L}" x2="{L + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b3261e" stroke-dasharray="4 3"/>')
    out.append(f'<line x1="{L}" x2="{L + w}" y1="{T + h}" y2="{T + h}" stroke="#1d2330"/></svg>')
    return Markup("".join(out))
