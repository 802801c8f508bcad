"""The evidence of a case for its page: reason codes with rule texts, features with meanings, scorecard points,
masked identity elements, the linked cluster, the customer's timeline and earlier cases."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fengkong.events import pii

#: Meanings of the fraud pack's per-application signals (docs/fraud.md §3–4).
SIGNAL_MEANINGS = {
    "fr_liveness_fail": "Liveness or face match below 0.6", "fr_device_tampered": "Emulator, virtual camera or rooted device",
    "fr_phone_not_owner": "Operator three-factor check failed", "fr_phone_new": "Phone activated less than 3 months ago",
    "fr_fast_form": "Application form filled in under 60 s", "fr_ip_far": "IP province differs from the declared province",
    "fr_night": "Applied between 00:00 and 05:59", "fr_device_shared": "Device seen with another applicant",
    "fr_phone_new_to_applicant": "A known applicant arrives with a never-seen phone",
    "fr_device_new_to_applicant": "A known applicant arrives on a device never linked to them",
    "idt_signal_count": "Number of identity-theft signals", "idt_core_count": "Number of core identity-theft signals",
    "fr_packaged_docs": "Statement with edit traces or back-paid housing fund",
    "fr_thin_file_high_income": "Thin credit file claiming a high income", "fr_inquiries_7d": "Bureau hard inquiries in 7 days",
    "fr_inquiries_30d": "Bureau hard inquiries in 30 days", "fr_nonbank_loans": "Open non-bank loans",
    "fr_dti": "Monthly debt service / declared income", "identity_locked": "The identity is locked by its owner",
}
ELEMENT_NAMES = {"id_token": "ID number", "phone_token": "Phone", "device_id": "Device", "name_token": "Name",
                 "card_token": "Bank card", "agent_id": "Intermediary code", "ip": "IP address"}


@functools.cache
def feature_meanings() -> dict[str, str]:
    """Feature name → its documented meaning (standard library + the fraud pack's features)."""
    from fengkong.features import load_features

    out = {f.name: f.doc for f in load_features().features if f.doc}
    try:
        from fengkong.fraud.graph import FEATURES

        out.update(FEATURES)
    except ImportError:  # pragma: no cover - the fraud pack ships with fengkong
        pass
    out.update(SIGNAL_MEANINGS)
    return out


def _strategy(store: Any, name: str | None, version: str | None) -> Any:
    if not name or not version:
        return None
    sv = store.versions.get(name, str(version))
    if sv is None:
        return None
    return _compiled(sv.name, sv.version, sv.sha256, sv.source, tuple(sorted(sv.artifacts.items())))


@functools.lru_cache(maxsize=32)
def _compiled(name: str, version: str, sha: str, source: str, artifacts: tuple) -> Any:
    from fengkong.features import load_features
    from fengkong.features.providers import combined_kinds
    from fengkong.strategy import strategy_from_text

    try:
        return strategy_from_text(source, f"{name}@{version}", features=combined_kinds(load_features().kinds),
                                  artifacts=dict(artifacts))
    except Exception:  # an old version that no longer compiles still shows its codes
        return None


def _bin_points(bins: list[Any], v: Any) -> tuple[float, str] | None:
    for b in bins:
        if b.kind == "missing" and v is None:
            return b.points, "missing"
        if v is None:
            continue
        if b.kind == "in" and v in b.values:
            return b.points, "in " + ", ".join(map(str, b.values))
        if (b.kind == "range" and isinstance(v, int | float) and not isinstance(v, bool)
                and (b.ge is None or v >= b.ge) and (b.lt is None or v < b.lt)):
            if b.ge is None or b.lt is None:
                return b.points, (f"< {b.lt:g}" if b.ge is None and b.lt is not None else
                                  f">= {b.ge:g}" if b.ge is not None else "any")
            return b.points, f"[{b.ge:g}, {b.lt:g})"
        if b.kind == "else":
            return b.points, "else"
    return None


def scorecard_points(strategy: Any, features: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Points of each characteristic whose input is a feature or event field recorded with the decision."""
    from fengkong.strategy.nodes import Scorecard

    rows: list[dict[str, Any]] = []
    for node in strategy.spec.nodes.values():
        if not isinstance(node, Scorecard):
            continue
        for c in node.characteristics:
            name = c.input.value if c.input.op == "name" else None
            if name is None or name not in features:
                continue
            hit = _bin_points(c.bins, features[name])
            if hit is not None:
                rows.append({"scorecard": node.id, "characteristic": c.name, "input": name, "value": features[name],
                             "bin": hit[1], "points": hit[0], "reason_code": c.reason_code})
    return rows


def case_evidence(store: Any, case: Any, events: Any = None) -> dict[str, Any]:
    """Everything the case page shows, with identity elements masked."""
    ev = case.evidence or {}
    strat = _strategy(store, ev.get("strategy"), ev.get("version"))
    texts: dict[str, tuple[str, str]] = {}
    if strat is not None:
        for r in strat.rules:
            texts.setdefault(r.reason_code, (r.id, r.reason))
    reasons = list(ev.get("reasons") or [])
    codes = []
    for i, code in enumerate(ev.get("reason_codes") or []):
        rid, text = texts.get(code, ("", reasons[i] if i < len(reasons) else ""))
        codes.append({"code": code, "rule": rid, "text": text})
    meanings = feature_meanings()
    feats = ev.get("features") or {}
    features = [{"name": k, "value": v, "meaning": meanings.get(k, "")} for k, v in sorted(feats.items())
                if not k.startswith("graph_")]
    cluster = [{"name": k, "value": v, "meaning": meanings.get(k, "")} for k, v in sorted(feats.items())
               if k.startswith("graph_")]
    points = scorecard_points(strat, {**(ev.get("inputs") or {}), **feats}) if strat is not None else []
    elements = [{"field": k, "name": ELEMENT_NAMES.get(k, k), "masked": pii.mask_token(v)}
                for k, v in sorted((ev.get("elements") or {}).items())]
    earlier = [c for c in store.cases.list(status=None, customer_id=case.customer_id, limit=20)
               if c.id != case.id] if case.customer_id else []
    return {"ring": ev.get("ring"), "codes": codes, "features": features, "cluster": cluster, "points": points, "elements": elements,
            "scores": ev.get("scores") or {}, "score_reasons": ev.get("score_reasons") or {},
            "inputs": sorted((ev.get("inputs") or {}).items()), "earlier": earlier, "timeline": customer_timeline(store, case.customer_id, events)}


def customer_timeline(store: Any, customer_id: str | None, events: Any = None, limit: int = 40) -> list[dict[str, Any]]:
    """The customer's recent events (from the world, when configured) and decisions (from the audit log)."""
    if not customer_id:
        return []
    from sqlalchemy import select

    from fengkong.store.schema import decisions

    rows: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for r in conn.execute(select(decisions.c.event_ts, decisions.c.event_type, decisions.c.outcome,
                                     decisions.c.request_id).where(decisions.c.customer_id == customer_id)
                              .order_by(decisions.c.seq.desc()).limit(limit)).all():
            rows.append({"ts": r[0], "what": f"decision {r[1]}", "detail": r[2], "ref": r[3]})
    if events is not None:
        import polars as pl

        mine = events.filter(pl.col("customer_id") == customer_id).sort("ts", descending=True).head(limit)
        for r in mine.select(*[c for c in ("ts", "event_type", "event_id", "amount_fen", "product")
                               if c in mine.columns]).iter_rows(named=True):
            amt = r.get("amount_fen")
            detail = " ".join(x for x in (r.get("product") or "", f"{amt / 100:,.2f}" if amt else "") if x)
            rows.append({"ts": r["ts"].isoformat() if r.get("ts") else None, "what": r["event_type"],
                         "detail": detail, "ref": r["event_id"]})
    rows.sort(key=lambda x: x["ts"] or "", reverse=True)
    return rows[:limit]
