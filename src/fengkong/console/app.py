"""Wiring of the console: templates, sessions, role checks, and the page modules' routes."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from fengkong import casework
from fengkong.console.auth import (
    COOKIE,
    PRE_COOKIE,
    CsrfError,
    Forbidden,
    LoginRequired,
    Session,
    Sessions,
    check_csrf,
)
from fengkong.console.i18n import LANGS, translate
from fengkong.events import pii

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
#: The landing page of each role (first match wins).
HOME = (("reviewer", "/console/cases"), ("supervisor", "/console/cases"), ("investigator", "/console/rings"),
        ("analyst", "/console/strategy"), ("deployer", "/console/strategy"), ("compliance", "/console/compliance"),
        ("admin", "/console/cases"))
#: Which roles see which section (admin sees all).
SECTIONS = (("Cases", "/console/cases", ("reviewer", "supervisor")),
            ("Rings", "/console/rings", ("investigator", "supervisor")),
            ("Strategies", "/console/strategy", ("analyst", "deployer")),
            ("Monitoring", "/console/monitor", ("analyst", "deployer", "supervisor")),
            ("Compliance", "/console/compliance", ("compliance",)))


def yuan(fen: Any) -> str:
    if fen is None:
        return "-"
    return f"{int(fen) / 100:,.2f}"


def num(v: Any) -> str:
    """A feature value for display: floats to 4 significant digits, None as a dash."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def short_time(iso: str | None) -> str:
    """An ISO timestamp shown in the business time zone (Asia/Shanghai), to the minute."""
    if not iso:
        return "-"
    from fengkong.events import TZ

    try:
        t = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if t.tzinfo is None:
        return t.strftime("%Y-%m-%d %H:%M")
    return t.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def session_secret(settings: dict[str, Any]) -> str:
    """The key that signs session cookies: ``secret_key`` from the settings, else derived from the PII key
    (HMAC, so every worker and restart of one deployment agrees and the PII key itself is never used), else a
    random key per process (sessions then end at restart and do not cross workers)."""
    if settings.get("secret_key"):
        return str(settings["secret_key"])
    import hashlib
    import hmac

    try:
        key = pii.load_key(create=False)
    except Exception:  # no PII key configured: per-process key
        return secrets.token_urlsafe(32)
    return hmac.new(key, b"fengkong console session cookie", hashlib.sha256).hexdigest()


class Console:
    """What every page needs: the store, the settings, templates and the session checker."""

    def __init__(self, store: Any, settings: dict[str, Any]):
        self.store = store
        self.settings = settings
        self.policy = casework.Policy.from_settings(settings)
        self.sessions = Sessions(session_secret(settings),
                                 idle_seconds=float(settings.get("idle_minutes", 30)) * 60,
                                 secure=bool(settings.get("secure_cookie", False)))
        self.lang = settings.get("lang", "zh") if settings.get("lang", "zh") in LANGS else "zh"
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                               autoescape=select_autoescape(["html", "svg"]), trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(num=num, yuan=yuan, t=short_time, mask=pii.mask_token, pct=lambda x: "-" if x is None
                                else f"{float(x):.2%}")
        self.cache: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    # ------------------------------------------------------------ sessions

    def session(self, request: Request) -> Session:
        d = self.sessions.read(request.cookies.get(COOKIE))
        u = self.store.users.get(d["u"])
        if u is None or not u.active:
            raise LoginRequired("login")
        s = Session(u.username, u.roles, d["c"], u.display_name)
        request.state.console_session = s
        return s

    def require(self, request: Request, *roles: str) -> Session:
        s = self.session(request)
        if roles and not s.has(*roles):
            raise Forbidden(roles)
        return s

    async def form(self, request: Request, s: Session) -> dict[str, Any]:
        f = await request.form()
        check_csrf(s.csrf, str(f.get("csrf") or ""))
        out: dict[str, Any] = {}
        for k in f:
            vals = f.getlist(k)
            out[k] = vals if len(vals) > 1 else vals[0]
        return out

    def lang_of(self, request: Request) -> str:
        v = request.cookies.get("fk_lang")
        return v if v in LANGS else self.lang

    # ------------------------------------------------------------ responses

    def _refresh(self, request: Request, response: Response) -> Response:
        s = getattr(request.state, "console_session", None)
        if s is not None:
            value, _ = self.sessions.issue(s.username, s.csrf)
            self.sessions.set_cookie(response, value)
        return response

    def page(self, request: Request, template: str, code: int = 200, **ctx: Any) -> Response:
        lang = self.lang_of(request)
        s = getattr(request.state, "console_session", None)
        sections = [(n, u) for n, u, roles in SECTIONS if s is not None and s.has(*roles)]
        html = self.env.get_template(template).render(
            _=lambda text: translate(lang, text), lang=lang, user=s, sections=sections, csrf=s.csrf if s else "",
            path=request.url.path, now=dt.datetime.now(dt.UTC).isoformat(), **ctx)
        return self._refresh(request, HTMLResponse(html, status_code=code))

    def redirect(self, request: Request, url: str, flash: str | None = None) -> Response:
        if flash:
            from urllib.parse import quote

            url += ("&" if "?" in url else "?") + "msg=" + quote(flash)
        return self._refresh(request, RedirectResponse(url, status_code=303))

    def raw(self, request: Request, response: Response) -> Response:
        return self._refresh(request, response)

    # ------------------------------------------------------------ data

    def world(self) -> Path | None:
        w = self.settings.get("world")
        return Path(w) if w else None

    def events(self) -> Any:
        """The world's events (read once per process; None when no world is configured)."""

        def read() -> Any:
            w = self.world()
            if w is None or not w.exists():
                return None
            from fengkong.events.files import read_world

            return read_world(w)

        return self.cached("events", read)

    def cached(self, key: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` computed once per process (one thread computes, others wait for it)."""
        if key in self.cache:
            return self.cache[key]
        with self._locks_lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self.cache:
                self.cache[key] = fn()
        return self.cache[key]

    def warm(self) -> None:
        """Compute the world-based views (events, rings, compliance, subsidy) ahead of the first request."""
        try:
            if self.events() is None:
                return
            for mod in page_modules():
                if hasattr(mod, "warm"):
                    mod.warm(self)
        except Exception:  # a page shows the error when it asks; warming is best effort
            log.exception("console: warming the world views failed")


#: The console's own pages; the registered packs add theirs (``Pack.console_pages``).
CORE_PAGES = ("fengkong.console.pages_cases", "fengkong.console.pages_strategy", "fengkong.console.pages_monitor")


def page_modules() -> list[Any]:
    """The page modules mounted: the core ones, then every registered pack's (each has ``add_routes``)."""
    import importlib

    from fengkong.packs import packs

    names = list(CORE_PAGES) + [m for p in packs() for m in p.console_pages if m not in CORE_PAGES]
    return [importlib.import_module(n) for n in dict.fromkeys(names)]


def build(app: FastAPI, store: Any, settings: dict[str, Any]) -> Console:
    cx = Console(store, settings)
    router = APIRouter(prefix="/console")

    @router.get("", include_in_schema=False)
    @router.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        s = cx.session(request)
        for role, url in HOME:
            if role in s.roles:
                return cx.redirect(request, url)
        return cx.page(request, "forbidden.html", code=403, roles=[r for r, _ in HOME])

    @router.get("/login", include_in_schema=False)
    def login_form(request: Request, reason: str | None = None) -> Response:
        token = secrets.token_urlsafe(24)
        resp = cx.page(request, "login.html", pre=token, reason=reason, error=None)
        resp.set_cookie(PRE_COOKIE, token, path="/console", httponly=True, samesite="strict")
        return resp

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        f = await request.form()
        try:
            check_csrf(request.cookies.get(PRE_COOKIE) or "", str(f.get("csrf") or ""))
        except CsrfError:
            return login_form(request, reason="csrf")
        u = store.users.authenticate(str(f.get("username") or ""), str(f.get("password") or ""))
        if u is None:
            token = secrets.token_urlsafe(24)
            resp = cx.page(request, "login.html", code=401, pre=token, reason=None,
                           error="Wrong username or password.")
            resp.set_cookie(PRE_COOKIE, token, path="/console", httponly=True, samesite="strict")
            store.admin.append(str(f.get("username") or "")[:128] or "-", "console.login_failed", None, {})
            return resp
        value, _csrf = cx.sessions.issue(u.username)
        store.admin.append(u.username, "console.login", None, {})
        resp = RedirectResponse("/console/", status_code=303)
        cx.sessions.set_cookie(resp, value)
        resp.delete_cookie(PRE_COOKIE, path="/console")
        return resp

    @router.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        s = cx.session(request)
        await cx.form(request, s)
        store.admin.append(s.username, "console.logout", None, {})
        resp = RedirectResponse("/console/login", status_code=303)
        cx.sessions.clear(resp)
        return resp

    @router.get("/lang/{lang}", include_in_schema=False)
    def set_lang(request: Request, lang: str, back: str = "/console/") -> Response:
        resp = RedirectResponse(back if back.startswith("/console") else "/console/", status_code=303)
        if lang in LANGS:
            resp.set_cookie("fk_lang", lang, path="/console", samesite="strict")
        return resp

    for mod in page_modules():
        mod.add_routes(router, cx)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.method == "GET":
            url = "/console/login" + ("?reason=idle" if exc.reason == "idle" else "")
            resp = RedirectResponse(url, status_code=303)
        else:
            resp = Response("login required", status_code=401)
        resp.delete_cookie(COOKIE, path="/console")
        return resp

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return cx.page(request, "forbidden.html", code=403, roles=list(exc.roles))

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return Response("CSRF token missing or wrong; reload the page and try again", status_code=403)

    app.state.console = cx
    # the drift panel uses the modeling pack's metrics, whose package import takes seconds: pay it at start-up
    # in the background instead of in the first dashboard request
    import importlib

    threading.Thread(target=importlib.import_module, args=("fengkong.modeling.metrics",), daemon=True,
                     name="console-warm-imports").start()
    if settings.get("warm", True) and cx.world() is not None:
        threading.Thread(target=cx.warm, daemon=True, name="console-warm-world").start()
    return cx
