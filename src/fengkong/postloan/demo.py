"""The post-loan stage of ``fengkong demo``: fund-flow alerts with one evidence chain, cases, evidence packs, vintage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl


def stage_postloan(out: Path, console: Any, shared: Any = None) -> None:
    """Post-loan: fund-flow alerts against ground truth, one evidence chain, cases, evidence pack, vintage report."""
    from rich.table import Table
    from rich.text import Text

    from fengkong.events.files import read_world
    from fengkong.postloan.alerts import (
        decide_history,
        evidence_chain,
        open_cases,
        record_action,
        render_chain,
    )
    from fengkong.postloan.evaluate import render_table, score
    from fengkong.postloan.evidence import loan_pack, period_pack, write_pack
    from fengkong.postloan.report import build, write_report
    from fengkong.store import open_store

    world = out / "world"
    events = shared.events if shared is not None else read_world(world)  # the demo's world, read once
    res = decide_history(events)
    t = Table(title=f"Fund-flow alerts ({res.strategies['transfer']}, {res.strategies['disbursement']}, "
                    f"taxonomy {res.taxonomy})")
    for c in ("rule", "alerts", "loans", "loan money ¥"):
        t.add_column(c, justify="right" if c != "rule" else "left")
    by = res.alerts.group_by("rule").agg(pl.len(), pl.col("loan_id").n_unique(),
                                         pl.col("pl_attributed_fen").sum()).sort("rule")
    for r, n, loans, fen in by.iter_rows():
        t.add_row(r, f"{n:,}", f"{loans:,}", f"{(fen or 0) / 100:,.0f}")
    console.print(t)
    labels = pl.read_parquet(world / "labels.parquet")
    console.print(Text(render_table(score(res, labels, events))), soft_wrap=True)
    # one evidence chain: a prohibited-use alert whose money went through an own account first, if any
    dest = res.alerts.filter(pl.col("rule").str.starts_with("PL_PROHIBITED"))
    multi = dest.join(res.trace.filter(pl.col("pl_hop") >= 2).select("event_id"), on="event_id", how="semi")
    pick = (multi if multi.height else dest if dest.height else res.alerts).head(1)
    pack_dir = out / "postloan"
    if pick.height:
        a = pick.row(0, named=True)
        console.print(Text("Evidence chain:\n" + render_chain(evidence_chain(res, a["event_id"], a["rule"]))),
                      soft_wrap=True)
    db = out / "fengkong.db"
    st = open_store(f"sqlite:///{db}")
    try:
        counts = open_cases(st, res)
        written: list[Path] = []
        if pick.height:
            case = st.cases.by_ref("postloan", f"{a['loan_id']}:{a['rule']}")
            if case is not None:
                record_action(st, case.id, "demo-analyst", "request_return",
                              "asked the borrower to return the loan money sent to a prohibited use",
                              loan_id=a["loan_id"], amount_fen=int(a["pl_attributed_fen"] or 0))
            written += write_pack(loan_pack(res, a["loan_id"], st), pack_dir, f"evidence_{a['loan_id']}")
        first = events["ts"].min().date().replace(day=1)
        end = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        written += write_pack(period_pack(res, first, end, st), pack_dir, f"evidence_{first:%Y-%m}")
    finally:
        st.close()
    rep = build(events, trace=res.trace)
    written += write_report(rep, pack_dir, "vintage")
    console.print(f"cases: {counts['opened']:,} fund_flow cases opened ({counts['existing']:,} already open); "
                  f"B card: {rep['bcard'].metrics if rep['bcard'] is not None else rep['bcard_note']}")
    console.print("written: " + ", ".join(str(p.relative_to(out)) for p in written))
