"""The "not me" (冒名贷款) path: an identity-theft claim opens a case, freezes collection, locks, lists, resolves.

:func:`open_not_me` (from a complaint with ``claims_not_me`` or an API call naming the loans): freezes
collection on the loans (store list ``collection_freeze``, which the contact strategy refuses on; the
collections provider already froze them online in the same event), reports the applications to the fraud
pack's :class:`~fengkong.fraud.locks.IdentityLocks` (identity lock, attacker device and phone on the risky
lists), lists the receiving account (``risky_account``), and opens an ``identity`` case whose evidence says
what differed from the real person's history. :func:`resolve_not_me` records the outcome: confirmed theft
writes the loans off to fraud loss and records the credit-report correction request with its deadline;
otherwise collection resumes. Every step is appended to the store's hash-chained admin log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl

from fengkong.errors import InputError

FREEZE_LIST = "collection_freeze"
ACCOUNT_LIST = "risky_account"
#: Days to verify and answer a credit-report dispute (《征信业管理条例》 Art 25, COLLECTIONS.md C13 [V]).
CREDIT_DISPUTE_DAYS = 20
SOURCE = "complaints"


class NotMeError(InputError, ValueError):
    """A "not me" request names nothing that can be acted on; the message names the field."""


def _history_diff(events: pl.DataFrame, app: dict[str, Any]) -> dict[str, Any]:
    """What the disputed application had that the real person's earlier history did not (tokens only)."""
    tok, cut = app.get("id_token"), app["ts"] - dt.timedelta(days=1)
    own = events.filter((pl.col("id_token") == tok) & (pl.col("ts") < cut)) if tok else events.head(0)
    seen = {c: set(own[c].drop_nulls().to_list()) for c in ("device_id", "phone_token", "card_token", "province")}
    diff = {f"{c}_new": (app.get(c) is not None and app.get(c) not in seen[c]) if own.height else None
            for c in ("device_id", "phone_token", "card_token", "province")}
    diff.update({"earlier_events_of_identity": own.height, "ip_province": app.get("ip_province"),
                 "declared_province": app.get("province"), "liveness_score": app.get("liveness_score"),
                 "face_match_score": app.get("face_match_score"), "is_emulator": app.get("is_emulator"),
                 "phone_name_match": app.get("phone_name_match"), "application_hour": app["ts"].hour})
    return diff


def open_not_me(store: Any, locks: Any, events: pl.DataFrame, *, loan_ids: Iterable[str],
                customer_id: str | None, ref: str, actor: str = "lender", lock: bool = True,
                at: dt.datetime | None = None) -> dict[str, Any]:
    """Open the identity-theft case for ``loan_ids`` (``ref``: the complaint's event id or the API request id)."""
    loans = sorted({x for x in loan_ids if x})
    if not loans:
        raise NotMeError("loan_ids: name at least one loan the person did not take out")
    now = at or dt.datetime.now(dt.UTC)
    disb = events.filter((pl.col("event_type") == "disbursement") & pl.col("loan_id").is_in(loans))
    missing = sorted(set(loans) - set(disb["loan_id"].to_list()))
    if missing:
        raise NotMeError(f"loan_ids: {missing[0]!r} is not a disbursed loan in the given events")
    for ln in loans:  # the freeze first: collection stops before anything else can fail
        if not any(e.value == ln for e in store.lists.entries(FREEZE_LIST)):
            store.lists.add(FREEZE_LIST, ln, kind="block", reason="identity-theft claim", source=f"not-me:{ref}")
    store.admin.append(actor, "not_me.freeze", target=ref, detail={"loans": loans})
    apps = events.filter((pl.col("event_type") == "application")
                         & pl.col("event_id").is_in(disb["application_id"].drop_nulls().to_list()))
    evidence: dict[str, Any] = {"loans": loans, "claim_ref": ref, "applications": []}
    principal = int(disb["amount_fen"].sum())
    done: dict[str, Any] = {}
    for app in apps.iter_rows(named=True):
        evidence["applications"].append({"application_id": app["event_id"], "ts": app["ts"].isoformat(),
                                         "device_id": app.get("device_id"), "phone_token": app.get("phone_token"),
                                         "differs_from_history": _history_diff(events, app)})
    toks = sorted(set(apps["id_token"].drop_nulls().to_list()))
    for tok in toks:
        ids = apps.filter(pl.col("id_token") == tok)["event_id"].to_list()
        done[tok] = locks.report_not_me(tok, ids, events, actor="lender", reason=f"not-me claim {ref}", lock=lock)
    for acc in sorted(set(disb["card_token"].drop_nulls().to_list())):
        if not any(e.value == acc for e in store.lists.entries(ACCOUNT_LIST)):
            store.lists.add(ACCOUNT_LIST, acc, kind="watch", reason="receiving account of a disputed loan",
                            source=f"not-me:{ref}")
    evidence["risky_elements"] = sorted({n for d in done.values() for n in d["risky_elements"]})
    evidence["receiving_accounts"] = sorted(set(disb["card_token"].drop_nulls().to_list()))
    evidence["identity_locked"] = bool(done) and all(d["locked"] for d in done.values())
    evidence["principal_fen"] = principal
    evidence["id_tokens"] = toks
    evidence["credit_dispute_deadline"] = (now + dt.timedelta(days=CREDIT_DISPUTE_DAYS)).date().isoformat()
    cid, new = store.cases.open(source=SOURCE, ref=f"not_me:{ref}", queue="identity", kind="identity_theft_claim",
                                title=f"'Not me' claim on {len(loans)} loan(s)", evidence=evidence,
                                customer_id=customer_id, priority=800, amount_fen=principal, score=None, at=at)
    store.admin.append(actor, "not_me.opened", target=f"case:{cid}",
                       detail={"ref": ref, "loans": loans, "locked": evidence["identity_locked"],
                               "risky_elements": len(evidence["risky_elements"]), "new": new})
    return {"case_id": cid, "new": new, **evidence}


def resolve_not_me(store: Any, locks: Any, case_id: int, actor: str, *, confirmed: bool, note: str,
                   collection: Any = None) -> dict[str, Any]:
    """Close the case. ``confirmed``: write-off to fraud loss + credit-report correction request (deadline
    from the claim); else the freeze is lifted (``collection``: an online ``ContactState`` to unfreeze too)
    and the identity unlocked."""
    c = store.cases.get(case_id)
    if c is None or c.source != SOURCE or c.kind != "identity_theft_claim":
        raise NotMeError(f"case_id: {case_id} is not a 'not me' case")
    loans = c.evidence["loans"]
    if confirmed:
        data = {"loans_written_off": loans, "loss_category": "fraud_loss", "amount_fen": int(c.amount_fen),
                "credit_report_correction": {"loans": loans, "requested": dt.date.today().isoformat(),
                                             "deadline": c.evidence["credit_dispute_deadline"],
                                             "basis": "征信业管理条例 Art 25 (20 days)"}}
        store.cases.comment(case_id, actor, "confirmed identity theft: written off to fraud loss", data)
        store.cases.decide(case_id, actor, "confirm_fraud", note)
        store.admin.append(actor, "not_me.confirmed", target=f"case:{case_id}", detail=data)
        return data
    for ln in loans:
        store.lists.remove(FREEZE_LIST, ln)
        if collection is not None:
            collection.unfreeze(ln)
    for tok in c.evidence.get("id_tokens", []):
        locks.unlock(tok, "lender", f"not theft: {note}")
    data = {"loans_resumed": loans}
    store.cases.comment(case_id, actor, "not identity theft: collection resumes", data)
    store.cases.decide(case_id, actor, "false_positive", note)
    store.admin.append(actor, "not_me.rejected", target=f"case:{case_id}", detail=data)
    return data
