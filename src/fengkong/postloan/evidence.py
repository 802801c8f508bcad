"""The effective-control evidence pack (有效管控证据): per loan and per period, what was monitored, when, what
was found and what was done — as HTML and Excel, for an examiner."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.postloan.alerts import Alerts, evidence_chain, mask_account, render_chain
from fengkong.postloan.tracing import by_loan


def _actions(store: Any, loan_ids: set[str] | None) -> pl.DataFrame:
    """Loan actions and case decisions recorded in the case store for post-loan cases."""
    schema = {"case_id": pl.Int64, "loan_id": pl.Utf8, "rule": pl.Utf8, "at": pl.Utf8, "actor": pl.Utf8,
              "action": pl.Utf8, "note": pl.Utf8, "status": pl.Utf8}
    rows: list[dict[str, Any]] = []
    if store is not None:
        for c in store.cases.list(status=None, queue="fund_flow", limit=1_000_000):
            if c.source != "postloan":
                continue
            loan, _, rule = c.ref.partition(":")
            if loan_ids is not None and loan not in loan_ids:
                continue
            full = store.cases.get(c.id)
            for h in full.history if full else []:
                data = h.get("data") or {}
                act = data.get("loan_action") or h.get("action")
                rows.append({"case_id": c.id, "loan_id": loan, "rule": rule, "at": h.get("at"), "actor": h.get("actor"),
                             "action": act, "note": h.get("note"), "status": c.status})
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def loan_pack(res: Alerts, loan_id: str, store: Any = None) -> dict[str, Any]:
    """Evidence of one loan: the disbursement, every traced outflow, the alerts with their chains, the actions."""
    loan = res.loans.get(loan_id)
    if loan is None:
        raise KeyError(f"loan {loan_id!r} is not in the events")
    tr = by_loan(res.trace).filter(pl.col("pl_loan_id") == loan_id)
    flows = tr.select("event_id", "ts", "pl_hop", "amount_fen", "pl_attributed_fen", "pl_class",
                      pl.col("counterparty_type"), pl.col("counterparty_id").map_elements(mask_account, return_dtype=pl.Utf8)
                      .alias("counterparty"), "counterparty_name")
    al = res.alerts.filter(pl.col("loan_id") == loan_id)
    by_class = tr.group_by("pl_class").agg(pl.col("pl_attributed_fen").sum().alias("loan_money_fen")).sort("pl_class")
    chains = [evidence_chain(res, r["event_id"], r["rule"]) for r in al.unique(["rule"], keep="first").iter_rows(named=True)]
    return {"loan_id": loan_id, "disbursed_at": str(loan["ts"]), "principal_fen": int(loan["amount_fen"]),
            "account": mask_account(loan["card_token"]), "monitored_transfers": tr.height, "flows": flows,
            "loan_money_by_class": by_class, "alerts": al.select("ts", "event_id", "rule", "use_class",
                                                                  "pl_attributed_fen"),
            "chains": chains, "actions": _actions(store, {loan_id}), "strategies": res.strategies,
            "taxonomy": res.taxonomy}


def period_pack(res: Alerts, start: dt.date, end: dt.date, store: Any = None) -> dict[str, Any]:
    """Evidence of a period [start, end): loans disbursed, transfers monitored, alerts per rule, actions."""
    def within(col: str) -> pl.Expr:
        d = pl.col(col).dt.date()
        return (d >= start) & (d < end)

    tr = res.trace.filter(within("ts"))
    al = res.alerts.filter(within("ts"))
    loans = pl.DataFrame(list(res.loans.values())).filter(within("ts")) if res.loans else pl.DataFrame()
    by_rule = al.group_by("rule").agg(pl.len().alias("alerts"), pl.col("loan_id").n_unique().alias("loans"),
                                      pl.col("pl_attributed_fen").sum().alias("loan_money_fen")).sort("rule")
    by_class = (tr.filter(pl.col("direction") == "out").group_by("pl_class")
                .agg(pl.len().alias("outflows"), pl.col("pl_attributed_fen").sum().alias("loan_money_fen"))
                .sort("pl_class"))
    alerted = set(al["loan_id"].drop_nulls().to_list())
    return {"start": start.isoformat(), "end": end.isoformat(), "loans_disbursed": loans.height,
            "principal_fen": int(loans["amount_fen"].sum()) if loans.height else 0,
            "transfers_monitored": tr.height, "traced_outflows": int(tr["pl_traced"].sum()),
            "loans_alerted": len(alerted), "by_rule": by_rule, "by_class": by_class,
            "actions": _actions(store, alerted) if store is not None else _actions(None, None),
            "strategies": res.strategies, "taxonomy": res.taxonomy}


def _table(df: pl.DataFrame, limit: int = 500) -> str:
    if df.height == 0:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r) + "</tr>"
                   for r in df.head(limit).iter_rows())
    more = f"<p>… {df.height - limit} more rows in the Excel file</p>" if df.height > limit else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}th{background:#eee}pre{background:#f7f7f7;"
        "padding:.5em}")


def write_pack(pack: dict[str, Any], out_dir: str | Path, name: str) -> tuple[Path, Path]:
    """Write one pack (loan or period) as ``<name>.html`` and ``<name>.xlsx``; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = {k: v for k, v in pack.items() if isinstance(v, pl.DataFrame)}
    scalars = {k: v for k, v in pack.items() if not isinstance(v, pl.DataFrame | list)}
    title = (f"Effective-control evidence — loan {pack['loan_id']}" if "loan_id" in pack
             else f"Effective-control evidence — {pack['start']} to {pack['end']}")
    parts = [f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             "<p>What was monitored, when, what was found and what was done. Counterparty accounts are masked; "
             "amounts are integer fen (分, 1/100 yuan). Loan money is attributed by the rule <em>loan money leaves first</em>.</p>",
             _table(pl.DataFrame({"item": list(scalars), "value": [str(v) for v in scalars.values()]}))]
    for k, f in frames.items():
        parts.append(f"<h2>{html.escape(k.replace('_', ' '))}</h2>{_table(f)}")
    for ch in pack.get("chains", []):
        parts.append(f"<h2>evidence chain {html.escape(str(ch['rule']))}</h2><pre>{html.escape(render_chain(ch))}</pre>")
    parts.append(f"<p>generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}</p></body></html>")
    h = out / f"{name}.html"
    h.write_text("".join(parts), encoding="utf-8")
    x = out / f"{name}.xlsx"
    from fengkong.workbook import open_workbook, write_frame

    with open_workbook(x) as wb:
        write_frame(pl.DataFrame({"item": list(scalars), "value": [str(v) for v in scalars.values()]}),
                    wb, "summary", autofit=True)
        for k, f in frames.items():
            f2 = f.with_columns([pl.col(c).cast(pl.Utf8) for c, t in f.schema.items() if isinstance(t, pl.Datetime)])
            write_frame(f2, wb, k, autofit=True)
        if pack.get("chains"):
            rows = [{"rule": ch["rule"], **{k: (None if v is None else str(v)) for k, v in s.items()}}
                    for ch in pack["chains"] for s in ch["path"]]
            write_frame(pl.DataFrame(rows), wb, "evidence_chains", autofit=True)
    return h, x
