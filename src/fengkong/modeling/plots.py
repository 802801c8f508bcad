"""Matplotlib charts for modeling reports: ROC, KS curve, score distribution by class, bin charts."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from fengkong.modeling import metrics
from fengkong.modeling.binning import FeatureBinning


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def to_png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def to_data_uri(fig: Any) -> str:
    return "data:image/png;base64," + base64.b64encode(to_png(fig)).decode()


def roc(y: np.ndarray, score: np.ndarray, title: str = "ROC") -> Any:
    """ROC curve of a score (higher = less risky)."""
    plt = _plt()
    fpr, tpr = metrics.roc_curve(y, -np.asarray(score, dtype=float))
    a = metrics.auc(y, -np.asarray(score, dtype=float))
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot(fpr, tpr, color="#1f5fa8", lw=2, label=f"AUC {a:.3f} / Gini {2 * a - 1:.3f}")
    ax.plot([0, 1], [0, 1], color="#999", ls="--", lw=1)
    ax.set_xlabel("false positive rate (goods rejected)")
    ax.set_ylabel("true positive rate (bads rejected)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def ks_curve(y: np.ndarray, score: np.ndarray, title: str = "KS") -> Any:
    """Cumulative bad and good shares by score, with the KS gap marked."""
    plt = _plt()
    y = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    order = np.argsort(s, kind="stable")
    ys, ss = y[order], s[order]
    cb = np.cumsum(ys) / max(ys.sum(), 1)
    cg = np.cumsum(1 - ys) / max((1 - ys).sum(), 1)
    k = int(np.argmax(np.abs(cb - cg)))
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.plot(ss, cb, color="#c0392b", label="cum. bad share")
    ax.plot(ss, cg, color="#27ae60", label="cum. good share")
    ax.vlines(ss[k], cg[k], cb[k], color="#333", ls=":", label=f"KS {abs(cb[k] - cg[k]):.3f} at {ss[k]:.0f}")
    ax.set_xlabel("score")
    ax.set_ylabel("cumulative share")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def score_distribution(y: np.ndarray, score: np.ndarray, title: str = "Score distribution") -> Any:
    plt = _plt()
    y = np.asarray(y)
    s = np.asarray(score, dtype=float)
    bins = np.linspace(np.floor(s.min()), np.ceil(s.max()) + 1e-9, 31)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.hist(s[y == 0], bins=bins, alpha=0.6, density=True, color="#27ae60", label="good")
    ax.hist(s[y == 1], bins=bins, alpha=0.6, density=True, color="#c0392b", label="bad")
    ax.set_xlabel("score (higher = less risky)")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def bin_chart(fb: FeatureBinning, title: str | None = None) -> Any:
    """Count bars per bin, bad-rate line, WOE annotated on each bar."""
    plt = _plt()
    t = fb.table().filter(fb.table()["count"] > 0)
    labels = [lb if len(lb) <= 22 else lb[:20] + "…" for lb in t["label"].to_list()]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(4.5, 0.75 * len(labels) + 1.5), 3.6))
    ax.bar(x, t["count"].to_numpy(), color="#8fb3de")
    ax.set_ylabel("count")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=7)
    for xi, c, w in zip(x, t["count"].to_list(), t["woe"].to_list(), strict=True):
        ax.text(xi, c, f"WOE {w:+.2f}", ha="center", va="bottom", fontsize=6.5)
    ax2 = ax.twinx()
    ax2.plot(x, t["bad_rate"].to_numpy(), color="#c0392b", marker="o")
    ax2.set_ylabel("bad rate", color="#c0392b")
    ax2.set_ylim(0, max(0.05, float(np.nanmax(t["bad_rate"].to_numpy())) * 1.25))
    ax.set_title(title or f"{fb.name} (IV {fb.iv:.3f}, {fb.trend})", fontsize=9)
    return fig


def calibration(y: np.ndarray, pd: np.ndarray, title: str = "Calibration") -> Any:
    plt = _plt()
    t = metrics.calibration_table(y, pd)
    fig, ax = plt.subplots(figsize=(4.2, 4))
    m = max(float(t["mean_pd"].max()), float(t["bad_rate"].max())) * 1.1
    ax.plot([0, m], [0, m], color="#999", ls="--", lw=1)
    ax.plot(t["mean_pd"].to_numpy(), t["bad_rate"].to_numpy(), marker="o", color="#1f5fa8")
    ax.set_xlabel("mean predicted PD")
    ax.set_ylabel("observed bad rate")
    ax.set_title(title)
    return fig
