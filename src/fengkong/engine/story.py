"""The demo story of the decision engine: backtest months 1–2, replay month 3 online, show what was caught.

Called by ``fengkong demo`` (owned by the CLI/demo area) as ``demo_story(world_dir, db_url, console)``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl

SHIPPED = Path(__file__).resolve().parents[1] / "strategies"
CAUGHT = ("reject", "review")


def _cut(world: Path, events: pl.DataFrame, months: int) -> dt.datetime:
    from fengkong.events import TZ

    start: dt.date | None = None
    mf = world / "manifest.json"
    if mf.exists():
        start = dt.date.fromisoformat(json.loads(mf.read_text())["world"]["start"])
    if start is None:
        start = events["ts"].min().date().replace(day=1)
    y, m = divmod(start.month - 1 + months, 12)
    return dt.datetime(start.year + y, m + 1, 1, tzinfo=TZ)


def demo_story(world_dir: str | Path, db_url: str | None = None, console: Any = None,
               strategies_dir: str | Path | None = None, events: pl.DataFrame | None = None,
               features: pl.DataFrame | None = None) -> dict[str, Any]:
    """Backtest the application strategy on months 1–2, then replay month 3 through the online engine
    (applications and purchases decided and recorded in ``db_url``; other events update features).

    Prints the backtest tables, approval and bad rates, and the table of planted patterns caught per
    ground-truth label; returns the same figures as a dict. ``events`` / ``features``: the world's events and
    their full point-in-time backfill (``backfill_all``) when the caller already has them.
    """
    from rich.console import Console
    from rich.table import Table

    from fengkong.engine.core import Engine
    from fengkong.engine.replay import replay
    from fengkong.events.files import read_world
    from fengkong.features import load_features
    from fengkong.features.online import OnlineFeatures
    from fengkong.features.providers import ProviderContext, backfill_all, combined_kinds, open_features
    from fengkong.features.stores import MemoryStore
    from fengkong.store import open_store
    from fengkong.strategy import backtest as bt
    from fengkong.strategy import load_strategy

    con = console or Console()
    world = Path(world_dir)
    sdir = Path(strategies_dir) if strategies_dir else SHIPPED
    fs = load_features()
    kinds = combined_kinds(fs.kinds)  # + feature providers (the fraud pack's graph features)
    app = load_strategy(sdir / "application.yaml", features=kinds)
    pur = load_strategy(sdir / "purchase.yaml", features=kinds)
    if events is None or features is None:
        with con.status("engine: reading the world and backfilling point-in-time features…"):
            events = read_world(world) if events is None else events
            features = backfill_all(events, fs, ProviderContext())
    feats = features
    cut = _cut(world, events, 2)
    labels = bt.load_labels(world / "outcomes.parquet") if (world / "outcomes.parquet").exists() else None

    # 1. backtest months 1–2
    frame = bt.prepare_frame(events, app, features=feats).filter(pl.col("ts") < cut)
    res = bt.run(app, frame, labels)
    con.rule(f"Backtest of {app.name} v{app.version} on months 1–2 (before {cut.date()})")
    bt.print_tables(res, con)

    # 2. online replay of month 3, recorded in the store
    st = open_store(db_url)
    for s in (app, pur):
        st.versions.deploy(s)
        st.versions.activate(s.name, s.version)
    of = open_features(OnlineFeatures(fs, MemoryStore()), ProviderContext())
    hist = events.filter(pl.col("ts") < cut)
    month3 = events.filter(pl.col("ts") >= cut)
    from fengkong.engine.replay import event_dicts

    with con.status(f"engine: warming online feature state with {hist.height} events of months 1–2…"):
        for ev in event_dicts(hist):
            of.update(ev)
    eng = Engine(st, of)
    with con.status(f"engine: replaying {month3.height} events of month 3 through the online engine…"):
        decisions = replay(month3, eng, decide_types=("application", "purchase"))
    dec = pl.DataFrame({"event_id": [d.request_id for d in decisions],
                        "event_type": [d.event_type for d in decisions],
                        "outcome": [d.outcome for d in decisions],
                        "version": [f"{d.strategy}@{d.version}" for d in decisions]},
                       schema={"event_id": pl.Utf8, "event_type": pl.Utf8, "outcome": pl.Utf8, "version": pl.Utf8})
    apps = dec.filter(pl.col("event_type") == "application")
    approval = float((apps["outcome"] == "approve").mean() or 0.0) if apps.height else 0.0
    bad_rate = None
    approved = int((apps["outcome"] == "approve").sum()) if apps.height else 0
    observed = 0
    if labels is not None and apps.height:
        # the same labels as the backtest: ``bad`` only where the outcome is observed by the world's end
        # (a loan's first due date + 30 days); month-3 loans mostly are not, so they are left out
        joined = (apps.filter(pl.col("outcome") == "approve").join(labels, on="event_id", how="left")
                  .filter(pl.col("bad").is_not_null()))
        observed = joined.height
        if observed:
            bad_rate = float(joined["bad"].cast(pl.Float64).mean())
    caught_rows: list[dict[str, Any]] = []
    lab_path = world / "labels.parquet"
    if lab_path.exists():
        lab = (pl.read_parquet(lab_path).filter(pl.col("entity_type").is_in(["application", "purchase"]))
               .select("pattern", pl.col("entity_id").alias("event_id")).unique())
        j = lab.join(dec, on="event_id", how="inner")
        normal = dec.join(lab, on="event_id", how="anti")
        for (pattern,), g in sorted(j.group_by("pattern"), key=lambda t: t[0][0]):
            caught_rows.append({"pattern": pattern, "events": g.height,
                                "caught": int(g["outcome"].is_in(list(CAUGHT)).sum()),
                                "rejected": int((g["outcome"] == "reject").sum())})
        for et in ("application", "purchase"):
            g = normal.filter(pl.col("event_type") == et)
            if g.height:
                caught_rows.append({"pattern": f"(no pattern: {et})", "events": g.height,
                                    "caught": int(g["outcome"].is_in(list(CAUGHT)).sum()),
                                    "rejected": int((g["outcome"] == "reject").sum())})
    verify = st.decisions.verify()
    st.close()

    con.rule("Month 3 through the online engine")
    if labels is None:
        bad_text = "no outcome labels in the world"
    elif bad_rate is not None:
        bad_text = (f"bad rate of approved {bad_rate:.2%} over the {observed} of {approved} approved applications "
                    f"whose outcome is observed")
    else:
        bad_text = (f"bad rate of approved: outcomes not yet observable (none of the {approved} approved "
                    f"applications has an observed outcome by the end of the world)")
    con.print(f"{len(decisions)} decisions recorded ({apps.height} applications, "
              f"{dec.height - apps.height} purchases); approval rate {approval:.1%}; {bad_text}"
              + f"; audit chain {'intact' if verify.ok else 'BROKEN'} ({verify.checked} records)")
    t = Table(title="Planted patterns caught (review or reject) per ground-truth label",
              caption="month-3 applications and purchases; patterns with no month-3 events are not listed")
    for c in ("pattern", "events", "caught", "caught %", "rejected"):
        t.add_column(c, justify="right" if c != "pattern" else "left")
    for r in caught_rows:
        t.add_row(r["pattern"], str(r["events"]), str(r["caught"]),
                  f"{r['caught'] / r['events']:.0%}" if r["events"] else "-", str(r["rejected"]))
    con.print(t)
    return {"backtest": res.summary(), "cut": cut.isoformat(), "online": {
        "decisions": len(decisions), "applications": apps.height, "approval_rate": approval,
        "approved": approved, "approved_observed": observed, "bad_rate_approved": bad_rate, "caught": caught_rows, "audit_ok": verify.ok,
        "versions": sorted(set(dec["version"].to_list()))}}
