"""Case manager pages: inboxes by queue/product/priority, take next, the case page and its actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengkong import casework
from fengkong.console.evidence import case_evidence
from fengkong.store import CaseError
from fengkong.store.cases import DECISIONS, QUEUES, STATUSES

ROLES = ("reviewer", "supervisor")
PAGE = 50
ORDERS = ("priority", "amount", "score", "due")
DECIDE = ("approve", "decline", "request_documents", "confirm_fraud", "false_positive")


def add_routes(router: APIRouter, cx: Any) -> None:
    store = cx.store

    @router.get("/cases")
    def inbox(request: Request, queue: str = "", product: str = "", status: str = "active", mine: int = 0,
              page: int = 1, order: str = "priority", msg: str = "") -> Response:
        s = cx.require(request, *ROLES)
        page = max(1, page)
        st: Any = ("open", "assigned", "pending_approval") if status == "active" else (status or None)
        if st is not None and st not in STATUSES and not isinstance(st, tuple):
            st = ("open", "assigned", "pending_approval")
        order = order if order in ORDERS else "priority"
        rows = store.cases.list(status=st, queue=queue or None, product=product or None,
                                assignee=s.username if mine else None, limit=PAGE + 1, offset=(page - 1) * PAGE,
                                order=order)
        counts = store.cases.counts()
        per_queue: dict[str, int] = {}
        for (q, stt), n in counts.items():
            if stt != "closed":
                per_queue[q] = per_queue.get(q, 0) + n
        now = dt.datetime.now(dt.UTC)
        return cx.page(request, "inbox.html", cases=rows[:PAGE], more=len(rows) > PAGE, page=page,
                       queue=queue, product=product, status=status, mine=mine, msg=msg, order=order, orders=ORDERS,
                       queues=sorted(set(QUEUES) | set(per_queue)), per_queue=per_queue,
                       statuses=("active", *STATUSES), breached={c.id: c.breached(now) for c in rows},
                       products=_products(store))

    @router.post("/cases/next")
    async def take(request: Request) -> Response:
        s = cx.require(request, *ROLES)
        f = await cx.form(request, s)
        queue = f.get("queue") or None
        c = casework.take_next(store, s.username, queues=[queue] if queue else None,
                               product=f.get("product") or None)
        if c is None:
            return cx.redirect(request, "/console/cases", "No case is waiting.")
        return cx.redirect(request, f"/console/cases/{c.id}")

    @router.get("/cases/{case_id}")
    def case_page(request: Request, case_id: int, msg: str = "") -> Response:
        s = cx.require(request, *ROLES)
        c = store.cases.get(case_id)
        if c is None:
            return cx.page(request, "message.html", code=404, message="Not found.")
        users = [u.username for u in store.users.all() if u.active and (u.roles & set(ROLES) or "admin" in u.roles)]
        return cx.page(request, "case.html", case=c, ev=case_evidence(store, c, cx.events()), msg=msg,
                       breached=c.breached(), decisions=DECIDE, users=users,
                       four_eyes=casework.needs_four_eyes(c, cx.policy), policy=cx.policy,
                       fraud_lists=cx.policy.fraud_lists, can_approve=c.status == "pending_approval"
                       and c.decided_by != s.username)

    @router.post("/cases/{case_id}/action")
    async def action(request: Request, case_id: int) -> Response:
        s = cx.require(request, *ROLES)
        f = await cx.form(request, s)
        what = f.get("action", "")
        note = (f.get("note") or "").strip()
        back = f"/console/cases/{case_id}"
        try:
            if what == "decide":
                decision = f.get("decision", "")
                if decision not in DECISIONS:
                    raise CaseError(f"choose a decision ({', '.join(DECIDE)})")
                lists = f.get("lists", [])
                lists = [lists] if isinstance(lists, str) else list(lists)
                days = int(f.get("expiry_days") or cx.policy.list_expiry_days)
                c = casework.decide(store, case_id, s.username, decision, note, lists=lists, expiry_days=days,
                                    whitelist=bool(f.get("whitelist")), policy=cx.policy)
                msg = ("This decision needs a second person (four-eyes)." if c.status == "pending_approval"
                       else f"{decision}")
                return cx.redirect(request, back, msg)
            if what in ("approve", "send_back"):
                if "supervisor" not in s.roles and "reviewer" not in s.roles and "admin" not in s.roles:
                    raise CaseError("approving needs the supervisor or reviewer role")
                casework.approve(store, case_id, s.username, note, approve=what == "approve", policy=cx.policy)
            elif what == "assign":
                casework.assign(store, case_id, f.get("assignee", ""), s.username, note or None)
            elif what == "release":
                casework.release(store, case_id, s.username, note or None)
            elif what == "escalate":
                casework.escalate(store, case_id, s.username, note)
            elif what == "snooze":
                casework.snooze(store, case_id, s.username, float(f.get("hours") or 0), note or None)
                return cx.redirect(request, "/console/cases", f"case {case_id} snoozed")
            elif what == "comment":
                casework.comment(store, case_id, s.username, note)
            else:
                raise CaseError(f"unknown action {what!r}")
        except (CaseError, ValueError) as exc:
            return cx.redirect(request, back, str(exc))
        return cx.redirect(request, back, what)


def _products(store: Any) -> list[str]:
    from sqlalchemy import select

    from fengkong.store.schema import cases

    with store.engine.connect() as conn:
        return sorted(p for (p,) in conn.execute(select(cases.c.product).distinct()).all() if p)
