"""The decision audit log: append-only, each row chained to the previous one under a key kept outside the DB.

``hash = HMAC-SHA256(audit key, "v2\\n" + prev_hash + "\\n" + canonical JSON of the row)`` (``hv = 2``; rows
of older stores keep their unkeyed ``sha256`` hash, ``hv = 1``). Every ``checkpoint_every`` records and when
a writer closes, a signed checkpoint (seq + head hash + HMAC) is stored in ``fk_audit_checkpoints``, so
cutting the tail below the last checkpoint is detected too. Appends are serialised (SQLite
``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock) so the chain stays linear with several
writer processes. See docs/strategies.md, "The audit chain", for what is and is not detected.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from fengkong.errors import ConflictError
from fengkong.settings import ENV, Settings, current

GENESIS = "0" * 64
#: Columns covered by the hash, in this order (``record`` is hashed as its stored text).
HASHED = ("seq", "request_id", "event_type", "event_ts", "customer_id", "strategy_name", "strategy_version",
          "outcome", "record", "created_at", "prev_hash")
COLUMNS = (*HASHED, "hv", "hash")
_LOCK_KEY = 7_415_523_113  # advisory-lock id of the decision chain (PostgreSQL)
#: A record's stored text: compact UTF-8 JSON, keys sorted, datetimes (and anything else) as ``str(v)``.
_RECORD_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
CHAIN = "decisions"
#: Hash versions: 1 = unkeyed sha256 (stores written before the key), 2 = HMAC-SHA256 under the audit key.
UNKEYED, KEYED = 1, 2
CHECKPOINT_ENV = ENV["audit_checkpoint_every"]
#: Records between checkpoints when ``$FENGKONG_AUDIT_CHECKPOINT_EVERY`` is not set.
CHECKPOINT_EVERY = 1000


_META = tuple(k for k in HASHED if k != "record")


def _body(row: dict[str, Any]) -> str:
    # compact JSON with non-ASCII kept: byte for byte what ``json.dumps(..., separators=(",", ":"),
    # ensure_ascii=False)`` writes for these ints, strings and nulls (tests/store/test_chain_text.py)
    meta = orjson.dumps([row[k] for k in _META]).decode()
    return f"{row['prev_hash']}\n{meta}\n{row['record']}"


def chain_hash(row: dict[str, Any], key: bytes | None = None) -> str:
    """The row's link: HMAC-SHA256 under ``key`` (hv 2), or the legacy unkeyed sha256 without one (hv 1)."""
    if key is None:
        return hashlib.sha256(_body(row).encode()).hexdigest()
    return hmac.new(key, f"v2\n{_body(row)}".encode(), hashlib.sha256).hexdigest()


def checkpoint_mac(key: bytes, chain: str, seq: int, head: str, at: str, kid: str) -> str:
    """HMAC of one checkpoint: the chain's name, the seq it covers, the head hash there, when, which key."""
    return hmac.new(key, f"fk-checkpoint\n{chain}\n{seq}\n{head}\n{at}\n{kid}".encode(), hashlib.sha256).hexdigest()


class DuplicateRequest(ConflictError):
    """A decision with this request id is already stored (returned by the caller instead)."""


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    request_id: str | None = None
    reason: str | None = None
    #: Seq of the newest signed checkpoint (None: none) and how many records are unkeyed (older stores).
    checkpoint: int | None = None
    unkeyed: int = 0


class DecisionLog:
    """Append and read decisions. Uses one DBAPI connection of the engine for the hot path."""

    def __init__(self, engine: Any, settings: Settings | None = None):
        self.engine = engine
        self._settings = settings  # None: the installed settings (fengkong.settings.current) when used
        self.dialect = engine.dialect.name
        self._proxy: Any = None
        self._raw: Any = None
        self._wal_thread = ""
        self._connect()
        self._ph = "?" if self.dialect == "sqlite" else "%s"
        cols = ", ".join(COLUMNS)
        self._insert = f"INSERT INTO fk_decisions ({cols}) VALUES ({', '.join([self._ph] * len(COLUMNS))})"
        self._last = "SELECT seq, hash FROM fk_decisions ORDER BY seq DESC LIMIT 1"
        self._get = f"SELECT record FROM fk_decisions WHERE request_id = {self._ph}"
        self._lock = threading.Lock()  # one DBAPI connection: serialise use from several threads
        self._key: bytes | None = None
        self._kid = ""
        self._since_checkpoint = 0  # records this process appended after its last checkpoint
        every = (settings or current()).audit_checkpoint_every
        self.checkpoint_every = CHECKPOINT_EVERY if every is None else every
        self._group: _Group | None = None  # an open group commit (see :meth:`group`)
        self._cp_insert = (f"INSERT INTO fk_audit_checkpoints (chain, seq, head_hash, at, key_id, mac) "
                           f"VALUES ({', '.join([self._ph] * 6)})")

    def use_key(self, key: bytes) -> None:
        """Chain under this key instead of the one from the environment (the service's configured key file)."""
        from fengkong.store.audit_key import key_id

        self._key, self._kid = key, key_id(key)

    def key(self) -> bytes:
        """The audit key (resolved once; :class:`~fengkong.store.audit_key.AuditKeyError` names a missing one)."""
        if self._key is None:
            from fengkong.store.audit_key import audit_key, key_id

            self._key = audit_key(self._settings)
            self._kid = key_id(self._key)
        return self._key

    def _connect(self) -> None:
        self._proxy = self.engine.raw_connection()
        self._raw = self._proxy.driver_connection  # the DBAPI connection itself: no proxy per call
        if self.dialect == "sqlite" and not self._wal_thread:
            from fengkong import walcheckpoint

            path = self.engine.url.database or ""
            walcheckpoint.start(self._raw, path)  # WAL fsyncs off the decision path
            self._wal_thread = path

    def _discard(self) -> None:
        """Drop the connection after a failure (server gone, connection killed): the next call reconnects."""
        proxy, self._proxy, self._raw = self._proxy, None, None
        if proxy is not None:
            with contextlib.suppress(Exception):
                proxy.invalidate()

    def _cursor(self) -> Any:
        if self._raw is None:
            self._connect()
        return self._raw.cursor()

    def close(self) -> None:
        if self._since_checkpoint and self._key is not None:
            with contextlib.suppress(Exception):  # anchor the head this process wrote (best effort)
                self.checkpoint()
        if self._wal_thread:
            from fengkong import walcheckpoint

            walcheckpoint.release(self._wal_thread)
            self._wal_thread = ""
        with contextlib.suppress(Exception):
            if self._proxy is not None:
                self._proxy.close()

    def _begin(self, cur: Any) -> None:
        if self.dialect == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        elif self.dialect == "postgresql":
            cur.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")

    def _commit(self, cur: Any) -> None:
        if self.dialect == "sqlite":
            cur.execute("COMMIT")
        else:
            self._raw.commit()

    def _rollback(self, cur: Any) -> None:
        try:
            if self.dialect == "sqlite":
                cur.execute("ROLLBACK")
            else:
                self._raw.rollback()
        except Exception:  # pragma: no cover
            pass

    def get(self, request_id: str) -> dict[str, Any] | None:
        """The stored decision record of a request id, or None (inside a :meth:`group`: also its pending ones)."""
        g = self._group
        if g is not None and g.thread == threading.get_ident() and request_id in g.bodies:
            return orjson.loads(g.bodies[request_id])
        with self._lock:
            cur = self._cursor()
            try:
                cur.execute(self._get, (request_id,))
                row = cur.fetchone()
                if self.dialect != "sqlite":
                    self._raw.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.close()
                self._discard()
                raise
            cur.close()
        return None if row is None else orjson.loads(row[0])

    def append(self, meta: dict[str, Any], record: dict[str, Any]) -> int:
        """Append one decision; returns its seq. Raises DuplicateRequest if the request id is stored."""
        body = orjson.dumps(record, default=str, option=_RECORD_OPTS).decode()
        try:
            key = self.key()
        except RuntimeError as exc:
            from fengkong.store.errors import StoreError

            raise StoreError(safe_name(self.engine), "appending to the audit log", exc) from None
        g = self._group
        if g is not None and g.thread == threading.get_ident():
            return g.add(meta, body)
        with self._lock:
            cur = self._cursor()
            try:
                self._begin(cur)
                try:
                    cur.execute(self._last)
                    last = cur.fetchone()
                    row = dict(meta)
                    row["seq"] = (last[0] + 1) if last else 1
                    row["prev_hash"] = last[1] if last else GENESIS
                    row["record"] = body
                    row["hv"] = KEYED
                    row["hash"] = chain_hash(row, key)
                    cur.execute(self._insert, tuple(row[c] for c in COLUMNS))
                    if self.checkpoint_every > 0 and row["seq"] % self.checkpoint_every == 0:
                        self._write_checkpoint(cur, row["seq"], row["hash"])
                        self._since_checkpoint = 0
                    else:
                        self._since_checkpoint += 1
                    self._commit(cur)
                    return row["seq"]
                except BaseException as exc:
                    self._rollback(cur)
                    if _is_unique_violation(exc):
                        raise DuplicateRequest(meta["request_id"]) from None
                    raise
            except DuplicateRequest:
                raise
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.close()
                self._discard()
                raise
            finally:
                with contextlib.suppress(Exception):
                    cur.close()

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """Group commit: the :meth:`append` calls this thread makes inside the block are chained and written
        in one transaction when the block ends (one lock, one round trip of inserts, one commit).

        Nothing appended inside is durable, or visible to other threads and processes, before the block has
        ended without an exception; an exception inside discards them all. Inside, :meth:`append` returns 0
        (seqs are assigned at the commit) and :meth:`get` also finds this group's pending records; a request
        id appended twice inside raises :class:`DuplicateRequest`. When the commit fails nothing of the group
        is recorded and the error is raised (:class:`DuplicateRequest` if another writer stored one of its
        request ids meanwhile). One group at a time (groups do not nest).
        """
        if self._group is not None:
            raise RuntimeError("one DecisionLog.group() at a time")
        g = self._group = _Group(threading.get_ident())
        try:
            yield
        finally:
            self._group = None
        if g.rows:
            self._append_rows(g.rows)

    def _append_rows(self, rows: list[tuple[dict[str, Any], str]]) -> None:
        """Chain and insert (meta, record text) pairs in one transaction (the commit of a :meth:`group`)."""
        key = self.key()
        with self._lock:
            cur = self._cursor()
            try:
                self._begin(cur)
                try:
                    cur.execute(self._last)
                    last = cur.fetchone()
                    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
                    params, due = [], []
                    for meta, body in rows:
                        seq += 1
                        row = {**meta, "seq": seq, "prev_hash": prev, "record": body, "hv": KEYED}
                        prev = row["hash"] = chain_hash(row, key)
                        params.append(tuple(row[c] for c in COLUMNS))
                        if self.checkpoint_every > 0 and seq % self.checkpoint_every == 0:
                            due.append((seq, prev))
                    cur.executemany(self._insert, params)
                    for cp_seq, head in due:
                        self._write_checkpoint(cur, cp_seq, head)
                    self._commit(cur)
                except BaseException as exc:
                    self._rollback(cur)
                    if _is_unique_violation(exc):
                        raise DuplicateRequest("a request id of the group") from None
                    raise
            except DuplicateRequest:
                raise
            except BaseException:
                self._discard()
                raise
            finally:
                with contextlib.suppress(Exception):
                    cur.close()
        tail = seq - due[-1][0] if due else None
        self._since_checkpoint = tail if tail is not None else self._since_checkpoint + len(rows)

    def _write_checkpoint(self, cur: Any, seq: int, head: str) -> None:
        at = dt.datetime.now(dt.UTC).isoformat()
        cur.execute(self._cp_insert, (CHAIN, seq, head, at, self._kid,
                                      checkpoint_mac(self.key(), CHAIN, seq, head, at, self._kid)))

    def checkpoint(self) -> int | None:
        """Sign the current head (seq + hash) into ``fk_audit_checkpoints``; returns its seq (None: empty log)."""
        self.key()
        with self._lock:
            cur = self._cursor()
            try:
                self._begin(cur)
                try:
                    cur.execute(self._last)
                    last = cur.fetchone()
                    if last is not None:
                        self._write_checkpoint(cur, last[0], last[1])
                    self._commit(cur)
                except BaseException:
                    self._rollback(cur)
                    raise
            finally:
                with contextlib.suppress(Exception):
                    cur.close()
        self._since_checkpoint = 0
        return None if last is None else int(last[0])

    def checkpoints(self) -> list[dict[str, Any]]:
        """The signed checkpoints of the chain, oldest first."""
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(
                "SELECT seq, head_hash, at, key_id, mac FROM fk_audit_checkpoints WHERE chain = :c ORDER BY id"),
                {"c": CHAIN}).mappings().all()]

    def rows(self, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Every row in chain order."""
        from sqlalchemy import text

        last = 0
        while True:
            with self.engine.connect() as conn:
                res = conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM fk_decisions WHERE seq > :s "
                                        f"ORDER BY seq LIMIT :n"), {"s": last, "n": batch}).mappings().all()
            if not res:
                return
            for r in res:
                yield dict(r)
            last = res[-1]["seq"]

    def verify(self, allow_unsealed: bool = False) -> VerifyResult:
        """Recompute the chain under the audit key and check the signed checkpoints; report the first problem.

        ``allow_unsealed`` accepts unkeyed records (hv 1) that no checkpoint covers (``fengkong audit seal``).
        """
        try:
            key: bytes | None = self.key()
        except RuntimeError as exc:
            key, key_error = None, str(exc)
        cps = self.checkpoints()
        heads: dict[int, str] = {}
        for cp in cps:
            if key is None:
                return VerifyResult(False, 0, cp["seq"], None, f"cannot check the signed checkpoints: {key_error}")
            if not hmac.compare_digest(checkpoint_mac(key, CHAIN, cp["seq"], cp["head_hash"], cp["at"], cp["key_id"]),
                                       cp["mac"]):
                other = cp["key_id"] != self._kid
                return VerifyResult(False, 0, cp["seq"], None,
                                    f"checkpoint at seq {cp['seq']} " + (
                                        f"was signed by another audit key (key id {cp['key_id']}, configured "
                                        f"{self._kid})" if other else "does not match its signature (forged or edited)"))
            heads[cp["seq"]] = cp["head_hash"]
        last_cp = max(heads, default=None)
        prev = GENESIS
        expected_seq = None
        n = unkeyed = 0
        last_unkeyed: int | None = None
        keyed_seen = False
        last_seq = 0
        for r in self.rows():
            n += 1
            if expected_seq is not None and r["seq"] != expected_seq:
                return VerifyResult(False, n, r["seq"], r["request_id"],
                                    f"gap in the chain: expected seq {expected_seq}, found {r['seq']}", last_cp, unkeyed)
            if r["prev_hash"] != prev:
                return VerifyResult(False, n, r["seq"], r["request_id"],
                                    "prev_hash does not match the previous record (a record was deleted or edited)",
                                    last_cp, unkeyed)
            hv = r.get("hv") or UNKEYED
            if hv == UNKEYED:
                if keyed_seen:
                    return VerifyResult(False, n, r["seq"], r["request_id"],
                                        "an unkeyed record after keyed ones (re-hashed without the key)", last_cp, unkeyed)
                unkeyed += 1
                last_unkeyed = r["seq"]
                good = chain_hash(r) == r["hash"]
            elif hv == KEYED:
                if key is None:
                    return VerifyResult(False, n, r["seq"], r["request_id"], f"cannot check keyed records: {key_error}",
                                        last_cp, unkeyed)
                keyed_seen = True
                good = hmac.compare_digest(chain_hash(r, key), r["hash"])
            else:
                return VerifyResult(False, n, r["seq"], r["request_id"], f"unknown hash version {hv}", last_cp, unkeyed)
            if not good:
                return VerifyResult(False, n, r["seq"], r["request_id"],
                                    "content does not match its hash (edited, or chained without the audit key)",
                                    last_cp, unkeyed)
            if r["seq"] in heads and heads[r["seq"]] != r["hash"]:
                return VerifyResult(False, n, r["seq"], r["request_id"],
                                    "record differs from the signed checkpoint at its seq (the chain was rewritten)",
                                    last_cp, unkeyed)
            prev = r["hash"]
            last_seq = r["seq"]
            expected_seq = r["seq"] + 1
        if last_cp is not None and last_cp > last_seq:
            return VerifyResult(False, n, last_seq + 1, None,
                                f"truncated: a signed checkpoint covers seq {last_cp}, the log ends at seq {last_seq}",
                                last_cp, unkeyed)
        if last_unkeyed is not None and not allow_unsealed and (last_cp is None or last_cp < last_unkeyed):
            return VerifyResult(False, n, last_unkeyed, None,
                                f"records up to seq {last_unkeyed} are unkeyed (written before the audit key) and no "
                                "signed checkpoint covers them; check them, then run `fengkong audit seal`",
                                last_cp, unkeyed)
        return VerifyResult(True, n, checkpoint=last_cp, unkeyed=unkeyed)

    def count(self) -> int:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM fk_decisions")).scalar() or 0)


class _Group:
    """The pending appends of one open :meth:`DecisionLog.group` (of the thread that opened it)."""

    def __init__(self, thread: int):
        self.thread = thread
        self.rows: list[tuple[dict[str, Any], str]] = []
        self.bodies: dict[str, str] = {}

    def add(self, meta: dict[str, Any], body: str) -> int:
        rid = meta["request_id"]
        if rid in self.bodies:
            raise DuplicateRequest(rid)
        self.bodies[rid] = body
        self.rows.append((dict(meta), body))
        return 0


def safe_name(engine: Any) -> str:
    """The store's URL for messages (password hidden)."""
    from fengkong.store.errors import safe_url

    return safe_url(engine.url)


def _is_unique_violation(exc: BaseException) -> bool:
    name = type(exc).__name__
    msg = str(exc).lower()
    return name in ("IntegrityError", "UniqueViolation") and ("unique" in msg or "duplicate" in msg)
