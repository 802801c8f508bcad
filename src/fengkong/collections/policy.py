"""The collection contact policy: dated limits with their sources, and the per-debtor state that checks them.

:class:`ContactState` folds collection contacts, complaints and repayments; :meth:`ContactState.breaches`
lists the reason codes a contact attempt would break *before* it happens (quiet hours, daily and weekly
caps, minimum gap, per-number cap, third-party rules, unregistered caller numbers, unlisted agencies, and
the stops: frozen loan / "not me", complaint under review, negotiated plan). In ``enforce`` mode only
allowed attempts are counted (a refused attempt never happens); in ``audit`` mode (a recorded contact log)
every contact counted. A voice attempt of unknown outcome counts as connected (the conservative side).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fengkong.errors import InputError
from fengkong.events import TZ

POLICY_FILE = Path(__file__).with_name("contact_policy.yaml")
VOICE = frozenset({"call", "ai_voice"})
TIMED = frozenset({"call", "ai_voice", "sms", "app_push", "visit"})  # letters are not contacts at an hour
UNANSWERED = frozenset({"no_answer", "invalid_number"})
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)

#: Reason codes of a refused contact attempt (the strategy rejects on each; docs/collections.md).
CODES = ("LOAN_FROZEN", "COMPLAINT_UNDER_REVIEW", "NEGOTIATED_PLAN", "QUIET_HOURS", "DEBTOR_DAILY_CAP",
         "DEBTOR_WEEKLY_CAP", "CONNECTED_DAILY_CAP", "CONNECTED_WEEKLY_CAP", "NUMBER_DAILY_CAP", "MIN_GAP",
         "SMS_DAILY_CAP", "THIRD_PARTY_NOT_ALLOWED", "THIRD_PARTY_NOT_LOST_CONTACT", "THIRD_PARTY_CAP",
         "THIRD_PARTY_OPTED_OUT", "UNREGISTERED_NUMBER", "AGENCY_NOT_LISTED", "VISIT_ALONE", "MISSING_FIELD")


class PolicyError(InputError, ValueError):
    """The policy file is malformed; the message names the version and the key."""


@dataclass(frozen=True)
class Limits:
    """One dated version of the limits (values only; sources in :attr:`sources`)."""

    effective_from: dt.date
    quiet_start_hour: int
    quiet_end_hour: int
    max_connected_voice_per_day: int
    max_attempts_per_number_per_day: int
    max_attempts_per_debtor_per_day: int
    max_connected_per_debtor_7d: int
    max_attempts_per_debtor_7d: int
    min_gap_between_calls_minutes: int
    max_sms_per_debtor_per_day: int
    third_party_allowed_relations: tuple[str, ...]
    third_party_max_per_day: int
    third_party_max_7d: int
    lost_contact_unanswered: int
    min_collectors_on_visit: int
    complaint_pause_days: int
    plan_pause_days: int
    sources: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # key → (tag, source)


def _limits(v: Mapping[str, Any], i: int) -> Limits:
    names = [f for f in Limits.__dataclass_fields__ if f not in ("effective_from", "sources")]
    vals: dict[str, Any] = {}
    src: dict[str, tuple[str, str]] = {}
    for n in names:
        item = v.get(n)
        if not isinstance(item, Mapping) or "value" not in item or item.get("tag") not in ("V", "R", "U", "P"):
            raise PolicyError(f"version {i + 1}: {n} needs value, tag (V/R/U/P) and source")
        val = item["value"]
        vals[n] = tuple(val) if isinstance(val, list) else int(val)
        src[n] = (item["tag"], str(item.get("source", "")))
    eff = v.get("effective_from")
    if not isinstance(eff, dt.date):
        raise PolicyError(f"version {i + 1}: effective_from must be a date")
    return Limits(effective_from=eff, sources=src, **vals)


@functools.cache
def load_policy(path: str | Path = POLICY_FILE) -> tuple[Limits, ...]:
    """The dated versions of the limits, oldest first."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    vs = doc.get("versions")
    if not isinstance(vs, list) or not vs:
        raise PolicyError(f"{path}: needs a non-empty 'versions' list")
    return tuple(sorted((_limits(v, i) for i, v in enumerate(vs)), key=lambda x: x.effective_from))


def limits_at(day: dt.date, versions: tuple[Limits, ...] | None = None) -> Limits:
    vs = versions or load_policy()
    cur = vs[0]
    for v in vs:
        if v.effective_from <= day:
            cur = v
    return cur


@dataclass
class Registry:
    """Registered caller numbers per collector and the published list of agencies (None = not enforced)."""

    numbers: dict[str, set[str]] = field(default_factory=dict)
    agencies: set[str] | None = None

    def register(self, collector_id: str, numbers: Iterable[str], agency_id: str | None = None) -> None:
        self.numbers.setdefault(collector_id, set()).update(numbers)
        if agency_id:
            self.agencies = (self.agencies or set()) | {agency_id}

    @classmethod
    def from_lists(cls, snapshot: Mapping[str, Iterable[str]]) -> Registry:
        """From store lists ``collector_number`` (values ``collector|token``) and ``collection_agency``."""
        r = cls()
        for v in snapshot.get("collector_number", ()):
            c, _, tok = v.partition("|")
            r.numbers.setdefault(c, set()).add(tok)
        if "collection_agency" in snapshot:
            r.agencies = set(snapshot["collection_agency"])
        return r


class _Debtor:
    __slots__ = ("attempts", "calls", "connected", "last_call", "numbers", "sms", "unanswered")

    def __init__(self) -> None:
        self.attempts: deque[dt.datetime] = deque()
        self.connected: deque[dt.datetime] = deque()
        self.sms: deque[dt.datetime] = deque()
        self.calls: deque[tuple[dt.datetime, str | None]] = deque()
        self.numbers: dict[str | None, deque[dt.datetime]] = {}
        self.last_call: dt.datetime | None = None
        self.unanswered: list[dt.datetime] = []  # consecutive unanswered voice attempts (reset on an answer)


def _trim(q: deque, since: dt.datetime) -> None:
    while q and (q[0][0] if isinstance(q[0], tuple) else q[0]) <= since:
        q.popleft()


def _day_start(ts: dt.datetime) -> dt.datetime:
    t = ts.astimezone(TZ)
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


class ContactState:
    """Per-debtor contact history and per-loan stops; :meth:`breaches` is the policy check."""

    def __init__(self, registry: Registry | None = None, mode: str = "enforce",
                 frozen: Iterable[str] = (), versions: tuple[Limits, ...] | None = None) -> None:
        if mode not in ("enforce", "audit"):
            raise ValueError("mode must be 'enforce' or 'audit'")
        self.mode = mode
        self.registry = registry
        self.versions = versions or load_policy()
        self.debtors: dict[str, _Debtor] = {}
        self.frozen: set[str] = set(frozen)
        self.review_until: dict[str, dt.datetime] = {}
        self.plan_until: dict[str, dt.datetime] = {}
        self.third: dict[str, deque[dt.datetime]] = {}
        self.opted_out: set[str] = set()
        self._pending: tuple[str | None, list[str]] | None = None

    # ------------------------------------------------------------ stops
    def freeze(self, loan_id: str) -> None:
        self.frozen.add(loan_id)

    def unfreeze(self, loan_id: str) -> None:
        self.frozen.discard(loan_id)

    def resolve_complaint(self, loan_id: str) -> None:
        self.review_until.pop(loan_id, None)

    # ------------------------------------------------------------ the check
    def breaches(self, ev: Mapping[str, Any]) -> list[str]:
        """Reason codes (in :data:`CODES` order) the contact attempt ``ev`` would break; [] = allowed."""
        out: list[str] = []
        ts, loan, cust, ch = ev.get("ts"), ev.get("loan_id"), ev.get("customer_id"), ev.get("channel")
        if not isinstance(ts, dt.datetime) or not loan or not cust or not ch or not ev.get("collector_id"):
            return ["MISSING_FIELD"]
        lim = limits_at(ts.astimezone(TZ).date(), self.versions)
        local = ts.astimezone(TZ)
        if loan in self.frozen:
            out.append("LOAN_FROZEN")
        if loan in self.review_until and ts < self.review_until[loan]:
            out.append("COMPLAINT_UNDER_REVIEW")
        if loan in self.plan_until and ts < self.plan_until[loan]:
            out.append("NEGOTIATED_PLAN")
        if ch in TIMED and (local.hour >= lim.quiet_start_hour or local.hour < lim.quiet_end_hour):
            out.append("QUIET_HOURS")
        third = ev.get("target") == "third_party"
        d = self.debtors.get(cust) or _Debtor()
        day0 = _day_start(ts)
        if not third and ch in TIMED:
            if sum(1 for t in d.attempts if t >= day0) >= lim.max_attempts_per_debtor_per_day:
                out.append("DEBTOR_DAILY_CAP")
            if sum(1 for t in d.attempts if t > ts - WEEK) >= lim.max_attempts_per_debtor_7d:
                out.append("DEBTOR_WEEKLY_CAP")
            if ch in VOICE:
                if sum(1 for t in d.connected if t >= day0) >= lim.max_connected_voice_per_day:
                    out.append("CONNECTED_DAILY_CAP")
                if sum(1 for t in d.connected if t > ts - WEEK) >= lim.max_connected_per_debtor_7d:
                    out.append("CONNECTED_WEEKLY_CAP")
                if sum(1 for t in d.numbers.get(ev.get("target_token"), ()) if t >= day0) \
                        >= lim.max_attempts_per_number_per_day:
                    out.append("NUMBER_DAILY_CAP")
                if d.last_call is not None and ts - d.last_call < dt.timedelta(
                        minutes=lim.min_gap_between_calls_minutes):
                    out.append("MIN_GAP")
            if ch == "sms" and sum(1 for t in d.sms if t >= day0) >= lim.max_sms_per_debtor_per_day:
                out.append("SMS_DAILY_CAP")
        if third:
            tgt = ev.get("target_token")
            if ev.get("target_relation") not in lim.third_party_allowed_relations:
                out.append("THIRD_PARTY_NOT_ALLOWED")
            lost = d.unanswered[-lim.lost_contact_unanswered:] if len(d.unanswered) >= lim.lost_contact_unanswered \
                else []
            if not lost or _day_start(lost[-1]) >= day0:
                out.append("THIRD_PARTY_NOT_LOST_CONTACT")
            q = self.third.get(tgt or "", deque())
            if not tgt or sum(1 for t in q if t >= day0) >= lim.third_party_max_per_day or sum(
                    1 for t in q if t > ts - WEEK) >= lim.third_party_max_7d:
                out.append("THIRD_PARTY_CAP")
            if tgt in self.opted_out:
                out.append("THIRD_PARTY_OPTED_OUT")
        if self.registry is not None and ch in ("call", "ai_voice", "sms"):
            caller = ev.get("caller_number_token")
            if not caller or caller not in self.registry.numbers.get(ev["collector_id"], ()):
                out.append("UNREGISTERED_NUMBER")
        agency = ev.get("agency_id")
        if agency and self.registry is not None and self.registry.agencies is not None \
                and agency not in self.registry.agencies:
            out.append("AGENCY_NOT_LISTED")
        if ch == "visit" and (ev.get("collectors_present") or 0) < lim.min_collectors_on_visit:
            out.append("VISIT_ALONE")
        return out

    # ------------------------------------------------------------ folding
    def _count(self, ev: Mapping[str, Any]) -> None:
        ts, cust, ch = ev["ts"], ev["customer_id"], ev["channel"]
        lim = limits_at(ts.astimezone(TZ).date(), self.versions)
        outcome = ev.get("outcome")
        if outcome == "plan_agreed":
            self.plan_until[ev["loan_id"]] = ts + dt.timedelta(days=lim.plan_pause_days)
        if ev.get("target") == "third_party":
            tgt = ev.get("target_token")
            if tgt:
                q = self.third.setdefault(tgt, deque())
                q.append(ts)
                _trim(q, ts - WEEK)
                if outcome == "opt_out":
                    self.opted_out.add(tgt)
            return
        if ch not in TIMED:
            return
        d = self.debtors.get(cust)
        if d is None:
            d = self.debtors[cust] = _Debtor()
        d.attempts.append(ts)
        _trim(d.attempts, ts - WEEK)
        if ch == "sms":
            d.sms.append(ts)
            _trim(d.sms, ts - DAY)
        if ch in VOICE:
            d.last_call = ts
            nq = d.numbers.setdefault(ev.get("target_token"), deque())
            nq.append(ts)
            _trim(nq, ts - DAY)
            if outcome in UNANSWERED:
                d.unanswered.append(ts)
                del d.unanswered[:-8]
            else:
                d.unanswered.clear()
                if outcome not in ("refused",):  # unknown outcome counts as connected
                    d.connected.append(ts)
                    _trim(d.connected, ts - WEEK)

    def read(self, ev: Mapping[str, Any]) -> list[str]:
        b = self.breaches(ev)
        self._pending = (ev.get("event_id"), b)
        return b

    def update(self, ev: Mapping[str, Any]) -> None:
        et = ev.get("event_type")
        if et == "collection_contact":
            p = self._pending
            b = p[1] if p is not None and p[0] == ev.get("event_id") else self.breaches(ev)
            self._pending = None
            if (self.mode == "audit" or not b) and "MISSING_FIELD" not in b:
                self._count(ev)
        elif et == "complaint" and ev.get("loan_id") and isinstance(ev.get("ts"), dt.datetime):
            if ev.get("claims_not_me") or "not_me" in (ev.get("demands") or ()):
                self.frozen.add(ev["loan_id"])  # the "not me" freeze: in force from this very event
            else:
                lim = limits_at(ev["ts"].astimezone(TZ).date(), self.versions)
                until = ev["ts"] + dt.timedelta(days=lim.complaint_pause_days)
                self.review_until[ev["loan_id"]] = max(until, self.review_until.get(ev["loan_id"], until))
