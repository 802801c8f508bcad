"""Online complaint state: the text index, shared representatives and issuers, collection timing, groups.

:class:`ComplaintState` folds complaint, repayment and collection-contact events in time order and reads, for
a complaint, the DOMAIN.md §4.5 signals against everything strictly before it (last ``window_days``):
near-duplicate texts and shared representatives / document issuers *across other customers*, identical
demand sets among the linked complaints, days since the loan entered collections and since its last
collection contact, the burst of linked complaints in 7 days, and the group (union of text- and
representative-linked complaints) the complaint joins.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from fengkong.complaints.similarity import TextIndex, minhash, shingles

DAY_US = 86_400_000_000
#: Demands agents put in every template (DOMAIN.md §4.5: stop collection, waive interest, long installments,
#: delete the credit record).
AGENT_DEMANDS = frozenset({"stop_collection", "interest_waiver", "installment_60", "installment_36", "credit_repair"})

#: Event types the state folds, and the fields it reads (all it logs).
FOLDED = frozenset({"complaint", "repayment", "collection_contact"})
FIELDS = ("customer_id", "loan_id", "text", "rep_phone_token", "rep_name_token", "doc_issuer_id", "demands", "dpd",
          "paid_fen")
FEATURE_KINDS: dict[str, str] = {
    "cp_text_dup_customers": "int", "cp_rep_customers": "int", "cp_issuer_customers": "int",
    "cp_agent_demands": "int", "cp_same_demands_customers": "int", "cp_days_since_collections": "float",
    "cp_days_since_contact": "float", "cp_burst_7d": "int", "cp_group": "str", "cp_group_customers": "int",
}


def _us(ts: Any) -> int:
    if isinstance(ts, dt.datetime):
        return int(ts.timestamp() * 1_000_000)
    return int(ts)


def demand_key(demands: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(sorted(set(demands or ())))


class _Shared:
    """Who used a key (representative phone, name, issuer) within the window: deque of (ts_us, customer, doc)."""

    def __init__(self, window_us: int) -> None:
        self.window_us = window_us
        self.by: dict[str, deque[tuple[int, str | None, int]]] = {}

    def get(self, key: str | None, now_us: int) -> list[tuple[int, str | None, int]]:
        if not key:
            return []
        q = self.by.get(key)
        if not q:
            return []
        while q and q[0][0] <= now_us - self.window_us:
            q.popleft()
        return list(q)

    def add(self, key: str | None, ts_us: int, customer: str | None, doc: int) -> None:
        if key:
            self.by.setdefault(key, deque()).append((ts_us, customer, doc))


class ComplaintState:
    """See the module docstring. ``read_update(event)`` for every event; complaint events get features."""

    def __init__(self, window_days: float = 90.0, log: Any = None) -> None:
        """``log``: a :class:`fengkong.features.eventlog.EventLog` shared with other processes (or None)."""
        self.log = log
        self.window_us = int(window_days * DAY_US)
        self.text = TextIndex(window_days)
        self.reps = _Shared(self.window_us)
        self.names = _Shared(self.window_us)
        self.issuers = _Shared(self.window_us)
        self.collections_since: dict[str, int] = {}  # loan → first DPD ≥ 1 while unpaid
        self.last_contact: dict[str, int] = {}
        self.parent: dict[int, int] = {}
        self.label: dict[int, str] = {}  # root → group id (the event id of its first complaint)
        self.members: dict[int, set[str]] = {}  # root → distinct customers
        self.meta: dict[int, tuple[int, str | None, tuple[str, ...]]] = {}  # doc → ts, customer, demands
        self._pending: tuple[str, Any] | None = None

    # ------------------------------------------------------------ groups
    def _find(self, k: int) -> int:
        p = self.parent.setdefault(k, k)
        while p != self.parent[p]:
            self.parent[p] = self.parent[self.parent[p]]
            p = self.parent[p]
        self.parent[k] = p
        return p

    def _union(self, a: int, b: int) -> int:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return ra
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra  # the earliest complaint stays the root (and names the group)
        a, b = self.members.get(ra, set()), self.members.pop(rb, set())
        if len(a) < len(b):
            a, b = b, a
        a |= b  # the smaller set into the larger, in place
        self.members[ra] = a
        self.label.pop(rb, None)
        return ra

    def _group_customers(self, roots: set[int], customer: str | None) -> int:
        """Distinct customers of the union of ``roots`` plus ``customer`` (iterates the smaller groups only)."""
        sets = sorted((self.members.get(r, set()) for r in roots), key=len, reverse=True)
        base = sets[0]
        extra = {c for s in sets[1:] for c in s if c not in base}
        if customer and customer not in base:
            extra.add(customer)
        return len(base) + len(extra)

    # ------------------------------------------------------------ complaint signals
    def _links(self, ev: Mapping[str, Any]) -> dict[str, Any]:
        now = _us(ev["ts"])
        cust = ev.get("customer_id")
        sh = shingles(ev.get("text"))
        m = minhash(sh) if len(sh) >= self.text.min_shared else None
        text_docs = self.text.query(sh, m, now) if m is not None else []
        rep_docs = [d for t, c, d in self.reps.get(ev.get("rep_phone_token"), now) + self.names.get(
            ev.get("rep_name_token"), now) if c != cust]
        iss = [(c, d) for t, c, d in self.issuers.get(ev.get("doc_issuer_id"), now) if c != cust]
        return {"now": now, "sh": sh, "m": m, "text": [d for d in text_docs if self.meta[d][1] != cust],
                "rep": rep_docs, "issuer": iss}

    def _features(self, ev: Mapping[str, Any], ln: Mapping[str, Any]) -> dict[str, Any]:
        now = ln["now"]
        linked = set(ln["text"]) | set(ln["rep"])
        dk = demand_key(ev.get("demands"))
        loan = ev.get("loan_id")
        since = self.collections_since.get(loan) if loan else None
        contact = self.last_contact.get(loan) if loan else None
        roots = {self._find(d) for d in linked}
        group = self.label.get(min(roots)) if roots else None
        return {
            "cp_text_dup_customers": len({self.meta[d][1] for d in ln["text"]}),
            "cp_rep_customers": len({self.meta[d][1] for d in ln["rep"]}),
            "cp_issuer_customers": len({c for c, _ in ln["issuer"]}),
            "cp_agent_demands": len(AGENT_DEMANDS & set(dk)),
            "cp_same_demands_customers": len({self.meta[d][1] for d in linked if dk and self.meta[d][2] == dk}),
            "cp_days_since_collections": (now - since) / DAY_US if since is not None and since <= now else None,
            "cp_days_since_contact": (now - contact) / DAY_US if contact is not None and contact <= now else None,
            "cp_burst_7d": len({self.meta[d][1] for d in linked if self.meta[d][0] > now - 7 * DAY_US}),
            "cp_group": group if group is not None else ev.get("event_id"),
            "cp_group_customers": self._group_customers(roots, ev.get("customer_id")) if roots else 1,
        }

    def _fold_complaint(self, ev: Mapping[str, Any], ln: Mapping[str, Any]) -> None:
        now, cust = ln["now"], ev.get("customer_id")
        k = self.text.add(ln["sh"], now, cust, ln["m"])
        self.meta[k] = (now, cust, demand_key(ev.get("demands")))
        self.parent[k] = k
        self.label[k] = ev.get("event_id") or f"CP{k}"
        self.members[k] = {cust} if cust else set()
        for d in set(ln["text"]) | set(ln["rep"]):
            if d in self.meta:
                self._union(k, d)
        self.reps.add(ev.get("rep_phone_token"), now, cust, k)
        self.names.add(ev.get("rep_name_token"), now, cust, k)
        self.issuers.add(ev.get("doc_issuer_id"), now, cust, k)
        self.text.expire(now)

    # ------------------------------------------------------------ provider protocol
    def _catch_up(self) -> None:
        if self.log is not None:
            for ev in self.log.pending():
                self._apply(ev)

    def read(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if event.get("event_type") != "complaint":
            return {}
        self._catch_up()
        ln = self._links(event)
        self._pending = (event.get("event_id"), ln)
        return self._features(event, ln)

    def update(self, event: Mapping[str, Any]) -> None:
        if event.get("event_type") not in FOLDED:
            return
        if self.log is not None:
            if self._pending is None or self._pending[0] != event.get("event_id"):
                self._catch_up()
            if not self.log.append(event):
                self._pending = None
                return  # folded before (this process or another): a re-delivery
        self._apply(event)

    def _apply(self, event: Mapping[str, Any]) -> None:
        et = event.get("event_type")
        if et == "complaint":
            p = self._pending
            ln = p[1] if p is not None and p[0] == event.get("event_id") else self._links(event)
            self._pending = None
            self._fold_complaint(event, ln)
        elif et == "repayment" and event.get("loan_id"):
            dpd = event.get("dpd") or 0
            loan = event["loan_id"]
            if dpd >= 1 and not (event.get("paid_fen") or 0):
                self.collections_since.setdefault(loan, _us(event["ts"]))
            elif dpd == 0 or (event.get("paid_fen") or 0) > 0:
                self.collections_since.pop(loan, None)
        elif et == "collection_contact" and event.get("loan_id"):
            self.last_contact[event["loan_id"]] = _us(event["ts"])

    def read_update(self, event: Mapping[str, Any]) -> dict[str, Any]:
        out = self.read(event)
        self.update(event)
        return out

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
