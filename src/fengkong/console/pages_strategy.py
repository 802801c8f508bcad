"""Strategy lifecycle pages (analyst, deployer): versions per route, diff, in-browser edit with line:column
errors, backtest against the champion, deploy as challenger / shadow / champion (four-eyes), roll back,
and the live champion-vs-challenger panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengkong.console import lifecycle, rollup

ROLES = ("analyst", "deployer")


def _date(s: str | None) -> dt.date | None:
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"dates are YYYY-MM-DD, not {s!r}") from None


def live_panel(store: Any, days: int = 7) -> list[dict[str, Any]]:
    """Outcome mix and approval rate per strategy version and role (champion / challenger) over the last
    ``days`` days of decisions, from the monitoring rollup."""
    last = rollup.last_hour(store)
    if last is None:
        return []
    since = (last - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H")
    tot = rollup.merged([r for r in rollup.hours(store, since=since) if r[0] > since])
    out = []
    for key, mix in sorted(tot["roles"].items()):
        n = sum(mix.values())
        ver, role = key.rsplit(":", 1)
        out.append({"version": ver, "role": role, "n": n, "mix": dict(sorted(mix.items())),
                    "approval": sum(mix.get(o, 0) for o in ("approve", "allow")) / n if n else 0.0})
    return out


def add_routes(router: APIRouter, cx: Any) -> None:
    store = cx.store

    def deployments() -> Any:
        from fengkong.deploy import Deployments

        return Deployments(store, four_eyes=bool(cx.settings.get("deploy_four_eyes", True)))

    @router.get("/strategy")
    def strategies(request: Request, msg: str = "") -> Response:
        s = cx.require(request, *ROLES)
        rollup.refresh(store, max_rows=int(cx.settings.get("rollup_rows_per_view", 5000)))
        by_route = lifecycle.versions_by_route(store)
        routes = store.versions.routes()
        return cx.page(request, "strategy.html", by_route=by_route, routes=routes, who=lifecycle.who_saved(store),
                       history={r: store.versions.history(r)[-10:][::-1] for r in routes}, msg=msg,
                       pending=deployments().requests("pending"), panel=live_panel(store),
                       can_deploy=s.has("deployer"))

    @router.get("/strategy/diff")
    def diff(request: Request, name: str, a: str, b: str, name_b: str = "") -> Response:
        cx.require(request, *ROLES)
        va, vb = store.versions.get(name, a), store.versions.get(name_b or name, b)
        if va is None or vb is None:
            return cx.page(request, "message.html", code=404, message="Not found.")
        d = lifecycle.diff(va.source, vb.source, f"{va.name}@{va.version}", f"{vb.name}@{vb.version}")
        return cx.page(request, "strategy_diff.html", a=va, b=vb, d=d)

    @router.get("/strategy/edit")
    def edit(request: Request, name: str = "", version: str = "") -> Response:
        cx.require(request, *ROLES)
        sv = store.versions.get(name, version) if name else None
        if sv is None and name:
            sv = store.versions.latest(name)
        text = sv.source if sv else ""
        return cx.page(request, "strategy_edit.html", text=text, error=None, base=sv, ok=None, saved=None,
                       lines=text.count("\n") + 1)

    @router.post("/strategy/edit")
    async def edit_post(request: Request) -> Response:
        s = cx.require(request, *ROLES)
        f = await cx.form(request, s)
        text = str(f.get("text") or "").replace("\r\n", "\n")
        strat, error = lifecycle.validate(text)
        saved = None
        if strat is not None and f.get("action") == "save":
            from fengkong.deploy import DeployError
            from fengkong.store import VersionError

            try:
                sv, created = deployments().deploy(strat, s.username)
                saved = {"name": sv.name, "version": sv.version, "created": created}
            except (DeployError, VersionError) as exc:
                error = {"message": str(exc), "line": None, "col": None, "text": str(exc)}
        return cx.page(request, "strategy_edit.html", code=200 if error is None else 422, text=text, error=error,
                       base=None, ok=strat is not None and error is None, saved=saved, lines=text.count("\n") + 1,
                       strategy=strat)

    @router.post("/strategy/backtest")
    async def backtest(request: Request) -> Response:
        s = cx.require(request, *ROLES)
        f = await cx.form(request, s)
        name, version = str(f.get("name") or ""), str(f.get("version") or "")
        try:
            strat = lifecycle.compiled(store, name, version)
            if strat is None:
                return cx.page(request, "message.html", code=404, message="Not found.")
            from fengkong.store import route_of

            champ = None
            cfg = store.versions.routing(route_of(strat.event_type, strat.product))
            if cfg is not None and cfg.champion and tuple(cfg.champion) != (strat.name, strat.version):
                champ = lifecycle.compiled(store, *cfg.champion)
            res = lifecycle.backtest(cx, strat, _date(f.get("start")), _date(f.get("end")), against=champ)
        except ValueError as exc:
            return cx.redirect(request, "/console/strategy", str(exc))
        store.admin.append(s.username, "strategy.backtest", f"{name}@{version}",
                           {"start": f.get("start"), "end": f.get("end"), "events": res.n})
        return cx.page(request, "strategy_backtest.html", res=res, start=f.get("start"), end=f.get("end"),
                       rules=res.rule_hits.sort("hits", descending=True).to_dicts(),
                       mix=res.outcome_mix.to_dicts(),
                       bad=res.bad_by_outcome.to_dicts() if res.bad_by_outcome is not None else [],
                       swap=res.swap.to_dicts() if res.swap is not None else [])

    @router.post("/strategy/activate")
    async def activate(request: Request) -> Response:
        s = cx.require(request, *ROLES)
        f = await cx.form(request, s)
        from fengkong.deploy import DeployError

        try:
            r = deployments().activate(str(f.get("name")), str(f.get("version")), str(f.get("role") or "challenger"),
                                       actor=s.username, percent=float(f.get("percent") or 0))
        except (DeployError, ValueError) as exc:
            return cx.redirect(request, "/console/strategy", str(exc))
        msg = (f"request {r.request.id}: waiting for a second deployer" if r.status == "pending" and r.request
               else f"{f.get('role')} {f.get('name')}@{f.get('version')} applied")
        return cx.redirect(request, "/console/strategy", msg)

    @router.post("/strategy/requests/{request_id}")
    async def decide_request(request: Request, request_id: int) -> Response:
        s = cx.require(request, "deployer")
        f = await cx.form(request, s)
        from fengkong.deploy import DeployError

        try:
            if f.get("action") == "approve":
                deployments().approve(request_id, s.username, s.roles)
                msg = f"request {request_id} approved"
            else:
                deployments().reject(request_id, s.username, s.roles, str(f.get("note") or "") or None)
                msg = f"request {request_id} rejected"
        except DeployError as exc:
            msg = str(exc)
        return cx.redirect(request, "/console/strategy", msg)

    @router.post("/strategy/rollback")
    async def rollback(request: Request) -> Response:
        s = cx.require(request, "deployer")
        f = await cx.form(request, s)
        from fengkong.deploy import DeployError

        try:
            route, _cfg = deployments().rollback(str(f.get("route") or ""), s.username)
            msg = f"{route} rolled back"
        except DeployError as exc:
            msg = str(exc)
        return cx.redirect(request, "/console/strategy", msg)
