"""Identity locks and "not me" reports, with an append-only audit trail (embedded SQLite).

A locked ID token makes every later application with it fail with reason ``IDENTITY_LOCKED`` until it is
unlocked. A victim's "not me" report marks the applications, freezes collection on their loans, locks
the identity and marks the attacker's device and phone (those never seen with the victim before) risky,
so the association graph carries the risk to whatever else they touch. Only tokens are stored.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from fengkong.errors import InputError
from fengkong.events import TZ

REASON_LOCKED = "IDENTITY_LOCKED"
#: Store lists the decision engine reads (see the ``lists`` ruleset of the reference application strategy).
LOCK_LIST = "identity_lock"
RISKY_LISTS = {"dv": "risky_device", "ph": "risky_phone"}
ACTORS = ("person", "lender")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identity_lock (id_token TEXT PRIMARY KEY, locked INTEGER NOT NULL, since TEXT NOT NULL,
                                          actor TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fraud_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, action TEXT NOT NULL,
                                        id_token TEXT, actor TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS not_me_application (application_id TEXT PRIMARY KEY, id_token TEXT NOT NULL,
                                               reported_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collection_freeze (loan_id TEXT PRIMARY KEY, application_id TEXT, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS risky_element (node TEXT PRIMARY KEY, since TEXT NOT NULL, source TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS fraud_audit_no_update BEFORE UPDATE ON fraud_audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS fraud_audit_no_delete BEFORE DELETE ON fraud_audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


class LockError(InputError, ValueError):
    """A lock request was not acceptable; the message names the field."""


def default_path() -> Path:
    return Path(".fengkong") / "fraud.sqlite"


def _now() -> str:
    return dt.datetime.now(TZ).isoformat(timespec="seconds")


def _check_token(id_token: str) -> str:
    t = (id_token or "").strip()
    if not t:
        raise LockError("id_token: must not be empty")
    if t.isdigit() or (len(t) == 18 and t[:17].isdigit()):
        raise LockError("id_token: looks like a raw ID number; pass the token (or use --id-number to tokenise)")
    return t


class IdentityLocks:
    """The lock registry. Every change is one transaction that also appends its audit row."""

    def __init__(self, path: str | Path | None = None, lists: Any = None) -> None:
        """``lists``: the decision store's :class:`fengkong.store.Lists`; locks and attacker elements are
        mirrored there (lists ``identity_lock``, ``risky_device``, ``risky_phone``) so the engine's
        ``in_list`` rules act on them."""
        self.lists = lists
        self.path = Path(path) if path is not None else default_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path))
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _mirror(self, list_name: str, value: str, kind: str, reason: str, source: str) -> bool:
        """Put ``value`` on the store list unless it is already active there (no duplicate rows)."""
        if self.lists is None:
            return False
        if any(e.value == value for e in self.lists.entries(list_name)):
            return False
        self.lists.add(list_name, value, kind=kind, reason=reason, source=source)
        return True

    def _audit(self, action: str, id_token: str | None, actor: str, reason: str, detail: dict[str, Any]) -> None:
        self._db.execute("INSERT INTO fraud_audit (ts, action, id_token, actor, reason, detail) VALUES (?,?,?,?,?,?)",
                         (_now(), action, id_token, actor, reason, json.dumps(detail, ensure_ascii=False,
                                                                              sort_keys=True)))

    @staticmethod
    def _check_actor(actor: str, reason: str) -> None:
        if actor not in ACTORS:
            raise LockError(f"actor: must be one of {', '.join(ACTORS)}, got {actor!r}")
        if not reason.strip():
            raise LockError("reason: must not be empty (it goes into the audit trail)")

    def lock(self, id_token: str, actor: str, reason: str) -> bool:
        """Lock an identity; returns False when it was already locked (still audited)."""
        tok = _check_token(id_token)
        self._check_actor(actor, reason)
        with self._db:
            was = self.is_locked(tok)
            self._db.execute("INSERT INTO identity_lock VALUES (?,?,?,?,?) ON CONFLICT(id_token) DO UPDATE SET "
                             "locked=1, since=excluded.since, actor=excluded.actor, reason=excluded.reason",
                             (tok, 1, _now(), actor, reason))
            self._audit("lock", tok, actor, reason, {"already_locked": was})
        # always mirror (the store may have lost the entry, or the lock predates the store)
        self._mirror(LOCK_LIST, tok, "block", reason, f"identity-lock:{actor}")
        return not was

    def unlock(self, id_token: str, actor: str, reason: str) -> bool:
        """Unlock an identity; returns False when it was not locked (still audited)."""
        tok = _check_token(id_token)
        self._check_actor(actor, reason)
        with self._db:
            was = self.is_locked(tok)
            self._db.execute("UPDATE identity_lock SET locked=0, since=?, actor=?, reason=? WHERE id_token=?",
                             (_now(), actor, reason, tok))
            self._audit("unlock", tok, actor, reason, {"was_locked": was})
        if self.lists is not None:
            self.lists.remove(LOCK_LIST, tok)
        return was

    def is_locked(self, id_token: str | None) -> bool:
        if not id_token:
            return False
        row = self._db.execute("SELECT locked FROM identity_lock WHERE id_token=?", (id_token,)).fetchone()
        return bool(row and row[0])

    def locked_tokens(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT id_token FROM identity_lock WHERE locked=1")}

    def check(self, event: dict[str, Any]) -> str | None:
        """``IDENTITY_LOCKED`` when an application carries a locked ID token, else None."""
        if event.get("event_type") == "application" and self.is_locked(event.get("id_token")):
            return REASON_LOCKED
        return None

    def report_not_me(self, id_token: str, application_ids: Iterable[str], events: pl.DataFrame,
                      actor: str = "lender", reason: str = "not-me report", lock: bool = True) -> dict[str, Any]:
        """Record a victim's "not me" report against applications found in ``events``.

        Marks the applications, freezes collection on loans disbursed from them, locks the identity
        (unless ``lock=False``) and marks risky the devices and phones of those applications that the
        identity never used in any event outside the reported applications. Returns what was done.
        """
        tok = _check_token(id_token)
        self._check_actor(actor, reason)
        ids = sorted(set(application_ids))
        if not ids:
            raise LockError("application: name at least one application (event_id) the person did not make")
        apps = events.filter((pl.col("event_type") == "application") & pl.col("event_id").is_in(ids))
        missing = sorted(set(ids) - set(apps["event_id"].to_list()))
        if missing:
            raise LockError(f"application: {missing[0]!r} is not an application event in the given events")
        wrong = apps.filter(pl.col("id_token") != tok)
        if wrong.height:
            raise LockError(f"application: {wrong['event_id'][0]!r} was not filed with this identity token")
        loans = events.filter((pl.col("event_type") == "disbursement") & pl.col("application_id").is_in(ids))[
            "loan_id"].to_list()
        # the victim's own elements: seen with this identity more than a day before the first disputed
        # application (an attacker registers the stolen identity right before applying)
        cutoff = apps["ts"].min() - dt.timedelta(days=1)  # type: ignore[operator]
        own = events.filter((pl.col("id_token") == tok) & ~pl.col("event_id").is_in(ids) & (pl.col("ts") < cutoff))
        own_dev = set(own["device_id"].drop_nulls().to_list())
        own_ph = set(own["phone_token"].drop_nulls().to_list())
        risky = sorted({f"dv:{d}" for d in apps["device_id"].drop_nulls().to_list() if d not in own_dev}
                       | {f"ph:{p}" for p in apps["phone_token"].drop_nulls().to_list() if p not in own_ph})
        now = _now()
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO not_me_application VALUES (?,?,?)",
                                 [(a, tok, now) for a in ids])
            self._db.executemany("INSERT OR IGNORE INTO collection_freeze VALUES (?,?,?)",
                                 [(ln, None, now) for ln in loans])
            self._db.executemany("INSERT OR IGNORE INTO risky_element VALUES (?,?,?)",
                                 [(n, now, "not_me:" + ids[0]) for n in risky])
            self._audit("not_me", tok, actor, reason, {"applications": ids, "frozen_loans": sorted(loans),
                                                        "risky_elements": risky})
        for n in risky:
            kind, value = n.split(":", 1)
            self._mirror(RISKY_LISTS[kind], value, "watch", reason, "not-me:" + ids[0])
        if lock:
            self.lock(tok, actor, reason)
        locked = self.is_locked(tok)
        return {"applications": ids, "frozen_loans": sorted(loans), "risky_elements": risky, "locked": locked}

    def frozen_loans(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT loan_id FROM collection_freeze")}

    def risky_elements(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT node FROM risky_element")}

    def not_me_applications(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT application_id FROM not_me_application")}

    def audit(self, id_token: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT seq, ts, action, id_token, actor, reason, detail FROM fraud_audit"
        rows = self._db.execute(q + (" WHERE id_token=? ORDER BY seq" if id_token else " ORDER BY seq"),
                                (id_token,) if id_token else ()).fetchall()
        return [{"seq": r[0], "ts": r[1], "action": r[2], "id_token": r[3], "actor": r[4], "reason": r[5],
                 "detail": json.loads(r[6])} for r in rows]
