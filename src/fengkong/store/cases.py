"""The one case store: every review outcome and every pack's alert becomes a case worked in an inbox.

A pack opens a case with :meth:`Cases.open` (idempotent on ``(source, ref)``); reviewers take, assign,
escalate, snooze and decide them. "Take next" locks the oldest highest-priority unassigned case to one
reviewer atomically (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``FOR UPDATE SKIP LOCKED``), so two
reviewers clicking at once never get the same case. Every action is an entry of the case's timeline.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from fengkong.errors import InputError
from fengkong.store.schema import case_events, cases

#: Queues of the inbox (a pack may add its own; these are the ones the console knows by name).
QUEUES = ("identity", "ring", "multi_head", "cash_out", "fund_flow", "complaints", "collections", "review")
#: Statuses: open → assigned → (pending_approval) → closed; ``snoozed_until`` hides an open case for a while.
STATUSES = ("open", "assigned", "pending_approval", "closed")
#: Case decisions a reviewer can take.
DECISIONS = ("approve", "decline", "request_documents", "confirm_fraud", "false_positive", "resolved")
#: Default SLA per queue, hours from opening.
DEFAULT_SLA_HOURS = {"identity": 4, "ring": 24, "multi_head": 24, "cash_out": 24, "fund_flow": 72,
                     "complaints": 48, "collections": 24, "review": 8}


class CaseError(InputError, ValueError):
    """A case action that is not allowed in the case's state (the message says why)."""


@dataclass
class Case:
    id: int
    source: str
    ref: str
    queue: str
    kind: str
    title: str
    customer_id: str | None
    request_id: str | None
    product: str | None
    priority: int
    amount_fen: int
    score: float | None
    evidence: dict[str, Any]
    status: str
    assignee: str | None
    escalated: bool
    created_at: str
    updated_at: str
    due_at: str
    snoozed_until: str | None
    decision: str | None
    decided_by: str | None
    decision_note: str | None
    closed_at: str | None
    history: list[dict[str, Any]] = field(default_factory=list)

    def breached(self, now: dt.datetime | None = None) -> bool:
        """True when the case is not closed and its SLA deadline has passed."""
        if self.status == "closed":
            return False
        return self.due_at < _iso(now or _now())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(t: dt.datetime) -> str:
    if t.tzinfo is None:
        raise ValueError("case timestamps must be timezone-aware")
    return t.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _case(r: Mapping[str, Any]) -> Case:
    d = dict(r)
    d["evidence"] = json.loads(d["evidence"])
    d["escalated"] = bool(d["escalated"])
    return Case(**d)


class Cases:
    """Repository of cases and their timelines."""

    def __init__(self, engine: Any, sla_hours: Mapping[str, float] | None = None):
        self.engine = engine
        self.dialect = engine.dialect.name
        self.sla_hours = {**DEFAULT_SLA_HOURS, **(sla_hours or {})}

    # ------------------------------------------------------------ opening

    def open(self, source: str, ref: str, queue: str, kind: str, title: str, *, evidence: Mapping[str, Any],
             customer_id: str | None = None, request_id: str | None = None, product: str | None = None,
             priority: int = 0, amount_fen: int = 0, score: float | None = None,
             at: dt.datetime | None = None) -> tuple[int, bool]:
        """Open a case (``evidence`` is JSON-able and must hold tokens/masked values only).

        Idempotent: a second call with the same ``(source, ref)`` returns the existing case id and False.
        ``amount_fen`` is the amount at risk in integer fen; ``priority`` higher = more urgent.
        """
        if not source or not ref:
            raise CaseError("a case needs a source and a ref")
        if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
            raise CaseError(f"amount_fen must be an integer number of fen, not {type(amount_fen).__name__}")
        now = at or _now()
        due = now + dt.timedelta(hours=float(self.sla_hours.get(queue, 24)))
        body = json.dumps(dict(evidence), ensure_ascii=False, default=str, sort_keys=True)
        with self.engine.begin() as conn:
            found = conn.execute(select(cases.c.id).where(cases.c.source == source, cases.c.ref == ref)).first()
            if found is not None:
                return int(found[0]), False
            res = conn.execute(cases.insert().values(
                source=source, ref=ref, queue=queue, kind=kind, title=title, customer_id=customer_id,
                request_id=request_id, product=product, priority=int(priority), amount_fen=amount_fen,
                score=None if score is None else float(score), evidence=body, status="open", assignee=None,
                escalated=0, created_at=_iso(now), updated_at=_iso(now), due_at=_iso(due)))
            cid = int(res.inserted_primary_key[0])
            self._event(conn, cid, source, "opened", None, {"queue": queue, "kind": kind}, now)
        return cid, True

    def open_many(self, items: Sequence[Mapping[str, Any]]) -> list[tuple[int, bool]]:
        """:meth:`open` for several cases in one transaction (each item: :meth:`open`'s keyword arguments,
        ``source``, ``ref``, ``queue``, ``kind``, ``title`` and ``evidence`` included); same result per item.

        One lookup of the existing (source, ref) pairs, one insert of the new cases and one of their
        "opened" events, instead of three statements and a commit per case (the service opens the cases of
        a group of review decisions this way).
        """
        if not items:
            return []
        now0 = _now()
        rows: list[dict[str, Any]] = []
        for it in items:
            if not it.get("source") or not it.get("ref"):
                raise CaseError("a case needs a source and a ref")
            amount = it.get("amount_fen", 0)
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise CaseError(f"amount_fen must be an integer number of fen, not {type(amount).__name__}")
            now = it.get("at") or now0
            due = now + dt.timedelta(hours=float(self.sla_hours.get(it["queue"], 24)))
            score = it.get("score")
            rows.append({"source": it["source"], "ref": it["ref"], "queue": it["queue"], "kind": it["kind"],
                         "title": it["title"], "customer_id": it.get("customer_id"),
                         "request_id": it.get("request_id"), "product": it.get("product"),
                         "priority": int(it.get("priority", 0)), "amount_fen": amount,
                         "score": None if score is None else float(score),
                         "evidence": json.dumps(dict(it["evidence"]), ensure_ascii=False, default=str,
                                                sort_keys=True),
                         "status": "open", "assignee": None, "escalated": 0, "created_at": _iso(now),
                         "updated_at": _iso(now), "due_at": _iso(due)})
        out: dict[tuple[str, str], tuple[int, bool]] = {}
        with self.engine.begin() as conn:
            for src in {r["source"] for r in rows}:
                refs = [r["ref"] for r in rows if r["source"] == src]
                for cid, ref in conn.execute(select(cases.c.id, cases.c.ref).where(cases.c.source == src,
                                                                                    cases.c.ref.in_(refs))):
                    out[(src, ref)] = (int(cid), False)
            new: list[dict[str, Any]] = []
            for r in rows:
                if (r["source"], r["ref"]) not in out:
                    out[(r["source"], r["ref"])] = (0, True)  # a second item of the same case in this call
                    new.append(r)
            if new:
                res = conn.execute(cases.insert().returning(cases.c.id, sort_by_parameter_order=True), new)
                ids = [int(x[0]) for x in res]
                conn.execute(case_events.insert(), [
                    {"case_id": cid, "at": r["created_at"], "actor": r["source"], "action": "opened", "note": None,
                     "data": json.dumps({"queue": r["queue"], "kind": r["kind"]}, ensure_ascii=False)}
                    for cid, r in zip(ids, new, strict=True)])
                for cid, r in zip(ids, new, strict=True):
                    out[(r["source"], r["ref"])] = (cid, True)
        seen: set[tuple[str, str]] = set()
        result = []
        for r in rows:
            k = (r["source"], r["ref"])
            cid, created = out[k]
            result.append((cid, created and k not in seen))
            seen.add(k)
        return result

    # ------------------------------------------------------------ reading

    def get(self, case_id: int, history: bool = True) -> Case | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
            if r is None:
                return None
            c = _case(r)
            if history:
                rows = conn.execute(select(case_events).where(case_events.c.case_id == case_id)
                                    .order_by(case_events.c.id)).mappings().all()
                c.history = [{**dict(h), "data": json.loads(h["data"])} for h in rows]
        return c

    def by_ref(self, source: str, ref: str) -> Case | None:
        with self.engine.connect() as conn:
            cid = conn.execute(select(cases.c.id).where(cases.c.source == source, cases.c.ref == ref)).scalar()
        return None if cid is None else self.get(int(cid))

    def list(self, *, status: str | Sequence[str] | None = ("open", "assigned", "pending_approval"),
             queue: str | None = None, product: str | None = None, assignee: str | None = None,
             customer_id: str | None = None, kind: str | None = None, limit: int = 50,
             offset: int = 0, order: str = "priority") -> list[Case]:
        """Cases in inbox order (priority, amount at risk, oldest first), filtered and paged.

        ``order``: ``priority`` (the inbox order), ``amount`` (amount at risk first), ``score`` (highest
        score first) or ``due`` (nearest SLA deadline first)."""
        first = {"priority": [], "amount": [cases.c.amount_fen.desc()], "score": [cases.c.score.desc()],
                 "due": [cases.c.due_at]}.get(order)
        if first is None:
            raise CaseError(f"order must be priority, amount, score or due, not {order!r}")
        # The inbox (priority order, filtered by status / queue / product only) walks the inbox-order index,
        # which holds those columns, and stops after one page instead of sorting every open case: the filter
        # columns are wrapped in coalesce() so no planner prefers the status or product index and a sort.
        inbox = order == "priority" and assignee is None and customer_id is None and kind is None

        def c(col: Any) -> Any:
            return func.coalesce(col, "") if inbox else col

        q = select(cases.c.id)  # ids first (on the narrow index), then the rows of one page
        if status is not None:
            q = q.where(c(cases.c.status).in_([status] if isinstance(status, str) else list(status)))
        for col, v in ((cases.c.queue, queue), (cases.c.product, product), (cases.c.assignee, assignee),
                       (cases.c.customer_id, customer_id), (cases.c.kind, kind)):
            if v is not None:
                q = q.where(c(col) == v)
        q = q.order_by(*first, cases.c.priority.desc(), cases.c.amount_fen.desc(), cases.c.created_at, cases.c.id)
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(q.limit(limit).offset(offset)).all()]
            rows = {r["id"]: r for r in conn.execute(select(cases).where(cases.c.id.in_(ids))).mappings().all()} \
                if ids else {}
        return [_case(rows[i]) for i in ids if i in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """Number of cases per (queue, status)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(cases.c.queue, cases.c.status, func.count())
                                .group_by(cases.c.queue, cases.c.status)).all()
        return {(q, s): int(n) for q, s, n in rows}

    # ------------------------------------------------------------ working

    def take_next(self, reviewer: str, queues: Sequence[str] | None = None, product: str | None = None,
                  at: dt.datetime | None = None) -> Case | None:
        """Lock the most urgent unassigned, unsnoozed open case to ``reviewer``; None when the inbox is empty."""
        now = _iso(at or _now())
        for _attempt in range(20):
            with self.engine.begin() as conn:
                q = select(cases.c.id).where(cases.c.status == "open", cases.c.assignee.is_(None),
                                             (cases.c.snoozed_until.is_(None)) | (cases.c.snoozed_until <= now))
                if queues:
                    q = q.where(cases.c.queue.in_(list(queues)))
                if product:
                    q = q.where(cases.c.product == product)
                q = q.order_by(cases.c.priority.desc(), cases.c.amount_fen.desc(), cases.c.created_at,
                               cases.c.id).limit(1)
                if self.dialect == "postgresql":
                    q = q.with_for_update(skip_locked=True)
                cid = conn.execute(q).scalar()
                if cid is None:
                    return None
                res = conn.execute(update(cases).where(cases.c.id == cid, cases.c.assignee.is_(None),
                                                       cases.c.status == "open")
                                   .values(assignee=reviewer, status="assigned", updated_at=now))
                if res.rowcount == 1:
                    self._event(conn, int(cid), reviewer, "taken", None, {}, at)
                    break
        else:  # pragma: no cover - only under extreme contention
            return None
        return self.get(int(cid))

    def assign(self, case_id: int, assignee: str, actor: str, note: str | None = None) -> Case:
        """Assign (or reassign) an open case to someone."""
        return self._change(case_id, actor, "assigned", note, {"assignee": assignee},
                            allowed=("open", "assigned"), values={"assignee": assignee, "status": "assigned"})

    def release(self, case_id: int, actor: str, note: str | None = None) -> Case:
        """Put an assigned case back in the inbox."""
        return self._change(case_id, actor, "released", note, {}, allowed=("assigned",),
                            values={"assignee": None, "status": "open"})

    def escalate(self, case_id: int, actor: str, note: str, priority_bump: int = 100) -> Case:
        """Escalate: raise the priority and flag the case; it goes back to the inbox for a supervisor."""
        c = self._require(case_id)
        return self._change(case_id, actor, "escalated", note, {"priority": c.priority + priority_bump},
                            allowed=("open", "assigned"),
                            values={"escalated": 1, "priority": c.priority + priority_bump, "assignee": None,
                                    "status": "open"}, need_note=True)

    def snooze(self, case_id: int, actor: str, until: dt.datetime, note: str | None = None) -> Case:
        """Hide an open case from "take next" until ``until``."""
        return self._change(case_id, actor, "snoozed", note, {"until": _iso(until)}, allowed=("open", "assigned"),
                            values={"snoozed_until": _iso(until), "assignee": None, "status": "open"})

    def decide(self, case_id: int, actor: str, decision: str, note: str,
               needs_approval: bool = False) -> Case:
        """Record the reviewer's decision (a note is mandatory).

        With ``needs_approval`` (four-eyes) the case waits in ``pending_approval`` for :meth:`approve` by
        someone else; otherwise it is closed.
        """
        if decision not in DECISIONS:
            raise CaseError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        c = self._require(case_id)
        if c.status == "assigned" and c.assignee != actor:
            raise CaseError(f"case {case_id} is assigned to {c.assignee}, not {actor}")
        vals: dict[str, Any] = {"decision": decision, "decided_by": actor, "decision_note": note}
        if needs_approval:
            vals["status"] = "pending_approval"
        else:
            vals.update(status="closed", closed_at=_iso(_now()))
        return self._change(case_id, actor, "decided", note, {"decision": decision, "four_eyes": needs_approval},
                            allowed=("open", "assigned"), values=vals, need_note=True)

    def approve(self, case_id: int, actor: str, note: str, approve: bool = True) -> Case:
        """Second pair of eyes: approve (close) or send back a pending decision; not by the one who decided."""
        c = self._require(case_id)
        if c.status != "pending_approval":
            raise CaseError(f"case {case_id} is {c.status}, not waiting for approval")
        if c.decided_by == actor:
            raise CaseError(f"case {case_id}: the decision of {actor} needs a second person to approve it")
        vals: dict[str, Any] = ({"status": "closed", "closed_at": _iso(_now())} if approve else
                                {"status": "assigned", "decision": None, "decided_by": None, "decision_note": None,
                                 "assignee": c.decided_by})
        return self._change(case_id, actor, "approved" if approve else "sent_back", note,
                            {"decision": c.decision}, allowed=("pending_approval",), values=vals, need_note=True)

    def comment(self, case_id: int, actor: str, note: str, data: Mapping[str, Any] | None = None) -> None:
        """Add a note (or a pack's follow-up, e.g. the action taken on a loan) to the case's timeline."""
        self._require(case_id)
        with self.engine.begin() as conn:
            self._event(conn, case_id, actor, "comment", note, dict(data or {}))
            conn.execute(update(cases).where(cases.c.id == case_id).values(updated_at=_iso(_now())))

    def reopen(self, case_id: int, actor: str, note: str) -> Case:
        return self._change(case_id, actor, "reopened", note, {}, allowed=("closed",),
                            values={"status": "open", "assignee": None, "closed_at": None}, need_note=True)

    # ------------------------------------------------------------ internals

    def _require(self, case_id: int) -> Case:
        c = self.get(case_id, history=False)
        if c is None:
            raise CaseError(f"no case {case_id}")
        return c

    def _change(self, case_id: int, actor: str, action: str, note: str | None, data: dict[str, Any], *,
                allowed: Sequence[str], values: dict[str, Any], need_note: bool = False) -> Case:
        if need_note and not (note and note.strip()):
            raise CaseError(f"{action} needs a note")
        now = _now()
        with self.engine.begin() as conn:
            res = conn.execute(update(cases).where(cases.c.id == case_id, cases.c.status.in_(list(allowed)))
                               .values(**values, updated_at=_iso(now)))
            if res.rowcount != 1:
                st = conn.execute(select(cases.c.status).where(cases.c.id == case_id)).scalar()
                if st is None:
                    raise CaseError(f"no case {case_id}")
                raise CaseError(f"case {case_id} is {st}; cannot be {action}")
            self._event(conn, case_id, actor, action, note, data, now)
        return self.get(case_id)  # type: ignore[return-value]

    @staticmethod
    def _event(conn: Any, case_id: int, actor: str, action: str, note: str | None, data: dict[str, Any],
               at: dt.datetime | None = None) -> None:
        conn.execute(case_events.insert().values(case_id=case_id, at=_iso(at or _now()), actor=actor,
                                                 action=action, note=note,
                                                 data=json.dumps(data, ensure_ascii=False, default=str)))
