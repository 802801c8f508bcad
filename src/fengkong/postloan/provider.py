"""The post-loan feature provider (``Pack.features`` of ``fengkong/postloan/pack.py``): online tracing state.

``open_online(ctx)`` gives a :class:`PostloanFeatures` that folds disbursements and transfers into pots of
loan money, one per loan and account (the rule of :mod:`fengkong.postloan.tracing`, whose :func:`~fengkong.postloan.tracing.trace`
is the offline twin, ``backfill``) and returns the ``pl_*`` features of each transfer, and of each disbursement
the entrusted-payee checks of :mod:`fengkong.postloan.payee`. With a SQLite state
path the folded events are logged beside it (``<state>.postloan.sqlite``) and replayed at open, so
``fengkong decide`` in separate processes sees one history.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fengkong.postloan import payee, pots
from fengkong.postloan.config import DAY_US, DEFAULT, TraceConfig
from fengkong.postloan.taxonomy import Taxonomy, load_taxonomy
from fengkong.postloan.tracing import FEATURE_KINDS as _KINDS

#: Feature name → kind (``fengkong.features.providers``).
FEATURE_KINDS: dict[str, str] = {**_KINDS, **payee.FEATURE_KINDS}
#: The reference transfer strategy (what ``fengkong decide`` runs for transfer events once deployed).
STRATEGY = Path(__file__).parents[1] / "strategies" / "transfer.yaml"

_LOG_FIELDS = ("event_id", "event_type", "ts", "customer_id", "loan_id", "amount_fen", "payment_mode", "card_token",
               "direction", "counterparty_id", "counterparty_type", "counterparty_category", "counterparty_name",
               "counterparty_account_type")


@dataclass
class _Loan:
    disb_us: int
    principal: int
    self_payment: bool
    order: int
    pro: int = 0
    out: int = 0
    debt: int = 0


@dataclass
class _Pot:
    loan_id: str
    hop: int
    credit: int
    used: int
    src: str


def _us(ts: Any) -> int:
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts)
    if ts.tzinfo is None:
        raise ValueError("transfer/disbursement ts must be timezone-aware")
    return (ts - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


#: the event types the tracer folds in and computes features for
_TRACED = frozenset(("disbursement", "transfer"))


def _empty(threshold: int) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(FEATURE_KINDS)
    out["pl_traced"] = False
    out["pl_prohibited"] = False
    out["pl_entrusted_threshold_fen"] = threshold
    return out


class PostloanFeatures:
    """Online tracing state: ``read(event)`` / ``update(event)`` / ``read_update(event)``.

    Events must come in (ts, event_id) order, as the engine and ``engine.replay`` deliver them; an event id
    already folded in is not folded again.
    """

    def __init__(self, taxonomy: Taxonomy | None = None, config: TraceConfig = DEFAULT,
                 log: EventLog | None = None) -> None:
        self.tax = taxonomy or load_taxonomy()
        self.cfg = config
        self.prohibited = frozenset(self.tax.prohibited)
        self.loans: dict[str, _Loan] = {}
        #: account → its pots, one per loan whose money it received, oldest loan first
        self.pots: dict[str, list[_Pot]] = {}
        self.payees: dict[tuple[str, str], deque[tuple[int, int]]] = {}
        self.seen: set[str] = set()
        self.log = log
        if log is not None:
            log.catch_up(self)

    # ------------------------------------------------------------ one event

    def _step(self, ev: Mapping[str, Any], commit: bool) -> dict[str, Any]:
        et = ev.get("event_type")
        if et == "disbursement":
            if commit:
                self._disburse(ev)
            return payee.check(ev)
        if et != "transfer":
            return {}
        cfg = self.cfg
        out = _empty(cfg.entrusted_threshold_fen)
        cls = self.tax.classify(ev.get("counterparty_type"), ev.get("counterparty_category"),
                                ev.get("counterparty_name"), ev.get("counterparty_account_type"))
        out["pl_class"] = cls
        out["pl_prohibited"] = cls in self.prohibited
        if ev.get("direction") != "out":
            return out
        t = _us(ev["ts"])
        amount = int(ev["amount_fen"])
        key = (ev.get("customer_id"), ev.get("counterparty_name") or ev.get("counterparty_id"))
        q = self.payees.get(key)
        lo = t - cfg.split_days * DAY_US
        kept = [x for x in q if x[0] > lo] if q else []
        out["pl_same_payee_7d_cnt"] = len(kept) + 1
        out["pl_same_payee_7d_fen"] = sum(a for _, a in kept) + amount
        if commit:
            if q is None:
                q = self.payees[key] = deque()
            while q and q[0][0] <= lo:
                q.popleft()
            q.append((t, amount))
        card = ev.get("card_token")
        live = [(p, self.loans[p.loan_id]) for p in self.pots.get(card, ())
                if t - self.loans[p.loan_id].disb_us <= cfg.horizon_days * DAY_US] if card else []
        if not live:
            return out
        parts = pots.draw([p.credit - p.used for p, _ in live], amount, cfg.pot_order)
        i = pots.primary(parts)
        pot, loan = live[i if i >= 0 else -1]
        att = parts[i] if i >= 0 else 0
        acc = {}
        for (p, ln), x in zip(live, parts, strict=True):
            if x > 0 or p is pot:
                acc[p.loan_id] = self._windows(ln, t, x, cls, out["pl_prohibited"])
        since = t - loan.disb_us
        pro, through, debt = acc[pot.loan_id]
        w_pro, w_out, w_debt = self._inside(since)
        p = loan.principal
        out.update(pl_traced=True, pl_loan_id=pot.loan_id, pl_hop=pot.hop, pl_days_since_disb=since / DAY_US,
                   pl_secs_since_disb=since // 1_000_000, pl_attributed_fen=att, pl_principal_fen=p,
                   pl_self_payment=loan.self_payment, pl_source_event=pot.src,
                   pl_prohibited_30d_fen=pro if w_pro else None, pl_out_24h_fen=through if w_out else None,
                   pl_debt_7d_fen=debt if w_debt else None,
                   pl_prohibited_30d_share=pro / p if w_pro else None, pl_out_24h_share=through / p if w_out else None,
                   pl_debt_7d_share=debt / p if w_debt else None)
        if commit:
            cp = ev.get("counterparty_id")
            follow = cp and ev.get("counterparty_type") in cfg.followed_types
            for (p, ln), x in zip(live, parts, strict=True):
                p.used += x
                if p.loan_id in acc:
                    ln.pro, ln.out, ln.debt = acc[p.loan_id]
                if x > 0 and follow and p.hop < cfg.max_hops:
                    self._credit(cp, p.loan_id, p.hop + 1, x, ev["event_id"])
        return out

    def _inside(self, since: int) -> tuple[bool, bool, bool]:
        cfg = self.cfg
        return (since <= cfg.cumulative_days * DAY_US, since <= cfg.in_out_hours * DAY_US // 24,
                since <= cfg.debt_days * DAY_US)

    def _windows(self, loan: _Loan, t: int, x: int, cls: str, prohibited: bool) -> tuple[int, int, int]:
        """The loan's prohibited / passing-through / to-lender loan money with ``x`` more of it in this outflow."""
        w_pro, w_out, w_debt = self._inside(t - loan.disb_us)
        return (loan.pro + (x if prohibited and w_pro else 0),
                loan.out + (x if cls not in self.cfg.in_out_exempt and w_out else 0),
                loan.debt + (x if cls == "DEBT_REPAYMENT" and w_debt else 0))

    def _credit(self, account: str, loan_id: str, hop: int, amount: int, src: str) -> None:
        held = self.pots.setdefault(account, [])
        for p in held:
            if p.loan_id == loan_id:
                p.credit += amount
                p.src = src
                return
        held.append(_Pot(loan_id, hop, amount, 0, src))
        held.sort(key=lambda p: self.loans[p.loan_id].order)

    def _disburse(self, ev: Mapping[str, Any]) -> None:
        lid = ev.get("loan_id")
        if not lid or lid in self.loans:
            return
        self_pay = ev.get("payment_mode") == "self"
        self.loans[lid] = _Loan(_us(ev["ts"]), int(ev["amount_fen"]), self_pay, len(self.loans))
        card = ev.get("card_token")
        if self_pay and card:
            self._credit(card, lid, 1, int(ev["amount_fen"]), ev["event_id"])

    # ------------------------------------------------------------ provider protocol

    def read(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if event.get("event_type") not in _TRACED:  # no post-loan features: the log is not even read
            return {}
        if self.log is not None:
            self.log.catch_up(self)
        return self._step(event, commit=False)

    def update(self, event: Mapping[str, Any]) -> None:
        eid = event.get("event_id")
        if eid in self.seen or event.get("event_type") not in _TRACED:
            return
        if self.log is not None:
            self.log.append(event)
        self._fold(event)

    def _fold(self, event: Mapping[str, Any]) -> None:
        eid = event.get("event_id")
        if eid in self.seen:
            return
        self.seen.add(eid)
        self._step(event, commit=True)

    def read_update(self, event: Mapping[str, Any]) -> dict[str, Any]:
        out = self.read(event)
        self.update(event)
        return out

    def pots_of(self, account: str) -> list[dict[str, Any]]:
        """The pots of loan money an account holds, oldest loan first (loan, hop, credited, used)."""
        return [{"loan_id": p.loan_id, "hop": p.hop, "credit_fen": p.credit, "used_fen": p.used,
                 "source_event": p.src} for p in self.pots.get(account, ())]

    def close(self) -> None:
        if self.log is not None:
            self.log.close()


class EventLog:
    """The disbursements and transfers folded in, in a SQLite file (idempotent by event id), replayed at open
    and caught up before each read, so several processes sharing the file see one history."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # one thread at a time (the engine thread, or the event loop in inline mode); sqlite3 is serialized
        self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS postloan_event (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "event_id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL)")
        self.last_seq = 0

    def catch_up(self, feats: PostloanFeatures) -> int:
        rows = self._db.execute("SELECT seq, payload FROM postloan_event WHERE seq > ? ORDER BY seq",
                                (self.last_seq,)).fetchall()
        for seq, payload in rows:
            feats._fold(json.loads(payload))
            self.last_seq = seq
        return len(rows)

    def append(self, event: Mapping[str, Any]) -> None:
        ts = event.get("ts")
        payload = {k: event.get(k) for k in _LOG_FIELDS if event.get(k) is not None}
        payload["ts"] = ts.isoformat() if isinstance(ts, dt.datetime) else ts
        cur = self._db.execute("INSERT OR IGNORE INTO postloan_event (event_id, payload) VALUES (?, ?)",
                               (event["event_id"], json.dumps(payload, ensure_ascii=False, default=str)))
        if cur.rowcount == 1 and cur.lastrowid == self.last_seq + 1:
            self.last_seq = cur.lastrowid  # nobody else appended since: the caller folds it in itself

    def close(self) -> None:
        self._db.close()


def log_path(state: str) -> Path | None:
    """Where the post-loan event log of feature state ``state`` lives (beside a SQLite file), else None."""
    if state == "memory" or "://" in state:
        return None
    p = Path(state)
    return p.with_name(p.name + ".postloan.sqlite")


def open_online(ctx: Any) -> PostloanFeatures:
    """The online provider for ``ctx`` (a ``ProviderContext``)."""
    path = log_path(ctx.state)
    return PostloanFeatures(log=EventLog(path) if path is not None else None)


def backfill(events: Any, ctx: Any) -> Any:
    """``event_id`` + every ``pl_*`` feature of every transfer, point-in-time, and the payee checks of every
    disbursement (the offline twin)."""
    import polars as pl

    from fengkong.postloan.tracing import feature_frame

    return pl.concat([feature_frame(events), payee.check_frame(events)], how="diagonal_relaxed")
