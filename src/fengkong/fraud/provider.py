"""The fraud pack's feature provider (entry point ``fengkong.feature_providers: fraud``).

Registered through :mod:`fengkong.features.providers`: ``FEATURE_KINDS`` (graph + signal features),
``open_online(ctx)`` (a :class:`FraudFeatures` whose association graph persists across processes when
``ctx.state`` is a SQLite path, see :class:`GraphLog`) and ``backfill(events, ctx)`` (the vectorised twin,
:func:`fengkong.fraud.signals.application_features`). ``FraudFeatures.read_update(event)`` returns, for an
application, every fraud feature the reference application strategy (``strategies/application.yaml``) uses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from fengkong import walcheckpoint
from fengkong.fraud.graph import AssociationGraph
from fengkong.fraud.links import DEFAULT_DPD, LINK_FIELDS
from fengkong.fraud.locks import IdentityLocks
from fengkong.fraud.signal_compile import GRAPH_KINDS, online_function, online_kinds

#: The reference application strategy that carries the fraud rules (what ``fengkong decide`` runs).
STRATEGY = Path(__file__).parents[1] / "strategies" / "application.yaml"

#: Kind of every signal the provider serves: the declared online signals and counts, and the identity lock.
SIGNAL_KINDS: dict[str, str] = {**online_kinds(), "identity_locked": "bool"}
#: Every feature name the fraud rules may use, with its kind (for the strategy type checker).
FRAUD_FEATURE_KINDS: dict[str, str] = {**GRAPH_KINDS, **SIGNAL_KINDS}


def row_signals(ev: Mapping[str, Any], graph: Mapping[str, Any]) -> dict[str, Any]:
    """The declared online signals of one application (``signal_defs.SIGNALS``, compiled by ``signal_compile``;
    the offline twin is ``signal_compile.offline_signals``)."""
    return online_function()(ev, graph)


class FraudFeatures:
    """Online provider: ``read(event)`` / ``update(event)`` / ``read_update(event)`` like the feature engine."""

    def __init__(self, locks: IdentityLocks | None = None, graph: AssociationGraph | None = None,
                 log: GraphLog | None = None, locked: Iterable[str] = ()) -> None:
        self.graph = graph or AssociationGraph()
        self.locks = locks
        self.log = log
        self.locked = frozenset(locked)
        self._flags: list[tuple[str, str]] = []  # applied to a rebuilt graph too
        self._signals = online_function()
        if locks is not None:
            for n in locks.risky_elements():
                self.flag(n, "risky")
        if log is not None:
            log.catch_up(self.graph)

    def flag(self, key: str, what: str) -> None:
        """Mark a graph element (``risky``, a confirmed-fraud list, …)."""
        self._flags.append((key, what))
        self.graph.flag(key, what)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit of the graph log: the events folded inside are logged in one transaction when the
        block ends; an error rolls the log back and the graph is rebuilt from what the log holds."""
        if self.log is None:
            yield
            return
        self.log.begin()
        try:
            yield
            self.log.commit()
        except BaseException:
            self.log.rollback()
            self._rebuild()
            raise

    def _rebuild(self) -> None:
        graph = AssociationGraph()
        for key, what in self._flags:
            graph.flag(key, what)
        self.graph = graph
        if self.log is not None:
            self.log.last_seq = 0
            self.log.catch_up(graph)

    def read(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if event["event_type"] != "application":
            return {}
        if self.log is not None:
            self.log.catch_up(self.graph)  # links another process appended since
        g = self.graph.read(event)
        out = {**g, **self._signals(event, g)}
        tok = event.get("id_token")
        out["identity_locked"] = bool(tok in self.locked or (self.locks is not None and self.locks.is_locked(tok)))
        return out

    def update(self, event: Mapping[str, Any]) -> bool:
        if self.log is not None:
            self.log.append(event)  # durable first: a crash leaves the event either logged or not
        return self.graph.update(event)

    def close(self) -> None:
        if self.log is not None:
            self.log.close()

    def read_update(self, event: Mapping[str, Any]) -> dict[str, Any]:
        out = self.read(event)
        self.update(event)
        return out


# ---------------------------------------------------------------- persistence

#: Event fields the association graph reads (everything else is dropped before logging).
GRAPH_FIELDS = frozenset({"event_id", "event_type", "customer_id", "ts", "dpd", "direction", "counterparty_type",
                          *(lf.field for lf in LINK_FIELDS)})

_GRAPH_ORDER = tuple(sorted(GRAPH_FIELDS))  # the fields a log row keeps, in one order

_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS graph_event (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
                                        payload TEXT NOT NULL);
"""


def _graph_relevant(event: Mapping[str, Any]) -> bool:
    et = event.get("event_type")
    if not event.get("customer_id"):
        return False
    if et == "application":
        return True
    if et == "repayment":
        dpd = event.get("dpd")
        return dpd is not None and dpd >= DEFAULT_DPD
    return bool(AssociationGraph._elements(event))


class GraphLog:
    """Append-only log of the events that changed the association graph, in a SQLite file.

    ``append`` is one ``INSERT OR IGNORE`` keyed by ``event_id`` (idempotent; a crash leaves the row
    either fully written or absent); ``catch_up`` replays rows this process has not applied yet, in
    ``seq`` order, so the union-find is rebuilt at open and several processes sharing the file converge.
    Only tokens and ids are stored (the event's identity fields are already tokens).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # one thread at a time (the engine thread, or the event loop in inline mode); sqlite3 is serialized
        self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit (a killed process loses nothing)
        self._db.executescript(_LOG_SCHEMA)
        walcheckpoint.start(self._db, str(self.path))  # WAL fsyncs off the decision path
        self.last_seq = 0

    def catch_up(self, graph: AssociationGraph) -> int:
        rows = self._db.execute("SELECT seq, payload FROM graph_event WHERE seq > ? ORDER BY seq",
                                (self.last_seq,)).fetchall()
        for seq, payload in rows:
            ev = orjson.loads(payload)
            ev["ts"] = dt.datetime.fromisoformat(ev["ts"]) if ev.get("ts") else None
            graph.update(ev)
            self.last_seq = seq
        return len(rows)

    def begin(self) -> None:
        """Start a group of appends (one transaction; see ``FraudFeatures.batch``)."""
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def append(self, event: Mapping[str, Any]) -> None:
        if not _graph_relevant(event):
            return
        payload = {k: v for k in _GRAPH_ORDER if (v := event.get(k)) is not None}
        ts = event.get("ts")
        payload["ts"] = ts.isoformat() if isinstance(ts, dt.datetime) else ts
        cur = self._db.execute("INSERT OR IGNORE INTO graph_event (event_id, payload) VALUES (?, ?)",
                               (event["event_id"], orjson.dumps(payload, default=str).decode()))
        if cur.rowcount == 1 and cur.lastrowid == self.last_seq + 1:
            # nobody else appended since our last catch-up: the caller applies this event itself,
            # so catch_up need not read it back
            self.last_seq = cur.lastrowid

    def close(self) -> None:
        if self._db is not None:  # once: the checkpoint thread counts its users
            walcheckpoint.release(str(self.path))
            self._db.close()
            self._db = None  # type: ignore[assignment]


def graph_log_path(state: str) -> Path | None:
    """Where the graph log of feature state ``state`` lives: beside a SQLite state file, else None
    (``memory`` and ``redis://`` keep the graph in process)."""
    if state == "memory" or "://" in state:
        return None
    p = Path(state)
    return p.with_name(p.name + ".fraud-graph.sqlite")


# ---------------------------------------------------------------- provider protocol

#: Feature name → kind for every feature of this provider (``fengkong.features.providers``).
FEATURE_KINDS: dict[str, str] = FRAUD_FEATURE_KINDS

#: Decision-store lists the provider turns into graph flags (node kind prefix, flag).
LIST_FLAGS: dict[str, tuple[str, str]] = {
    "risky_device": ("dv", "risky"), "risky_phone": ("ph", "risky"),
    "blacklist_id": ("id", "blacklisted"), "blacklist_phone": ("ph", "blacklisted"),
    "blacklist_device": ("dv", "blacklisted"),
}


def store_flags(db: str | None) -> tuple[dict[str, set[str]], set[str]]:
    """From the decision store's lists: graph node keys per flag, and the locked ID tokens."""
    flags: dict[str, set[str]] = {"risky": set(), "blacklisted": set()}
    if not db:
        return flags, set()
    from fengkong.fraud.locks import LOCK_LIST
    from fengkong.store import open_store

    st = open_store(db)
    try:
        snap = st.lists.snapshot()
    finally:
        st.close()
    for name, (kind, flag) in LIST_FLAGS.items():
        flags[flag].update(f"{kind}:{v}" for v in snap.get(name, ()))
    return flags, set(snap.get(LOCK_LIST, ()))


def open_online(ctx: Any) -> FraudFeatures:
    """The online provider for ``ctx`` (a ``ProviderContext``): graph persisted beside a SQLite state file."""
    flags, locked = store_flags(ctx.db)
    path = graph_log_path(ctx.state)
    ff = FraudFeatures(graph=AssociationGraph(), log=None, locked=locked)
    for what, keys in flags.items():
        for k in sorted(keys):
            ff.flag(k, what)
    if path is not None:
        ff.log = GraphLog(path)
        ff.log.catch_up(ff.graph)
    return ff


def backfill(events: Any, ctx: Any) -> Any:
    """``event_id`` + every fraud feature of every application, point-in-time (the offline twin)."""
    from fengkong.fraud.signals import application_features

    flags, locked = store_flags(ctx.db)
    return application_features(events, risky=sorted(flags["risky"]), blacklisted=sorted(flags["blacklisted"]),
                                locked=locked)
