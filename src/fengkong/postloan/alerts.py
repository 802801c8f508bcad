"""Fund-flow alerts: the reference transfer/disbursement strategies over a history, each alert with its evidence
chain (the money's path with amounts, times, masked counterparties and the rule that fired), and as cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.postloan.config import DAY_US, DEFAULT
from fengkong.postloan.taxonomy import Taxonomy, load_taxonomy

STRATEGIES = Path(__file__).parents[1] / "strategies"
TRANSFER_STRATEGY = STRATEGIES / "transfer.yaml"
DISBURSEMENT_STRATEGY = STRATEGIES / "disbursement.yaml"
#: Rules whose alert names a destination class (the prohibited-use rules).
DESTINATION_RULES = ("PL_PROHIBITED_T1", "PL_PROHIBITED_T7", "PL_PROHIBITED_T30", "PL_PROHIBITED_T90",
                     "PL_CUMULATIVE_20PCT", "PL_LOAN_TO_REPAY_LOAN")
#: Case kind and priority per rule (higher = more urgent; the earlier the window, the more urgent).
RULE_CASE: dict[str, tuple[str, int]] = {
    "PL_PROHIBITED_T1": ("prohibited_use", 90), "PL_PROHIBITED_T7": ("prohibited_use", 80),
    "PL_PROHIBITED_T30": ("prohibited_use", 70), "PL_PROHIBITED_T90": ("prohibited_use", 60),
    "PL_CUMULATIVE_20PCT": ("prohibited_cumulative", 85), "PL_LOAN_TO_REPAY_LOAN": ("loan_to_repay_loan", 85),
    "PL_IN_OUT_24H": ("in_out_24h", 75), "PL_SPLITTING": ("splitting", 70), "DB_PAYEE_MISMATCH": ("payee_mismatch", 80),
    "DB_ENTRUSTED_NO_PAYEE": ("payee_mismatch", 80), "DB_SELF_ABOVE_LIMIT": ("payment_control", 60),
    "DB_SELF_NO_ACCOUNT": ("payment_control", 60),
}
#: Actions on a loan, in escalation order (DOMAIN §3.3 item 7).
ACTIONS = ("warning", "request_return", "stop_drawdown", "cut_line", "early_recall", "report")


@dataclass
class Alerts:
    """The decisions of a run: ``alerts`` (one row per alerting event and rule), ``trace`` (every transfer
    traced), ``transfers`` / ``disbursements`` (every decision), and the strategies' names and versions."""

    alerts: pl.DataFrame
    trace: pl.DataFrame
    transfers: pl.DataFrame
    disbursements: pl.DataFrame
    strategies: dict[str, str]
    taxonomy: str
    loans: dict[str, dict[str, Any]]
    _index: dict[str, dict[str, Any]] | None = None
    _credits: dict[tuple[str, str], list[dict[str, Any]]] | None = None

    def credits(self, account: str | None, loan_id: str | None, before_seq: int) -> list[dict[str, Any]]:
        """The traced transfers of ``loan_id``'s money into ``account`` before ``before_seq`` (oldest first)."""
        if self._credits is None:
            self.row(None)
            self._credits = {}
            for r in self._index.values():
                if r["counterparty_type"] not in DEFAULT.followed_types:
                    continue
                # every loan whose money the transfer moved, with that loan's part (not only the reporting loan)
                for part in r["loan_parts"] or ():
                    self._credits.setdefault((r["counterparty_id"], part["loan_id"]), []).append(
                        {**r, "pl_loan_id": part["loan_id"], "pl_attributed_fen": part["fen"], "pl_hop": part["hop"]})
            for v in self._credits.values():
                v.sort(key=lambda r: r["seq"])
        return [r for r in self._credits.get((account, loan_id), []) if r["seq"] < before_seq]

    def row(self, event_id: str | None) -> dict[str, Any] | None:
        """The traced transfer ``event_id`` (an index over the traced outflows, built on first use)."""
        if self._index is None:
            cols = ["event_id", "seq", "ts", "amount_fen", "card_token", "counterparty_id", "counterparty_type",
                    "counterparty_name", "pl_class", "pl_loan_id", "pl_hop", "pl_attributed_fen", "pl_source_event",
                    "pl_days_since_disb", "pl_principal_fen", "loan_parts"]
            t = self.trace.filter(pl.col("pl_traced") | pl.col("event_id").is_in(self.alerts["event_id"].implode()))
            self._index = {r["event_id"]: r for r in t.select(cols).iter_rows(named=True)}
        return self._index.get(event_id) if event_id else None


def _run(strategy_path: Path, events: pl.DataFrame, features: pl.DataFrame | None) -> tuple[pl.DataFrame, Any]:
    from fengkong.features.providers import combined_kinds
    from fengkong.strategy.backtest import prepare_frame
    from fengkong.strategy.compiled import load_strategy

    s = load_strategy(strategy_path, features=combined_kinds())
    frame = prepare_frame(events, s, features=features if s.used_features else None)
    dec = s.evaluate_frame(frame)
    rules = [r.id for node in s.spec.nodes.values() for r in getattr(node, "rules", None) or ()]
    acts = {r.id: r.action for node in s.spec.nodes.values() for r in getattr(node, "rules", None) or ()}
    hit_cols = [f"hit.{r}" for r in rules if f"hit.{r}" in dec.columns]
    out = dec.select("event_id", "outcome", "reason_codes", *hit_cols)
    return out, (s, rules, acts)


def decide_history(events: pl.DataFrame, taxonomy: Taxonomy | None = None) -> Alerts:
    """Trace every transfer and decide every transfer and disbursement with the reference strategies
    (vectorised; the same decisions ``fengkong decide`` makes one by one)."""
    from fengkong.postloan.payee import check_frame
    from fengkong.postloan.tracing import trace

    tax = taxonomy or load_taxonomy()
    tr = trace(events, tax)
    feats = tr.select("event_id", *[c for c in tr.columns if c.startswith("pl_")])
    tdec, (ts, trules, tacts) = _run(TRANSFER_STRATEGY, events, feats)
    ddec, (ds, drules, dacts) = _run(DISBURSEMENT_STRATEGY, events, check_frame(events))
    parts = []
    for dec, rules, acts in ((tdec, trules, tacts), (ddec, drules, dacts)):
        for r in rules:
            col = f"hit.{r}"
            if col in dec.columns and acts[r] == "review":
                parts.append(dec.filter(pl.col(col)).select("event_id", pl.lit(r).alias("rule")))
    hits = pl.concat(parts) if parts else pl.DataFrame(schema={"event_id": pl.Utf8, "rule": pl.Utf8})
    d = events.filter(pl.col("event_type") == "disbursement").select(
        "event_id", "ts", "customer_id", "loan_id", "amount_fen", "payment_mode", "payee_id", "contract_payee_id")
    t_alerts = hits.join(tr.select("event_id", "ts", "customer_id", "amount_fen", "card_token", "counterparty_id",
                                   "counterparty_type", "counterparty_name", pl.col("pl_class").alias("use_class"),
                                   pl.col("pl_loan_id").alias("loan_id"), "pl_hop", "pl_attributed_fen",
                                   "pl_days_since_disb", "pl_principal_fen"), on="event_id", how="inner")
    d_alerts = hits.join(d.select("event_id", "ts", "customer_id", "loan_id", "amount_fen", "payee_id",
                                  pl.col("amount_fen").alias("pl_principal_fen")), on="event_id", how="inner")
    d_alerts = d_alerts.with_columns(pl.lit(None, dtype=pl.Utf8).alias("use_class"),
                                     pl.col("payee_id").alias("counterparty_id"),
                                     pl.col("amount_fen").alias("pl_attributed_fen")).drop("payee_id")
    alerts = pl.concat([t_alerts, d_alerts], how="diagonal_relaxed").sort("ts", "event_id", "rule")
    loans = {r["loan_id"]: r for r in events.filter(pl.col("event_type") == "disbursement").select(
        "loan_id", "ts", "amount_fen", "card_token", "event_id").unique("loan_id", keep="first").iter_rows(named=True)}
    return Alerts(alerts, tr, tdec, ddec, {"transfer": f"{ts.name}@{ts.version}", "disbursement":
                                           f"{ds.name}@{ds.version}"}, tax.ref, loans)


# ---------------------------------------------------------------- evidence chains


def mask_account(value: str | None) -> str:
    """An account / counterparty id for display: first 3 and last 4 characters kept."""
    if not value:
        return "-"
    v = str(value)
    return v[:3] + "*" * max(len(v) - 7, 0) + v[-4:] if len(v) > 7 else "*" * len(v)


def loan_flows(res: Alerts, loan_id: str) -> dict[str, Any]:
    """The money of one loan (``fengkong postloan trace``): the disbursement and every traced outflow hop by
    hop, with the loan money attributed, its class and masked accounts. KeyError for an unknown loan."""
    loan = res.loans.get(loan_id)
    if loan is None:
        raise KeyError(loan_id)
    from fengkong.postloan.tracing import by_loan

    tr = by_loan(res.trace).filter(pl.col("pl_loan_id") == loan_id)
    rows = [{"ts": str(r["ts"]), "hop": r["pl_hop"], "amount_fen": r["amount_fen"],
             "loan_money_fen": r["pl_attributed_fen"], "class": r["pl_class"], "from": mask_account(r["card_token"]),
             "to": r["counterparty_name"] or f"{r['counterparty_type']} {mask_account(r['counterparty_id'])}",
             "event_id": r["event_id"]} for r in tr.iter_rows(named=True)]
    return {"loan_id": loan_id, "principal_fen": loan["amount_fen"], "disbursed_at": str(loan["ts"]),
            "account": mask_account(loan["card_token"]), "taxonomy": res.taxonomy, "flows": rows}


def alert_summary(res: Alerts, limit: int = 20) -> dict[str, Any]:
    """Alerts of a history (``fengkong postloan alerts``): counts, loans, alerts per rule and the first
    ``limit`` alerts (time, event, rule, loan, class, loan money)."""
    a = res.alerts
    return {"alerts": a.height, "loans": a["loan_id"].n_unique(),
            "by_rule": {r: n for r, n in a.group_by("rule").len().sort("rule").iter_rows()},
            "listed": [{"ts": str(r["ts"]), "event_id": r["event_id"], "rule": r["rule"], "loan_id": r["loan_id"],
                        "class": r["use_class"], "loan_money_fen": int(r["pl_attributed_fen"] or 0)}
                       for r in a.head(limit).iter_rows(named=True)]}


def _party(ctype: str | None, cid: str | None, name: str | None) -> str:
    """How a counterparty is shown: a business name in full (a registered company name is public), any
    person's account masked."""
    if ctype in ("merchant", "company", "financial") and name:
        return f"{name} ({mask_account(cid)})"
    return f"{ctype or 'account'} {mask_account(cid)}"


def evidence_chain(res: Alerts, event_id: str, rule: str | None = None) -> dict[str, Any]:
    """The path of the money of one alerting event: the disbursement, every hop through accounts the lender
    sees, the alerting transfer; each with time, amount, loan money attributed and masked parties."""
    if rule is None:
        hit = res.alerts.filter(pl.col("event_id") == event_id)
        rule = ", ".join(hit["rule"].to_list()) if hit.height else None
    row = res.row(event_id)
    if row is None:  # a disbursement alert
        d = res.alerts.filter(pl.col("event_id") == event_id)
        if d.height == 0:
            raise KeyError(f"no alert for event {event_id!r}")
        a = d.row(0, named=True)
        return {"event_id": event_id, "rule": rule or a["rule"], "loan_id": a["loan_id"], "taxonomy": res.taxonomy,
                "strategy": res.strategies["disbursement"],
                "path": [{"step": 0, "event_id": event_id, "kind": "disbursement", "ts": str(a["ts"]),
                          "amount_fen": int(a["amount_fen"]), "to": f"payee {mask_account(a['counterparty_id'])}"}]}
    steps: list[dict[str, Any]] = []
    seen: set[str] = set()

    def step(r: dict[str, Any]) -> None:
        steps.append({"event_id": r["event_id"], "kind": "transfer", "ts": str(r["ts"]),
                      "amount_fen": int(r["amount_fen"]), "loan_money_fen": r["pl_attributed_fen"],
                      "hop": r["pl_hop"], "from": f"account {mask_account(r['card_token'])}",
                      "to": _party(r["counterparty_type"], r["counterparty_id"], r["counterparty_name"]),
                      "class": r["pl_class"]})

    loan_id = row["pl_loan_id"]
    cur = row
    step(row)
    seen.add(row["event_id"])
    while cur is not None:
        # every credit of this loan's money into the account the money left from (newest first, reversed below)
        ins = [r for r in res.credits(cur["card_token"], loan_id, cur["seq"]) if r["event_id"] not in seen]
        for r in reversed(ins):
            seen.add(r["event_id"])
            step(r)
        nxt = ins[-1] if ins else None
        if nxt is None:
            d = res.loans.get(loan_id)
            if d is not None and cur["card_token"] == d["card_token"]:
                steps.append({"event_id": d["event_id"], "kind": "disbursement", "ts": str(d["ts"]),
                              "amount_fen": int(d["amount_fen"]), "loan_money_fen": int(d["amount_fen"]),
                              "hop": 0, "from": "lender", "to": f"account {mask_account(d['card_token'])}",
                              "class": None})
        cur = nxt
    steps.reverse()
    for i, s in enumerate(steps):
        s["step"] = i
    out = {"event_id": event_id, "rule": rule, "loan_id": row["pl_loan_id"], "use_class": row["pl_class"],
           "days_since_disbursement": row["pl_days_since_disb"], "principal_fen": row["pl_principal_fen"],
           "taxonomy": res.taxonomy, "strategy": res.strategies["transfer"], "path": steps}
    if rule and "PL_SPLITTING" in rule:
        out["split_payments"] = _split_payments(res, event_id)
        out["entrusted_threshold_fen"] = DEFAULT.entrusted_threshold_fen
    return out


def _split_payments(res: Alerts, event_id: str) -> list[dict[str, Any]]:
    """The customer's payments to the alerting transfer's payee within the splitting window up to it (the
    ones ``pl_same_payee_7d_cnt`` / ``_fen`` count), each with the loan its money is traced to."""
    from fengkong.postloan.tracing import payee_key

    t = res.trace
    me = t.filter(pl.col("event_id") == event_id).row(0, named=True)
    key = me["counterparty_name"] or me["counterparty_id"]
    since = me["ts"] - dt.timedelta(microseconds=DEFAULT.split_days * DAY_US)
    p = t.filter((pl.col("customer_id") == me["customer_id"]) & (pl.col("direction") == "out")
                 & (payee_key() == key) & (pl.col("ts") > since) & (pl.col("seq") <= me["seq"])).sort("seq")
    return [{"event_id": r["event_id"], "ts": str(r["ts"]), "amount_fen": int(r["amount_fen"]),
             "loan_id": r["pl_loan_id"], "loan_money_fen": r["pl_attributed_fen"],
             "loan_parts": [{"loan_id": p["loan_id"], "fen": int(p["fen"])} for p in r["loan_parts"] or ()],
             "from": f"account {mask_account(r['card_token'])}",
             "to": _party(r["counterparty_type"], r["counterparty_id"], r["counterparty_name"])}
            for r in p.iter_rows(named=True)]


def render_chain(chain: dict[str, Any]) -> str:
    """An evidence chain as text lines (for the console and the demo)."""
    head = (f"alert {chain['rule']} on loan {chain['loan_id']} — {chain.get('use_class') or ''} "
            f"(taxonomy {chain['taxonomy']}, strategy {chain['strategy']})")
    lines = [head]
    for s in chain["path"]:
        lm = s.get("loan_money_fen")
        lm_s = f", loan money ¥{lm / 100:,.2f}" if lm is not None else ""
        lines.append(f"  {s['step']}. {s['ts']}  {s['kind']:<12} ¥{s['amount_fen'] / 100:,.2f}{lm_s}  "
                     f"{s.get('from', '')} → {s['to']}" + (f"  [{s['class']}]" if s.get("class") else ""))
    if chain.get("split_payments"):
        sp = chain["split_payments"]
        total = sum(x["amount_fen"] for x in sp)
        lines.append(f"  payments to this payee within the splitting window: {len(sp)}, ¥{total / 100:,.2f} "
                     f"(entrusted-payment threshold ¥{chain['entrusted_threshold_fen'] / 100:,.2f})")
        for x in sp:
            # every loan whose money the payment carried (one pot per loan and account), else the traced loan
            parts = x.get("loan_parts") or [{"loan_id": x["loan_id"] or "-", "fen": x.get("loan_money_fen") or 0}]
            money = " + ".join(f"¥{p['fen'] / 100:,.2f} of {p['loan_id']}" for p in parts)
            lines.append(f"     {x['ts']}  ¥{x['amount_fen'] / 100:,.2f}, loan money {money}  {x['from']} → {x['to']}")
    return "\n".join(lines)


# ---------------------------------------------------------------- cases


def open_cases(store: Any, res: Alerts, limit: int | None = None) -> dict[str, Any]:
    """One ``fund_flow`` case per (loan, rule) — idempotent on the ref ``<loan>:<rule>`` — with the evidence
    chain of the first alerting event. Returns counts of cases opened and already open, and the case ids in
    alert order (``case_ids``)."""
    opened = existing = 0
    ids: list[int] = []
    first = res.alerts.sort("ts", "event_id").unique(["loan_id", "rule"], keep="first", maintain_order=True)
    if limit is not None:
        first = first.head(limit)
    for a in first.iter_rows(named=True):
        kind, prio = RULE_CASE.get(a["rule"], ("fund_flow", 50))
        chain = evidence_chain(res, a["event_id"], a["rule"])
        title = f"{a['rule']}: loan {a['loan_id']}" + (f" → {a['use_class']}" if a.get("use_class") else "")
        cid, new = store.cases.open(
            "postloan", f"{a['loan_id'] or a['event_id']}:{a['rule']}", "fund_flow", kind, title, evidence=chain,
            customer_id=a["customer_id"], request_id=a["event_id"], product="cash_loan", priority=prio,
            amount_fen=int(a["pl_attributed_fen"] or 0), score=None)
        ids.append(cid)
        opened += int(new)
        existing += int(not new)
    return {"opened": opened, "existing": existing, "case_ids": ids}


def open_cases_from_decisions(store: Any, strategies: tuple[str, ...] = ("transfer_reference",
                                                                        "disbursement_reference")) -> dict[str, int]:
    """Cases for the alerts decided online (``fengkong decide`` / the service): every ``review`` decision of
    the post-loan strategies in the audit log, one case per loan and rule (the same refs as :func:`open_cases`
    for transfers, so the batch and the online path never open a case twice), evidence = the decision record
    (rules, reason codes, the feature values used, the traced loan, hop and source event)."""
    import json

    opened = existing = 0
    for row in store.decisions.rows():
        if row["strategy_name"] not in strategies or row["outcome"] != "review":
            continue
        rec = json.loads(row["record"])
        outs = rec.get("outputs") or {}
        loan = outs.get("traced_loan")
        for rule in rec.get("rules_hit") or []:
            if rule not in RULE_CASE:
                continue
            kind, prio = RULE_CASE[rule]
            ref = f"{loan or row['request_id']}:{rule}"
            evidence = {"rule": rule, "loan_id": loan, "request_id": row["request_id"], "event_ts": row["event_ts"],
                        "strategy": f"{row['strategy_name']}@{row['strategy_version']}",
                        "reason_codes": rec.get("reason_codes"), "features": rec.get("features"), "outputs": outs,
                        "path": [{"step": 0, "event_id": outs.get("source_event"), "kind": "source of the money"},
                                 {"step": 1, "event_id": row["request_id"], "kind": row["event_type"],
                                  "ts": row["event_ts"], "loan_money_fen": outs.get("attributed_fen"),
                                  "class": outs.get("use_class"), "hop": outs.get("hop")}]}
            _, new = store.cases.open("postloan", ref, "fund_flow", kind, f"{rule}: loan {loan or '-'}",
                                      evidence=evidence, customer_id=row["customer_id"],
                                      request_id=row["request_id"], product="cash_loan", priority=prio,
                                      amount_fen=int(outs.get("attributed_fen") or 0))
            opened += int(new)
            existing += int(not new)
    return {"opened": opened, "existing": existing}


def record_action(store: Any, case_id: int, actor: str, action: str, note: str, loan_id: str | None = None,
                  amount_fen: int | None = None) -> None:
    """Record the action taken on the loan of a case (warning → request to return the funds → stop further
    drawdowns → cut the line → early recall → report) on the case's timeline."""
    if action not in ACTIONS:
        raise ValueError(f"action {action!r}: expected one of {', '.join(ACTIONS)}")
    if not note:
        raise ValueError("an action needs a note")
    store.cases.comment(case_id, actor, note, {"loan_action": action, "loan_id": loan_id, "amount_fen": amount_fen})
