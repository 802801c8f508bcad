"""The fraud pack's online feature provider: graph features, identity locks and per-application signals.

``FraudFeatures.read_update(event)`` returns, for an application, every feature the rules of
``strategies/application_fraud.yaml`` use; the same values come out of the vectorised
:func:`fengkong.fraud.signals.application_signals` + :func:`~fengkong.fraud.signals.graph_features`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fengkong.fraud.graph import FEATURES as GRAPH_FEATURES
from fengkong.fraud.graph import AssociationGraph
from fengkong.fraud.locks import IdentityLocks

STRATEGY = Path(__file__).with_name("strategies") / "application_fraud.yaml"

#: Identity-theft signals (DOMAIN.md §4.1) counted into ``idt_signal_count``.
IDT_SIGNALS = ("fr_liveness_fail", "fr_device_tampered", "fr_phone_not_owner", "fr_phone_new", "fr_ip_far",
               "fr_fast_form", "fr_night", "fr_device_shared", "fr_phone_new_to_applicant")

#: The signals about the person and the device itself; place, hour and device sharing are only context.
IDT_CORE = ("fr_liveness_fail", "fr_device_tampered", "fr_phone_not_owner", "fr_phone_new", "fr_fast_form",
            "fr_phone_new_to_applicant")

SIGNAL_KINDS: dict[str, str] = {
    "fr_liveness_fail": "bool", "fr_device_tampered": "bool", "fr_phone_not_owner": "bool", "fr_phone_new": "bool",
    "fr_night": "bool", "fr_ip_far": "bool", "fr_fast_form": "bool", "fr_device_shared": "bool",
    "fr_phone_new_to_applicant": "bool", "idt_signal_count": "int", "idt_core_count": "int", "fr_packaged_docs": "bool",
    "fr_thin_file_high_income": "bool", "fr_inquiries_7d": "int", "fr_inquiries_30d": "int",
    "fr_nonbank_loans": "int", "fr_dti": "float", "identity_locked": "bool",
}
_GRAPH_KINDS = {k: ("bool" if k in ("graph_applicant_known", "graph_device_new_to_applicant",
                                    "graph_phone_new_to_applicant", "graph_element_risky") else "int")
                for k in GRAPH_FEATURES}
#: Every feature name the fraud rules may use, with its kind (for the strategy type checker).
FRAUD_FEATURE_KINDS: dict[str, str] = {**_GRAPH_KINDS, **SIGNAL_KINDS}

#: Declared monthly income (fen) above which a thin-file applicant's claim counts as "high".
HIGH_INCOME_FEN = 1_500_000


def _lt(v: Any, x: float) -> bool:
    return v is not None and v < x


def row_signals(ev: Mapping[str, Any], graph: Mapping[str, Any]) -> dict[str, Any]:
    """The per-application signals of one event (the scalar twin of ``signals.application_signals``)."""
    hour = ev["ts"].hour
    income = ev.get("declared_income_fen")
    out = {
        "fr_liveness_fail": _lt(ev.get("liveness_score"), 0.6) or _lt(ev.get("face_match_score"), 0.6),
        "fr_device_tampered": bool(ev.get("is_emulator")) or bool(ev.get("is_rooted")),
        "fr_phone_not_owner": ev.get("phone_name_match") is False,
        "fr_phone_new": _lt(ev.get("phone_tenure_months"), 3),
        "fr_night": 0 <= hour < 6,
        "fr_ip_far": bool(ev.get("ip_province") and ev.get("province") and ev["ip_province"] != ev["province"]),
        "fr_fast_form": _lt(ev.get("form_fill_seconds"), 60),
        "fr_device_shared": graph["graph_device_identities"] >= 1,
        "fr_phone_new_to_applicant": bool(graph["graph_phone_new_to_applicant"] and graph["graph_applicant_known"]),
        "fr_packaged_docs": bool(ev.get("doc_statement_edited")) or (ev.get("housing_fund_backpaid_months") or 0) >= 3,
        "fr_thin_file_high_income": bool(ev.get("bureau_thin_file")) and (income or 0) >= HIGH_INCOME_FEN,
        "fr_inquiries_7d": ev.get("bureau_hard_inquiries_7d") or 0,
        "fr_inquiries_30d": ev.get("bureau_hard_inquiries_30d") or 0,
        "fr_nonbank_loans": ev.get("bureau_nonbank_loans") or 0,
        "fr_dti": (ev.get("monthly_debt_payment_fen") or 0) / income if income else None,
    }
    out["idt_signal_count"] = sum(int(out[k]) for k in IDT_SIGNALS)
    out["idt_core_count"] = sum(int(out[k]) for k in IDT_CORE)
    return out


class FraudFeatures:
    """Online provider: ``read(event)`` / ``update(event)`` / ``read_update(event)`` like the feature engine."""

    def __init__(self, locks: IdentityLocks | None = None, graph: AssociationGraph | None = None) -> None:
        self.graph = graph or AssociationGraph()
        self.locks = locks
        if locks is not None:
            for n in locks.risky_elements():
                self.graph.flag(n, "risky")

    def read(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if event["event_type"] != "application":
            return {}
        g = self.graph.read(event)
        out = {**g, **row_signals(event, g)}
        out["identity_locked"] = bool(self.locks is not None and self.locks.is_locked(event.get("id_token")))
        return out

    def update(self, event: Mapping[str, Any]) -> bool:
        return self.graph.update(event)

    def read_update(self, event: Mapping[str, Any]) -> dict[str, Any]:
        out = self.read(event)
        self.update(event)
        return out
