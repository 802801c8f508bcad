"""The FastAPI application: ``create_app(settings)`` builds the store, engine and routes of API v1.

``app.state`` holds ``settings``, ``store`` (the fengkong Store), ``engine``, ``service`` (the
:class:`~fengkong.service.decider.DecisionService`), ``metrics`` and ``key_cache``; other front ends (the
web console) mount into the same app and reuse them with :mod:`fengkong.service.auth`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fengkong.service.respond import json_response
from fengkong.service.settings import Settings
from fengkong.settings import current

log = logging.getLogger("fengkong.service")


def _error_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError

    from fengkong.deploy import DeployError
    from fengkong.engine import NoStrategyError
    from fengkong.events import EventValidationError
    from fengkong.events.pii import redact
    from fengkong.service.decider import Conflict, NotFound, Overloaded, Unavailable
    from fengkong.store import UserError
    from fengkong.strategy import StrategyError

    @app.exception_handler(EventValidationError)
    async def _invalid(request: Request, exc: EventValidationError) -> Response:
        loc = getattr(request.state, "loc_prefix", ["body"])
        return json_response({"detail": [{"loc": [*loc, exc.field], "msg": redact(exc.reason), "type": "value_error"}]},
                             422)

    @app.exception_handler(RequestValidationError)
    async def _schema(request: Request, exc: RequestValidationError) -> Response:
        # the offending input is never echoed: it may be an identity element
        return json_response({"detail": [{"loc": list(e.get("loc", ())), "msg": redact(str(e.get("msg", ""))),
                                          "type": e.get("type", "value_error")} for e in exc.errors()]}, 422)

    def simple(status: int, headers: dict[str, str] | None = None) -> Any:
        async def h(request: Request, exc: Exception) -> Response:
            return json_response({"detail": redact(str(exc))}, status, headers)  # a message may quote input
        return h

    app.add_exception_handler(Conflict, simple(409))
    app.add_exception_handler(NotFound, simple(404))
    app.add_exception_handler(NoStrategyError, simple(404))
    app.add_exception_handler(Overloaded, simple(503, {"Retry-After": "1"}))
    app.add_exception_handler(Unavailable, simple(503, {"Retry-After": "1"}))
    app.add_exception_handler(DeployError, simple(409))
    app.add_exception_handler(StrategyError, simple(422))
    app.add_exception_handler(UserError, simple(422))

    from fengkong.errors import FengkongError

    async def _fengkong(request: Request, exc: Exception) -> Response:  # any other error of ours: its own status
        status = getattr(exc, "http_status", 400)
        headers = {"Retry-After": "1"} if status == 503 else None
        return json_response({"detail": redact(str(exc)) if status < 500 else type(exc).__name__ + ": " +
                              redact(str(exc))}, status, headers)

    app.add_exception_handler(FengkongError, _fengkong)


#: WAL pages (4 KiB) past which a pooled store connection checkpoints inside its own commit (SQLite's default: 1000)
WAL_INLINE_CHECKPOINT_PAGES = 16_384


def wal_checkpoints_in_background(store: Any) -> None:
    """SQLite store: its pooled connections (cases, admin log, console) leave WAL checkpoints to the background
    thread the decision log runs for the file, up to a 64 MiB WAL.

    With SQLite's default every commit on them once the WAL is past 1 000 pages (always, under steady load)
    checkpoints inline, with fsyncs, on the engine thread. The background checkpoints alone never let the WAL
    restart under steady load (new frames arrive while each one runs), so past the bound one inline
    checkpoint, on the only writing thread, completes and the next commit restarts the WAL from the top.
    """
    from sqlalchemy import event

    eng = getattr(store, "engine", None)
    if eng is None or getattr(eng.dialect, "name", "") != "sqlite" or getattr(eng, "_fk_wal_bg", False):
        return

    @event.listens_for(eng, "connect")
    def _fewer_inline_checkpoints(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={WAL_INLINE_CHECKPOINT_PAGES}")

    eng._fk_wal_bg = True
    eng.pool.dispose()  # connections pooled so far reconnect with it (checked-out ones are left alone)


async def _no() -> bool:
    return False


def build_state(settings: Settings, store: Any = None, engine: Any = None, tokenizer: Any = None) -> dict[str, Any]:
    """Open what the service needs (store, engine with feature state, tokeniser, metrics)."""
    from fengkong.runtime import open_engine
    from fengkong.service.auth import KeyCache
    from fengkong.service.decider import DecisionService
    from fengkong.service.metrics import Metrics
    from fengkong.store import open_store

    store = store if store is not None else open_store(settings.store_url)
    wal_checkpoints_in_background(store)

    def make_engine() -> Any:  # runs on the engine thread
        eng = engine if engine is not None else open_engine(
            store, settings.state_url, settings.store_url, refresh_seconds=settings.refresh_seconds,
            redis_prefix=settings.redis_prefix)
        eng.validate = False  # the service validates (and tokenises) before the engine sees an event
        return eng

    tokenizer = tokenizer if tokenizer is not None else settings.tokenizer()
    if settings.pii_key_file and not (current().audit_key or "").strip():
        from fengkong.events import pii
        from fengkong.store.audit_key import derive

        # the audit chain's key follows the configured key file (not only $FENGKONG_PII_KEY_FILE)
        store.decisions.use_key(derive(pii.load_key(key_file=Path(settings.pii_key_file))))
    metrics = Metrics()
    service = DecisionService(store, make_engine, tokenizer, metrics, inline=settings.engine_inline)
    return {"settings": settings, "store": store, "engine": service.engine, "tokenizer": tokenizer, "metrics": metrics,
            "service": service, "key_cache": KeyCache(settings.key_cache_seconds)}


def create_app(settings: Settings | None = None, store: Any = None, engine: Any = None,
               tokenizer: Any = None) -> FastAPI:
    """The service app; ``settings`` default to :func:`~fengkong.service.settings.load_settings` (validated)."""
    from fengkong.service.guard import Guard
    from fengkong.service.routes import admin, decisions, health, manage, strategies
    from fengkong.service.settings import load_settings

    settings = settings or load_settings()
    state = build_state(settings, store, engine, tokenizer)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.service.close()
        app.state.jobs.close()
        if app.state.owns_store:
            app.state.store.close()

    app = FastAPI(title="fengkong decision service", version="1", openapi_url="/v1/openapi.json",
                  docs_url="/v1/docs", redoc_url=None, lifespan=lifespan,
                  description="Decisions for every event type, with the audit trail, feature state and strategies "
                              "shared by every replica. See docs/service.md.")
    for k, v in state.items():
        setattr(app.state, k, v)
    app.state.owns_store = store is None
    from fengkong.service.jobs import Jobs

    app.state.jobs = Jobs(state["store"], settings)
    _error_handlers(app)
    for mod in (health, decisions, manage, strategies, admin):
        app.include_router(mod.router)
    from fengkong.service.fastpath import PATH, FastDecide

    fast = FastDecide(app)
    app.add_middleware(Guard, max_body=settings.max_body_bytes, metrics=state["metrics"],
                       fast=lambda scope, *a: fast(scope, *a) if scope["path"] == PATH else _no())
    if settings.console:
        from fengkong.console import mount

        mount(app, state["store"], {"world": settings.world, "baseline": settings.baseline})

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:  # logged without the request body
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error"}, 500)

    return app


def settle_heap() -> None:
    """For a serving process, once its app is built: what start-up allocated (modules, strategies, models,
    warmed caches) goes to the collector's permanent generation, and young collections run less often.

    A full collection otherwise walks that whole heap while a decision waits (80–130 ms pauses measured
    under load, most of the p99.9). Garbage is collected first, so nothing unreachable is kept.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes (settings handed over by ``fengkong serve``)."""
    from fengkong.events import pii
    from fengkong.service.settings import settings_from_env
    from fengkong.settings import Settings as Environment
    from fengkong.settings import configure

    configure(Environment.from_env())  # a worker process is an edge: its one read of the environment
    pii.install_log_redaction()
    pii.install_log_redaction(logging.getLogger("uvicorn.access"))
    pii.install_log_redaction(logging.getLogger("uvicorn.error"))
    app = create_app(settings_from_env())
    settle_heap()
    return app
