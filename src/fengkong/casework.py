"""Case work: review decisions become cases, reviewers work them, and their answers feed lists and labels.

The console and the service call these functions; route handlers hold no workflow. Every action is
recorded in the store's hash-chained admin log. Feedback closes the loop: a confirmed fraud puts the
case's identity, phone and device tokens on block lists (with an expiry) and writes a ``fraud`` label;
a false positive writes a ``good`` label and can put the identity on an allow list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fengkong.events import pii
from fengkong.store import Case, CaseError
from fengkong.store.schema import decisions as decisions_table

#: Queue of a review decision from its reason codes (first match in this order wins).
QUEUE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("identity", ("IDT_", "IDENTITY_", "LIVENESS", "FACE_", "EMULATOR", "FORM_TOO_FAST", "RISKY_DEVICE",
                  "RISKY_PHONE", "DEVICE_SHARED", "PHONE_SHARED", "NEW_PHONE", "BLACKLIST_")),
    ("ring", ("RING_", "SHARED_ELEMENTS", "AGENT_BURST", "EMPLOYER_BURST", "WATCHED_AGENT", "CONTACTS_OVERDUE")),
    ("multi_head", ("MH_", "MULTI_HEAD", "APPLICATION_VELOCITY", "RECENT_INQUIRIES", "DEBT_TO_INCOME")),
    ("cash_out", ("CASH_OUT", "CO_", "MERCHANT_")),
    ("fund_flow", ("FUND_",)),
    ("complaints", ("COMPLAINT", "NOT_ME")),
)
#: Base priority of a queue (higher = more urgent); reason codes and the score add to it.
QUEUE_PRIORITY = {"identity": 40, "ring": 35, "cash_out": 30, "fund_flow": 30, "multi_head": 20,
                  "complaints": 20, "collections": 10, "review": 10}
#: Base priority of a detected-ring investigation: below the engine's reviews (a customer waits on those).
RING_CASE_PRIORITY = 20
#: Lists a confirmed fraud can put each element on, by the event field holding its token.
FRAUD_LISTS = {"id_token": "blacklist_id", "phone_token": "blacklist_phone", "device_id": "blacklist_device"}
#: Allow list of identities cleared by a false positive.
WHITELIST = "whitelist_id"
#: Event fields copied (as tokens) into a case's evidence so feedback can act on them.
ELEMENT_FIELDS = ("id_token", "phone_token", "device_id", "name_token", "card_token", "agent_id", "ip")
#: Label written per decision (a training target: fraud = 1, good = 0). Approve / decline / request documents
#: write none: a reviewer's credit judgement is not an observed outcome.
DECISION_LABELS = {"confirm_fraud": "fraud", "false_positive": "good"}
TARGETS = {"fraud": 1, "bad": 1, "good": 0}


@dataclass
class Policy:
    """Settings of the case workflow (from the console's settings)."""

    four_eyes_fen: int = 5_000_000  # decisions on cases with more at risk need a second person
    list_expiry_days: int = 365
    fraud_lists: dict[str, str] = field(default_factory=lambda: dict(FRAUD_LISTS))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Policy:
        s = settings or {}
        return cls(int(s.get("four_eyes_fen", cls.four_eyes_fen)),
                   int(s.get("list_expiry_days", cls.list_expiry_days)),
                   dict(s.get("fraud_lists") or FRAUD_LISTS))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ------------------------------------------------------------------ decisions → cases


def queue_for(reason_codes: Iterable[str]) -> str:
    """The inbox queue of a review outcome, from its reason codes (``review`` when none matches)."""
    codes = [c.upper() for c in reason_codes]
    for queue, prefixes in QUEUE_RULES:
        if any(c.startswith(p) for c in codes for p in prefixes):
            return queue
    return "review"


def _priority(queue: str, codes: Sequence[str], scores: Mapping[str, Any]) -> int:
    pr = QUEUE_PRIORITY.get(queue, 10) + min(len(codes), 5)
    pd = next((v for k, v in scores.items() if k.endswith("pd") and isinstance(v, int | float)), None)
    if pd is not None:
        pr += round(10 * min(max(float(pd), 0.0), 1.0))
    return pr


def event_inputs(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's plain inputs for the evidence (numbers, flags, short codes); never identity elements."""
    out: dict[str, Any] = {}
    for k, v in event.items():
        if k in ELEMENT_FIELDS or k.endswith(("_token", "_tokens")) or k in ("event_id", "customer_id", "ts"):
            continue
        if isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) <= 32):
            out[k] = v
    return out


def case_from_decision(store: Any, decision: Any, event: Mapping[str, Any] | None = None) -> int | None:
    """Open the case of one decision whose outcome is ``review`` (source ``engine``, ref = request id).

    ``decision`` is a :class:`fengkong.engine.Decision` or its stored dict; ``event`` (optional) supplies
    the amount at risk, product and the identity tokens feedback will act on. Idempotent; returns the case
    id, or None when the outcome is not ``review``. The service calls this after each decision.
    """
    args = _decision_case(decision, event)
    return None if args is None else store.cases.open(**args)[0]


def cases_of_decisions(store: Any, pairs: list[tuple[Any, Mapping[str, Any] | None]]) -> list[int | None]:
    """:func:`case_from_decision` for several (decision, event) pairs in one store transaction."""
    args = [_decision_case(d, e) for d, e in pairs]
    opened = iter(store.cases.open_many([a for a in args if a is not None]))
    return [None if a is None else next(opened)[0] for a in args]


def _decision_case(decision: Any, event: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The arguments of ``CaseRepo.open`` for a review decision (None for any other outcome)."""
    d = decision.to_dict() if hasattr(decision, "to_dict") else dict(decision)
    if d.get("outcome") != "review":
        return None
    ev = dict(event or {})
    codes = list(d.get("reason_codes") or [])
    queue = queue_for(codes)
    elements = {k: ev[k] for k in ELEMENT_FIELDS if ev.get(k)}
    evidence = {"request_id": d["request_id"], "event_type": d.get("event_type"), "strategy": d.get("strategy"),
                "version": d.get("version"), "reason_codes": codes, "reasons": list(d.get("reasons") or []),
                "rules_hit": list(d.get("rules_hit") or []), "scores": dict(d.get("scores") or {}),
                "score_reasons": dict(d.get("score_reasons") or {}), "features": dict(d.get("features") or {}),
                "outputs": dict(d.get("outputs") or {}), "elements": elements, "event_ts": d.get("event_ts"),
                "inputs": event_inputs(ev)}
    amount = ev.get("amount_fen")
    amount_fen = int(amount) if isinstance(amount, int) and not isinstance(amount, bool) else 0
    title = f"{d.get('event_type', 'event')} {d['request_id']}: {', '.join(codes[:3]) or 'review'}"
    score = next((float(v) for v in (d.get("scores") or {}).values() if isinstance(v, int | float)), None)
    at = None
    if d.get("decided_at"):
        try:
            at = dt.datetime.fromisoformat(d["decided_at"])
        except ValueError:
            at = None
    return {"source": "engine", "ref": d["request_id"], "queue": queue, "kind": "review", "title": title,
            "evidence": evidence, "customer_id": d.get("customer_id"), "request_id": d["request_id"],
            "product": ev.get("product") or (d.get("outputs") or {}).get("product"),
            "priority": _priority(queue, codes, d.get("scores") or {}), "amount_fen": amount_fen, "score": score,
            "at": at}


def case_from_ring(store: Any, ring: Any) -> int:
    """Open (idempotently) a ``ring`` queue case for a ring detected by the fraud pack.

    ``ring`` is a :class:`fengkong.fraud.rings.Ring` or its ``to_dict()``: members are customer ids and shared
    elements are masked, so the evidence holds no identity data. Amount at risk = yuan disbursed to members.
    """
    r = ring.to_dict() if hasattr(ring, "to_dict") else dict(ring)
    disbursed = int((r.get("outcomes") or {}).get("disbursed_fen") or 0)
    score = float(r.get("score") or 0.0)
    title = f"ring {r['ring_id']}: {len(r.get('members') or [])} members, score {score:.2f}"
    cid, _ = store.cases.open("fraud.rings", r["ring_id"], "ring", "ring", title, evidence={"ring": r},
                              priority=RING_CASE_PRIORITY + round(10 * score), amount_fen=disbursed,
                              score=score)
    return cid


def cases_from_decisions(store: Any, events: Mapping[str, Mapping[str, Any]] | None = None,
                         batch: int = 5000) -> int:
    """Open a case for every stored ``review`` decision that has none yet; returns how many were opened.

    ``events`` (optional): event dicts by event id, for the amount at risk and identity tokens.
    Reads the decision log in seq order, ``batch`` rows at a time (indexed by outcome).
    """
    opened, last = 0, 0
    events = events or {}
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(select(decisions_table.c.seq, decisions_table.c.record)
                                .where(decisions_table.c.outcome == "review", decisions_table.c.seq > last)
                                .order_by(decisions_table.c.seq).limit(batch)).all()
        if not rows:
            return opened
        for seq, rec in rows:
            d = json.loads(rec)
            if store.cases.by_ref("engine", d["request_id"]) is None:
                case_from_decision(store, d, events.get(d["request_id"]))
                opened += 1
            last = seq


def review_events(world: str | Path, store: Any, events: Any = None) -> dict[str, dict[str, Any]]:
    """The world's events behind the store's review decisions, by event id (for amounts and tokens);
    ``events``: the world's events when the caller has read them already."""
    import polars as pl

    from fengkong.engine.replay import event_dicts
    from fengkong.events.files import read_world

    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(decisions_table.c.request_id).where(decisions_table.c.outcome == "review")).all()]
    if not ids:
        return {}
    if events is None:
        events = read_world(Path(world))
    return {e["event_id"]: e for e in event_dicts(events.filter(pl.col("event_id").is_in(ids)))}


# ------------------------------------------------------------------ working a case


def _log(store: Any, actor: str, action: str, case_id: int, **detail: Any) -> None:
    store.admin.append(actor, action, f"case:{case_id}", detail)


def take_next(store: Any, actor: str, queues: Sequence[str] | None = None, product: str | None = None) -> Case | None:
    """Lock the most urgent unassigned case to ``actor`` (atomic: two reviewers never get the same case)."""
    c = store.cases.take_next(actor, queues=queues, product=product)
    if c is not None:
        _log(store, actor, "case.take", c.id, queue=c.queue)
    return c


def assign(store: Any, case_id: int, assignee: str, actor: str, note: str | None = None) -> Case:
    if store.users.get(assignee) is None:
        raise CaseError(f"no user {assignee!r}")
    c = store.cases.assign(case_id, assignee, actor, note)
    _log(store, actor, "case.assign", case_id, assignee=assignee)
    return c


def release(store: Any, case_id: int, actor: str, note: str | None = None) -> Case:
    c = store.cases.release(case_id, actor, note)
    _log(store, actor, "case.release", case_id)
    return c


def escalate(store: Any, case_id: int, actor: str, note: str) -> Case:
    c = store.cases.escalate(case_id, actor, note)
    _log(store, actor, "case.escalate", case_id, priority=c.priority)
    return c


def snooze(store: Any, case_id: int, actor: str, hours: float, note: str | None = None) -> Case:
    if not 0 < hours <= 24 * 30:
        raise CaseError("snooze for between 0 and 720 hours")
    until = _now() + dt.timedelta(hours=hours)
    c = store.cases.snooze(case_id, actor, until, note)
    _log(store, actor, "case.snooze", case_id, until=until.isoformat())
    return c


def comment(store: Any, case_id: int, actor: str, note: str) -> None:
    if not note.strip():
        raise CaseError("a comment needs text")
    store.cases.comment(case_id, actor, pii.redact(note))
    _log(store, actor, "case.comment", case_id)


def needs_four_eyes(case: Case, policy: Policy) -> bool:
    """Decisions on cases with at least ``four_eyes_fen`` at risk need a second person's approval."""
    return case.amount_fen >= policy.four_eyes_fen


def decide(store: Any, case_id: int, actor: str, decision: str, note: str, *,
           lists: Sequence[str] | None = None, expiry_days: int | None = None, whitelist: bool = False,
           policy: Policy | None = None) -> Case:
    """Decide a case (note mandatory). Above the four-eyes amount the case waits for :func:`approve`;
    otherwise it closes now and the feedback (lists, labels) is applied.

    ``lists``: for ``confirm_fraud``, which element fields to block (default: every element on the case
    among ``id_token``, ``phone_token``, ``device_id``); ``expiry_days``: how long the entries last;
    ``whitelist``: for ``false_positive``, put the identity on the allow list.
    """
    policy = policy or Policy()
    if not (note and note.strip()):
        raise CaseError("a decision needs a note")
    c = store.cases.get(case_id, history=False)
    if c is None:
        raise CaseError(f"no case {case_id}")
    fields = list(lists) if lists is not None else [k for k in policy.fraud_lists if k in c.evidence.get("elements", {})]
    bad = [f for f in fields if f not in policy.fraud_lists]
    if bad:
        raise CaseError(f"unknown element(s) {', '.join(bad)}; choose from {', '.join(policy.fraud_lists)}")
    days = policy.list_expiry_days if expiry_days is None else int(expiry_days)
    if days <= 0:
        raise CaseError("list expiry must be at least one day")
    feedback = {"lists": fields, "expiry_days": days, "whitelist": bool(whitelist)}
    four = needs_four_eyes(c, policy)
    note = pii.redact(note)
    if four:
        store.cases.comment(case_id, actor, "feedback chosen", {"feedback": feedback})
    c = store.cases.decide(case_id, actor, decision, note, needs_approval=four)
    _log(store, actor, "case.decide", case_id, decision=decision, four_eyes=four, feedback=feedback)
    if not four:
        apply_feedback(store, c, actor, feedback, policy)
    return c


def approve(store: Any, case_id: int, actor: str, note: str, approve: bool = True,
            policy: Policy | None = None) -> Case:
    """Second pair of eyes on a pending decision; approving applies the feedback chosen by the reviewer."""
    c = store.cases.approve(case_id, actor, pii.redact(note), approve=approve)
    _log(store, actor, "case.approve" if approve else "case.send_back", case_id, decision=c.decision)
    if approve:
        feedback: dict[str, Any] = {}
        for h in reversed(c.history):
            if h["action"] == "comment" and "feedback" in h["data"]:
                feedback = h["data"]["feedback"]
                break
        apply_feedback(store, c, c.decided_by or actor, feedback, policy)
    return c


def apply_feedback(store: Any, case: Case, actor: str, feedback: Mapping[str, Any], policy: Policy | None = None) -> dict[str, Any]:
    """Lists and labels for a closed decision; returns what was written (also on the case's timeline)."""
    policy = policy or Policy()
    elements = case.evidence.get("elements") or {}
    written: dict[str, Any] = {"lists": [], "labels": []}
    label = DECISION_LABELS.get(case.decision or "")
    expires = _now() + dt.timedelta(days=int(feedback.get("expiry_days") or policy.list_expiry_days))
    if case.decision == "confirm_fraud":
        have = {(e.list_name, e.value) for e in store.lists.entries()}
        for f in feedback.get("lists") or []:
            name, value = policy.fraud_lists.get(f), elements.get(f)
            if name and value and (name, value) not in have:
                store.lists.add(name, value, kind="block", reason=f"case {case.id} confirmed fraud",
                                source="casework", expires_at=expires)
                written["lists"].append({"list": name, "element": f, "value": pii.mask_token(value)})
    if case.decision == "false_positive" and feedback.get("whitelist") and elements.get("id_token"):
        store.lists.add(WHITELIST, elements["id_token"], kind="allow", reason=f"case {case.id} false positive",
                        source="casework", expires_at=expires)
        written["lists"].append({"list": WHITELIST, "element": "id_token",
                                 "value": pii.mask_token(elements["id_token"])})
    if label and case.source == "fraud.rings":
        store.labels.add("ring", case.ref, label, source="case", created_by=actor, pattern="ring", case_id=case.id)
        written["labels"].append({"subject_kind": "ring", "label": label})
    if label:
        pattern = case.queue if label in ("fraud", "bad") else None
        if case.request_id:
            store.labels.add("request", case.request_id, label, source="case", created_by=actor, pattern=pattern,
                             case_id=case.id, request_id=case.request_id)
            written["labels"].append({"subject_kind": "request", "label": label})
        if case.customer_id:
            store.labels.add("customer", case.customer_id, label, source="case", created_by=actor,
                             pattern=pattern, case_id=case.id, request_id=case.request_id)
            written["labels"].append({"subject_kind": "customer", "label": label})
        if label == "fraud" and elements.get("id_token"):
            store.labels.add("identity", elements["id_token"], label, source="case", created_by=actor,
                             pattern=pattern, case_id=case.id, request_id=case.request_id)
            written["labels"].append({"subject_kind": "identity", "label": label})
    if written["lists"] or written["labels"]:
        store.cases.comment(case.id, actor, "feedback applied", written)
        _log(store, actor, "case.feedback", case.id, **written)
    return written


# ------------------------------------------------------------------ labels as a training target


def labels_frame(store: Any, subject_kind: str | None = "request") -> Any:
    """The newest label per subject as a Polars frame with a 0/1 ``target`` (fraud/bad = 1, good = 0).

    With ``subject_kind="request"`` the subject is the decision's event id, so the frame joins the
    modeling pack's training sample on ``event_id`` (the column is named so).
    """
    import polars as pl

    rows = [{"subject_kind": lb.subject_kind, "subject": lb.subject, "label": lb.label,
             "target": TARGETS.get(lb.label), "pattern": lb.pattern, "case_id": lb.case_id,
             "request_id": lb.request_id, "source": lb.source, "created_by": lb.created_by,
             "created_at": lb.created_at} for lb in store.labels.latest(subject_kind)]
    schema = {"subject_kind": pl.Utf8, "subject": pl.Utf8, "label": pl.Utf8, "target": pl.Int8, "pattern": pl.Utf8,
              "case_id": pl.Int64, "request_id": pl.Utf8, "source": pl.Utf8, "created_by": pl.Utf8,
              "created_at": pl.Utf8}
    df = pl.DataFrame(rows, schema=schema)
    if subject_kind == "request":
        df = df.with_columns(pl.col("subject").alias("event_id"))
    return df


def export_labels(store: Any, path: str | Path, subject_kind: str | None = "request") -> int:
    """Write :func:`labels_frame` to ``path`` (.parquet or .csv); returns the number of rows."""
    p = Path(path)
    if p.suffix not in (".parquet", ".csv"):
        raise ValueError(f"--out must end in .parquet or .csv, not {p.suffix or '(none)'!r}")
    df = labels_frame(store, subject_kind)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix == ".parquet":
        df.write_parquet(p)
    else:
        df.write_csv(p)
    return df.height
