"""The service's deciding core, shared by the HTTP API and the stream consumer (no HTTP in here).

One :class:`DecisionService` per process: tokenise at the boundary → validate → idempotency (request id +
payload digest) → ``Engine.decide`` (features, strategy, hash-chained audit append) → metrics. Every call
into the engine runs on one dedicated thread, so the engine and its feature state are never used
concurrently within a process; other processes share state through PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fengkong.errors import ConflictError, NotFoundError, UnavailableError
from fengkong.events import validate_event
from fengkong.service.boundary import digest, jsonable, tokenise_event
from fengkong.service.handoff import LoopWaiter, deliver

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Most decisions committed to the audit log in one transaction (group commit).
GROUP_MAX = 256
#: Review cases of recorded decisions opened in one transaction once this many have gathered ...
CASE_BATCH = 64
#: ... or once the first of them has waited this long (seconds): one case alone costs ~7x its share of a batch.
CASE_DELAY_S = 0.2


class Conflict(ConflictError):
    """The request id was already used with a different payload (HTTP 409)."""


class NotFound(NotFoundError, LookupError):
    """Nothing with this id (HTTP 404)."""


class Unavailable(UnavailableError, RuntimeError):
    """A dependency failed or the decision did not finish in time; nothing was returned (HTTP 503)."""


class Overloaded(Unavailable):
    """Too many requests are waiting for the engine (HTTP 503 with Retry-After)."""


@dataclass
class Outcome:
    """A decision as returned to a caller: the stored record plus whether it was replayed."""

    record: dict[str, Any]
    replayed: bool

    def body(self) -> dict[str, Any]:
        out = {k: v for k, v in self.record.items() if k not in ("event", "payload_sha256")}
        out["replayed"] = self.replayed
        return out


class DecisionService:
    """Decide and ingest events against one store + engine; thread-safe, one engine thread."""

    def __init__(self, store: Any, engine: Any, tokenizer: Any, metrics: Any = None, max_pending: int = 2000,
                 inline: bool = False):
        """``engine``: an Engine, or a no-argument callable building one — called on the engine thread, so
        connections the feature state opens (SQLite) belong to the thread that uses them.

        ``inline``: run engine calls on the calling thread instead (one event loop, nothing else calling:
        saves the thread hand-off, but a slow dependency then holds the loop and no time bound applies)."""
        self.inline = inline
        self.store = store
        self.tokenizer = tokenizer
        self.metrics = metrics
        self.max_pending = max_pending
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fengkong-engine")
        self._pending = 0
        self._plock = threading.Lock()
        self._queued: list[tuple[dict[str, Any], str, Any]] = []  # waiting for a group commit (cf.Future / LoopWaiter)
        self._draining = False  # a _drain job is queued or running on the engine thread
        self._cases: list[tuple[Any, dict[str, Any]]] = []  # review decisions of groups, their cases not yet open
        self._case_timer: threading.Timer | None = None  # opens the gathered cases CASE_DELAY_S after the first
        self.worker = f"{os.uname().nodename}:{os.getpid()}"
        if callable(engine):
            self.engine = engine() if inline else self._pool.submit(engine).result()
        else:
            self.engine = engine

    # ------------------------------------------------------------ engine thread

    def submit(self, fn: Callable[..., T], *args: Any) -> cf.Future[T]:
        """Run ``fn`` on the engine thread (refused with :class:`Overloaded` when too much is queued)."""
        if self.inline:
            fut: cf.Future[T] = cf.Future()
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:
                fut.set_exception(exc)
            return fut
        with self._plock:
            if self._pending >= self.max_pending:
                raise Overloaded(f"{self._pending} requests are waiting for the engine; retry shortly")
            self._pending += 1
        queued = self._pool.submit(fn, *args)
        queued.add_done_callback(self._done)
        return queued

    def _done(self, _f: Any) -> None:
        with self._plock:
            self._pending -= 1

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run on the engine thread and wait (for callers that are threads themselves: the consumer, tests)."""
        return self.submit(fn, *args).result(timeout)

    def close(self) -> None:
        """Open the gathered review cases, close the feature state on the thread that opened it, then stop
        the engine thread."""
        try:
            self.submit(self._open_gathered_cases).result(30)
        except Exception as exc:
            log.warning("opening the last review cases: %s", exc)
        feats = getattr(self.engine, "features", None)
        if feats is not None:
            try:
                self.submit(feats.close).result(30)
            except Exception as exc:
                log.warning("closing the feature state: %s", exc)
        self._pool.shutdown(wait=True)

    # ------------------------------------------------------------ preparing

    def prepare(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """Tokenise and validate one event; returns (clean event, payload digest). Raises EventValidationError."""
        clean = validate_event(tokenise_event(raw, self.tokenizer))
        return clean, digest(clean)

    # ------------------------------------------------------------ deciding (engine thread)

    def _stored(self, rid: str, dg: str) -> Outcome | None:
        rec = self._store("looking up the request id", self.store.decisions.get, rid)
        if rec is None:
            return None
        if rec.get("payload_sha256") not in (None, dg):
            raise Conflict(f"request_id {rid!r} was already used with a different payload")
        return Outcome(rec, True)

    def _store(self, action: str, fn: Callable[..., T], *args: Any) -> T:
        from fengkong.store import STORE_ERRORS, StoreError

        try:
            return fn(*args)
        except StoreError as exc:
            self._count_store_error(action)
            raise Unavailable(str(exc)) from exc
        except STORE_ERRORS as exc:
            self._count_store_error(action)
            raise Unavailable(f"store {getattr(self.store, 'name', '?')}: {action}: {type(exc).__name__}") from exc

    def _count_store_error(self, action: str) -> None:
        if self.metrics is not None:
            self.metrics.store_errors.labels(action=action.split(" ")[0]).inc()

    def decide_clean(self, clean: dict[str, Any], dg: str) -> Outcome:
        """Decide a prepared event (on the engine thread): the stored decision, or a new recorded one."""
        out, d = self._decide_one(clean, dg)
        if d is not None:
            self._after(d, clean)
        return out

    def _decide_one(self, clean: dict[str, Any], dg: str) -> tuple[Outcome, Any]:
        """The outcome, and the new Decision (None when replayed) for :meth:`_after` once it is recorded."""
        from fengkong.store import StoreError

        rid = clean["event_id"]
        stored = self._stored(rid, dg)
        if stored is not None:
            return stored, None
        try:
            d = self.engine.decide(clean, extra={"payload_sha256": dg, "event": jsonable(clean)}, looked_up=True)
        except StoreError as exc:
            self._count_store_error("decide")
            raise Unavailable(str(exc)) from exc
        if d.replayed:  # another process decided this id meanwhile: check it was the same payload
            again = self._stored(rid, dg)
            if again is not None:
                return again, None
        return Outcome(d.to_dict(), d.replayed), (None if d.replayed else d)

    def _after(self, d: Any, clean: dict[str, Any]) -> None:
        """Metrics and the review case of a new decision, once it is recorded."""
        if self.metrics is not None:
            self.metrics.observe(d, clean)
        if d.outcome == "review":
            self._queue_case(d, clean)

    # ------------------------------------------------------------ group commit (engine thread)

    def decide_async(self, clean: dict[str, Any], dg: str) -> cf.Future[Outcome]:
        """Queue a prepared event for the engine thread; its future resolves once the decision is durable.

        Decisions queued while the engine thread is busy (deciding, committing) are decided one after the
        other and committed to the audit log together in one transaction (group commit); each future is
        resolved only after that commit. Inline mode, or a store without group commit: :meth:`decide_clean`.
        """
        if self.inline or not hasattr(self.store.decisions, "group"):
            return self.submit(self.decide_clean, clean, dg)
        fut: cf.Future[Outcome] = cf.Future()
        fut.add_done_callback(self._done)
        self._enqueue(clean, dg, fut, start_now=True)
        return fut

    def decide_soon(self, clean: dict[str, Any], dg: str) -> asyncio.Future[Outcome]:
        """:meth:`decide_async` for a caller on a running event loop: an asyncio future of that loop, which
        the engine thread resolves together with the rest of its group (one loop wake-up per group). A
        caller that gives up cancels it (or sets its exception); if the group has not started, that request
        is then not decided."""
        loop = asyncio.get_running_loop()
        if self.inline or not hasattr(self.store.decisions, "group"):
            return asyncio.wrap_future(self.submit(self.decide_clean, clean, dg), loop=loop)
        fut: asyncio.Future[Outcome] = loop.create_future()
        if self._enqueue(clean, dg, LoopWaiter(fut, loop)):
            # the engine thread starts once this loop pass is over, so the requests the loop has read in
            # the same pass join this group instead of waking the engine thread one by one
            loop.call_soon(self._schedule_drain)
        return fut

    def _enqueue(self, clean: dict[str, Any], dg: str, fut: Any, start_now: bool = False) -> bool:
        """Queue one request; True when the caller must start the engine thread's drain (nothing is draining)."""
        with self._plock:
            if self._pending >= self.max_pending:
                raise Overloaded(f"{self._pending} requests are waiting for the engine; retry shortly")
            self._pending += 1
            self._queued.append((clean, dg, fut))
            start, self._draining = not self._draining, True
        if start and start_now:
            self._schedule_drain()
        return start and not start_now

    def _schedule_drain(self) -> None:
        try:
            self._pool.submit(self._drain)
        except RuntimeError:  # shutting down: nothing more is decided
            with self._plock:
                batch, self._queued, self._draining = self._queued, [], False
            for _c, _d, fut in batch:
                if fut.set_running_or_notify_cancel():
                    fut.set_exception(Unavailable("the service is shutting down; send it again"))
            self._answered(batch)

    def _drain(self) -> None:
        """One group: take what is queued (up to ``GROUP_MAX``), decide, commit, answer; then queue itself
        again behind whatever else the engine thread has to do (review cases, ingests) if more is waiting."""
        with self._plock:
            batch, self._queued = self._queued[:GROUP_MAX], self._queued[GROUP_MAX:]
        try:
            self._decide_group(batch)
        finally:
            self._answered(batch)
            with self._plock:
                more = bool(self._queued)
                self._draining = more
            if len(self._cases) >= CASE_BATCH:
                self._open_gathered_cases()
            elif self._cases and self._case_timer is None:
                self._case_timer = threading.Timer(CASE_DELAY_S, self._cases_due)
                self._case_timer.daemon = True
                self._case_timer.start()
            if more:
                self._schedule_drain()

    def _answered(self, batch: list[tuple[dict[str, Any], str, Any]]) -> None:
        """The loop waiters of a finished group: the rest delivered to their loops, none pending any more."""
        waiters = [f for _c, _d, f in batch if type(f) is LoopWaiter]
        if waiters:
            deliver(waiters)
            with self._plock:
                self._pending -= len(waiters)

    def _cases_due(self) -> None:
        """Timer thread: the gathered cases have waited ``CASE_DELAY_S``; open them as the engine's next job."""
        try:
            self.submit(self._open_gathered_cases)
        except (Overloaded, RuntimeError):  # queue full: the next group opens them; shutting down: close() does
            self._case_timer = None

    def _open_gathered_cases(self) -> None:
        timer, self._case_timer = self._case_timer, None
        if timer is not None:
            timer.cancel()
        pairs, self._cases = self._cases, []
        if pairs:
            self._open_cases(pairs)

    def _decide_group(self, batch: list[tuple[dict[str, Any], str, Any]]) -> None:
        from fengkong.store import STORE_ERRORS, DuplicateRequest, StoreError

        # a request whose caller gave up (time bound) before it started is not decided at all
        items = [(c, dg, f) for c, dg, f in batch if f.set_running_or_notify_cancel()]
        done: list[tuple[cf.Future[Outcome], Outcome | None, Any, BaseException | None]] = []
        from fengkong.features.stores import StoreUnavailableError

        try:
            with self.engine.batch():  # one commit of the feature-state log, then one of the audit log
                for clean, dg, fut in items:
                    try:
                        out, d = self._decide_one(clean, dg)
                        done.append((fut, out, d, None))
                    except Exception as exc:  # this request's own error (409, 422, 404, 503): the others stand
                        done.append((fut, None, None, exc))
        except DuplicateRequest:  # another process stored one of these ids meanwhile: one by one instead
            for clean, dg, fut in items:
                try:
                    fut.set_result(self.decide_clean(clean, dg))
                except Exception as exc:
                    fut.set_exception(exc)
            return
        except (StoreError, StoreUnavailableError, *STORE_ERRORS) as exc:  # a commit failed: nothing recorded
            self._count_store_error("recording the decisions")
            err = Unavailable(f"store {getattr(self.store, 'name', '?')}: recording the decisions: "
                              f"{type(exc).__name__}; send it again with the same request_id")
            own_errors = {id(fut): own for fut, _out, _d, own in done}
            for _c, _dg, fut in items:  # also when the group's transaction could not even begin
                fut.set_exception(own_errors.get(id(fut)) or err)
            return
        except BaseException as exc:
            for _c, _d, fut in items:
                if not fut.done():
                    fut.set_exception(exc)
            raise
        for fut, out, _d, own in done:  # durable now: answer first, then metrics and cases
            if own is not None:
                fut.set_exception(own)
            else:
                fut.set_result(out)
        deliver(f for _c, _dg, f in items)
        review = []
        for (clean, _dg, _f), (_fut, _out, d, _own) in zip(items, done, strict=True):
            if d is not None and self.metrics is not None:
                self.metrics.observe(d, clean)
            if d is not None and d.outcome == "review":
                review.append((d, clean))
        self._cases.extend(review)  # opened together once CASE_BATCH have gathered or after CASE_DELAY_S

    def _queue_case(self, d: Any, clean: dict[str, Any]) -> None:
        """Open the case of a review decision as the engine thread's next job, so the answer (already
        recorded) does not wait for it; one writer thread, so no SQLite lock waits between the two. Inline
        when called off the engine thread or in inline mode; :meth:`flush_cases` waits for queued ones."""
        if self.inline or threading.current_thread().name.split("_")[0] != "fengkong-engine":
            self._open_case(d, clean)
            return
        try:
            self.submit(self._open_case, d, clean)
        except (Overloaded, RuntimeError):  # queue full or shutting down: open it now
            self._open_case(d, clean)

    def flush_cases(self, timeout: float = 30.0) -> None:
        """Wait until every review case queued so far is open (or failed and logged)."""
        self.call(self._open_gathered_cases, timeout=timeout)

    def _open_cases(self, pairs: list[tuple[Any, dict[str, Any]]]) -> None:
        """The cases of several review decisions in one store transaction (one by one if that fails)."""
        from fengkong.casework import cases_of_decisions

        try:
            cases_of_decisions(self.store, pairs)
        except Exception as exc:
            log.warning("could not open %d cases together (%s); one by one", len(pairs), type(exc).__name__)
            for d, clean in pairs:
                self._open_case(d, clean)

    def _open_case(self, d: Any, clean: dict[str, Any]) -> None:
        """A review outcome becomes a case in the inbox; the decision stands even if this fails (logged, and
        `fengkong cases import` opens the missing cases from the audit log later)."""
        from fengkong.casework import case_from_decision

        try:
            case_from_decision(self.store, d, clean)
        except Exception as exc:  # the recorded decision must still be answered
            log.warning("could not open the case of %s: %s: %s", d.request_id, type(exc).__name__, exc)

    def decide(self, raw: Mapping[str, Any], timeout: float | None = None) -> Outcome:
        """Prepare and decide one raw event, blocking the calling thread."""
        clean, dg = self.prepare(raw)
        return self.call(self.decide_clean, clean, dg, timeout=timeout)

    # ------------------------------------------------------------ ingesting (engine thread)

    def ingest_clean(self, clean: dict[str, Any], dg: str) -> dict[str, Any]:
        """Fold an event into the state; decide it too when a strategy is active for its type (alerts)."""
        from fengkong.engine import NoStrategyError

        try:
            out = self.decide_clean(clean, dg)
            rec = out.record
            alerts = [] if rec["outcome"] in ("approve", "allow", "pass", "ok") else list(rec["reason_codes"])
            return {"request_id": clean["event_id"], "accepted": True, "decided": True, "replayed": out.replayed,
                    "outcome": rec["outcome"], "alerts": alerts}
        except NoStrategyError:
            pass
        return self._ingest_only(clean, dg)

    def _ingest_only(self, clean: dict[str, Any], dg: str) -> dict[str, Any]:
        from fengkong.service import queries

        rid = clean["event_id"]
        prev = self._store("looking up the event id", queries.event_digest, self.store, rid)
        if prev is not None:
            if prev != dg:
                raise Conflict(f"request_id {rid!r} was already used with a different payload")
            return {"request_id": rid, "accepted": True, "decided": False, "replayed": True, "outcome": None,
                    "alerts": []}
        feats = self.engine.features
        if feats is not None:
            from fengkong.features.online import LateEventError

            try:
                feats.update(clean)  # idempotent by event id: a retry after a crash folds nothing twice
            except LateEventError:
                raise
            except Exception as exc:
                raise Unavailable(f"feature state: {type(exc).__name__}: {exc}") from exc
        body = jsonable(clean)
        self._store("recording the event", queries.record_event, self.store, clean, dg, body)
        if self.metrics is not None:
            self.metrics.events.labels(event_type=clean["event_type"]).inc()
            self.metrics.note_event_ts(clean.get("ts"))
        return {"request_id": rid, "accepted": True, "decided": False, "replayed": False, "outcome": None,
                "alerts": []}

    # ------------------------------------------------------------ identity and lists (engine thread)

    def refresh(self) -> None:
        """Re-read routing and lists now (after this worker changed them)."""
        try:
            self.engine.refresh()
        except Exception as exc:  # the next decision retries
            log.warning("refresh after a change failed: %s", exc)

    def ready(self) -> dict[str, Any]:
        """What /readyz reports: store reachable, feature state reachable, strategies loaded."""
        checks: dict[str, Any] = {}
        try:
            checks["store"] = bool(self.store.versions.routes() is not None)
        except Exception as exc:
            checks["store"] = f"{type(exc).__name__}"
        try:  # every route's champion compiles (and is cached for the first decision)
            routes = {r: cfg for r, cfg in self.store.versions.routes().items() if cfg.champion}
            for cfg in routes.values():
                self.engine.compiled(*cfg.champion)
            checks["strategies"] = sorted(routes) or False
        except Exception as exc:
            checks["strategies"] = f"{type(exc).__name__}: {exc}"
        feats = self.engine.features
        if feats is None:
            checks["features"] = "disabled"
        else:
            base = getattr(feats, "base", feats)
            st = getattr(base, "store", None)
            try:
                st.run(lambda tx: tx.get("wm"), write=False)
                checks["features"] = True
            except Exception as exc:
                checks["features"] = f"{type(exc).__name__}"
        checks["ok"] = (checks["store"] is True and isinstance(checks["strategies"], list)
                        and checks["features"] in (True, "disabled"))
        return checks
