"""Monitoring dashboards: decisions per hour by outcome, approval rate, rule hit rates, latency p50/p99,
fallbacks and errors, score and feature drift (PSI by month against the training sample and the first month),
and rule hit-rate alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengkong.console import rollup

ROLES = ("analyst", "deployer", "supervisor")
APPROVING = ("approve", "allow")


MAX_POINTS = 240  # longer windows are drawn in buckets of several hours


def coarsen(rows: list[tuple[str, dict[str, Any]]], max_points: int) -> list[tuple[str, dict[str, Any]]]:
    """Merge consecutive hour rows into buckets of k hours so a chart has at most ``max_points`` points."""
    k = -(-len(rows) // max_points)
    if k <= 1:
        return rows
    out = []
    for i in range(0, len(rows), k):
        chunk = rows[i:i + k]
        out.append((chunk[0][0], rollup.merged(chunk)))
    return out


def psi_of(expected: Mapping[str, int], actual: Mapping[str, int], n_bins: int = 10) -> float | None:
    """PSI of two value histograms (bucket → count): decile bins of ``expected`` (the pricing of
    :func:`fengkong.modeling.metrics.psi_counts`)."""
    import numpy as np

    from fengkong.modeling.metrics import psi_counts

    if not expected or not actual:
        return None
    ev = np.array([float(k) for k in expected])
    ec = np.array(list(expected.values()), dtype=np.float64)
    order = np.argsort(ev)
    ev, ec = ev[order], ec[order]
    cum = np.cumsum(ec) / ec.sum()
    edges = np.unique(ev[np.searchsorted(cum, np.linspace(0, 1, n_bins + 1)[1:-1])])
    av = np.array([float(k) for k in actual])
    ac = np.array(list(actual.values()), dtype=np.float64)
    k = len(edges) + 1
    e_bins = np.bincount(np.searchsorted(edges, ev, side="right"), weights=ec, minlength=k)
    a_bins = np.bincount(np.searchsorted(edges, av, side="right"), weights=ac, minlength=k)
    return psi_counts(e_bins, a_bins)


def hit_rate_alerts(rows: list[tuple[str, dict[str, Any]]], threshold: float, min_n: int = 50) -> list[dict[str, Any]]:
    """Rules whose hit rate in the last 24 hours of data moved by more than ``threshold`` (absolute) from the
    24 hours before."""
    if not rows:
        return []
    last = dt.datetime.strptime(rows[-1][0], "%Y-%m-%dT%H") if rows[-1][0] != "unknown" else None
    if last is None:
        return []
    cut = (last - dt.timedelta(hours=23)).strftime("%Y-%m-%dT%H")
    prev = (last - dt.timedelta(hours=47)).strftime("%Y-%m-%dT%H")
    a = rollup.merged([r for r in rows if r[0] >= cut])
    b = rollup.merged([r for r in rows if prev <= r[0] < cut])
    if a["n"] < min_n or b["n"] < min_n:
        return []
    out = []
    for rule in sorted(set(a["rules"]) | set(b["rules"])):
        ra, rb = a["rules"].get(rule, 0) / a["n"], b["rules"].get(rule, 0) / b["n"]
        if abs(ra - rb) > threshold:
            out.append({"rule": rule, "last": ra, "previous": rb, "change": ra - rb})
    return sorted(out, key=lambda x: -abs(x["change"]))


def dashboard(store: Any, event_type: str, days: int, threshold: float, rows_per_view: int,
              baseline: Mapping[str, Mapping[str, int]] | None = None,
              baseline_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The monitoring page's data; ``baseline`` (training-sample histograms by column, see
    :func:`fengkong.console.baseline.load_baseline`) adds PSI of each month against the training sample."""
    from fengkong.console.svg import line_chart

    rollup.refresh(store, max_rows=rows_per_view)
    last = rollup.last_hour(store)
    if last is None:
        return {"empty": True, "backlog": rollup.backlog(store)}
    since = (last - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H")
    every = rollup.hours(store, event_type or None,
                         since=(last - dt.timedelta(days=max(days, 2))).strftime("%Y-%m-%dT%H"))
    win = [r for r in every if r[0] > since]
    if not win:
        return {"empty": True, "backlog": rollup.backlog(store)}
    tot = rollup.merged(win)
    outcomes = sorted(tot["outcomes"], key=lambda o: -tot["outcomes"][o])
    win = coarsen(win, MAX_POINTS)
    labels = [h[5:].replace("T", " ") for h, _ in win]
    per_hour = line_chart(labels, {o: [d["outcomes"].get(o, 0) for _, d in win] for o in outcomes},
                          y_label="decisions per hour", stacked=True)
    appr = line_chart(labels, {"approval rate": [sum(d["outcomes"].get(o, 0) for o in APPROVING) / d["n"]
                                                 if d["n"] else None for _, d in win]}, fmt="{:.0%}")
    lat = line_chart(labels, {"p50": [rollup.percentile(d["lat"], .5) for _, d in win],
                              "p99": [rollup.percentile(d["lat"], .99) for _, d in win]}, fmt="{:g} ms")
    errs = line_chart(labels, {"errors": [d["errors"] for _, d in win], "fallbacks": [d["fallbacks"] for _, d in win]})
    rules = sorted(({"rule": k, "hits": v, "rate": v / tot["n"]} for k, v in tot["rules"].items()),
                   key=lambda x: -x["hits"])
    # drift: each month against the training sample (when configured) and against the first month
    months = dict(rollup.hours(store, event_type or None, months=True))
    mlist = sorted(months)
    base = months[mlist[0]].get("values", {}) if mlist else {}
    drift = []
    for name in sorted(base):
        drift.append({"name": name, "psi": {m: psi_of(base[name], months[m].get("values", {}).get(name, {})) for m in mlist}})
    psi_chart = line_chart(mlist, {d["name"]: [d["psi"][m] for m in mlist] for d in drift}, fmt="{:.2f}") \
        if len(mlist) > 1 else None
    training, training_chart = [], None
    if baseline:
        from fengkong.console.baseline import match

        live = {n for m in mlist for n in months[m].get("values", {})}
        for name, col in sorted(match(baseline, live, baseline_names).items()):
            training.append({"name": name, "column": col, "psi": {
                m: psi_of(baseline[col], months[m].get("values", {}).get(name, {})) for m in mlist}})
        if training and mlist:
            training_chart = line_chart(mlist, {d["name"]: [d["psi"][m] for m in mlist] for d in training},
                                        fmt="{:.2f}")
    return {"empty": False, "n": tot["n"], "outcomes": tot["outcomes"], "approval": sum(
        tot["outcomes"].get(o, 0) for o in APPROVING) / tot["n"] if tot["n"] else 0.0,
        "p50": rollup.percentile(tot["lat"], .5), "p99": rollup.percentile(tot["lat"], .99),
        "errors": tot["errors"], "fallbacks": tot["fallbacks"], "per_hour": per_hour, "approval_chart": appr,
        "latency": lat, "errors_chart": errs, "rules": rules[:40], "drift": drift, "months": mlist,
        "psi_chart": psi_chart, "training": training, "training_chart": training_chart,
        "has_baseline": bool(baseline), "alerts": hit_rate_alerts(every, threshold), "roles": tot["roles"],
        "backlog": rollup.backlog(store), "first": win[0][0], "last": win[-1][0]}


def add_routes(router: APIRouter, cx: Any) -> None:
    from fengkong.console.baseline import baseline_file, load_baseline

    store = cx.store
    path = cx.settings.get("baseline")
    if path:
        baseline_file(path)  # a missing baseline fails at mount, naming the path

    def baseline() -> dict[str, dict[str, int]] | None:
        return cx.cached("baseline", lambda: load_baseline(path)) if path else None

    @router.get("/monitor")
    def monitor(request: Request, event_type: str = "application", days: int = 7) -> Response:
        cx.require(request, *ROLES)
        days = min(max(days, 1), 90)
        threshold = float(cx.settings.get("hit_rate_alert", 0.05))
        d = dashboard(store, event_type, days, threshold, int(cx.settings.get("rollup_rows_per_view", 5000)),
                      baseline(), cx.settings.get("baseline_names"))
        return cx.page(request, "monitor.html", d=d, event_type=event_type, days=days, threshold=threshold)
