"""Strategy deployment with four-eyes approval of champion changes; every step goes into the admin log.

One public API for the CLI, the HTTP service and the web console::

    d = Deployments(store, four_eyes=True)
    d.deploy(strategy, actor="li")                      # store the version (immutable), logged
    r = d.activate("app_policy", "3", "champion", actor="li")   # → a pending request (four-eyes)
    d.approve(r.request.id, actor="wang", roles={"deployer"})   # a second deployer applies it

Challenger, shadow and "off" changes apply at once (they never change a customer's outcome on their own
beyond the challenger share); a rollback applies at once too (the emergency path), and is logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from fengkong.errors import InputError
from fengkong.store.schema import deploy_requests
from fengkong.store.versions import Routing, StoredVersion, VersionError, route_of

#: Roles allowed to request and to approve a deployment.
DEPLOY_ROLES = frozenset({"deployer", "admin"})
ACTIVATE_ROLES = ("champion", "challenger", "shadow", "off")


class DeployError(InputError, ValueError):
    """A deployment step was refused (same person approving, unknown request, not a deployer, …)."""


@dataclass
class DeployRequest:
    id: int
    name: str
    version: str
    role: str
    percent: float
    split_key: str | None
    requested_by: str
    requested_at: str
    status: str  # pending | applied | rejected
    decided_by: str | None
    decided_at: str | None
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ActivateResult:
    """What an activation did: ``applied`` with the new routing, or ``pending`` with the request to approve."""

    status: str
    route: str
    routing: Routing | None = None
    request: DeployRequest | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "route": self.route}
        if self.routing is not None:
            out["routing"] = routing_dict(self.routing)
        if self.request is not None:
            out["request"] = self.request.to_dict()
        return out


def routing_dict(cfg: Routing) -> dict[str, Any]:
    """A routing as plain JSON (champion, challengers with percent, shadows, split key)."""
    return {"champion": list(cfg.champion) if cfg.champion else None, "challengers": list(cfg.challengers),
            "shadows": [list(s) for s in cfg.shadows], "split_key": cfg.split_key}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _req(r: Any) -> DeployRequest:
    return DeployRequest(r["id"], r["name"], r["version"], r["role"], float(r["percent"]), r["split_key"],
                         r["requested_by"], r["requested_at"], r["status"], r["decided_by"], r["decided_at"],
                         r["note"])


class Deployments:
    """Deploy / activate / approve / reject / rollback against one store; ``four_eyes`` guards champions."""

    def __init__(self, store: Any, four_eyes: bool = True):
        self.store = store
        self.four_eyes = four_eyes

    # ------------------------------------------------------------ versions

    def deploy(self, strategy: Any, actor: str) -> tuple[StoredVersion, bool]:
        """Store a compiled strategy version (refused if the same version exists with other content)."""
        try:
            strategy.check_models()
        except Exception as exc:  # a model artifact that does not load is refused here
            raise DeployError(str(exc)) from exc
        from fengkong.runtime import check_applicable
        from fengkong.strategy import StrategyError

        try:
            check_applicable(strategy)
        except StrategyError as exc:
            raise DeployError(exc.message) from exc
        try:
            sv, created = self.store.versions.deploy(strategy)
        except VersionError as exc:
            raise DeployError(str(exc)) from exc
        self.store.admin.append(actor, "strategy.deploy", f"{sv.name}@{sv.version}",
                                {"sha256": sv.sha256, "created": created, "event_type": sv.event_type,
                                 "product": sv.product})
        return sv, created

    # ------------------------------------------------------------ routing

    def activate(self, name: str, version: str, role: str = "champion", actor: str = "?",
                 percent: float = 0.0, split_key: str | None = None) -> ActivateResult:
        """Apply a routing change, or (champion with four-eyes on) record it as a pending request."""
        if role not in ACTIVATE_ROLES:
            raise DeployError(f"role: must be one of {', '.join(ACTIVATE_ROLES)}, got {role!r}")
        sv = self.store.versions.get(name, str(version))
        if sv is None:
            raise DeployError(f"{name} version {version} is not deployed")
        route = route_of(sv.event_type, sv.product)
        if role == "challenger" and not 0 < float(percent) <= 100:
            raise DeployError("percent: a challenger needs a percentage between 0 and 100")
        if role == "champion" and self.four_eyes:
            with self.store.engine.begin() as conn:
                res = conn.execute(deploy_requests.insert().values(
                    name=sv.name, version=sv.version, role=role, percent=float(percent), split_key=split_key,
                    requested_by=actor, requested_at=_now(), status="pending"))
                rid = int(res.inserted_primary_key[0])
            req = self.request(rid)
            self.store.admin.append(actor, "deploy.request", f"{sv.name}@{sv.version}",
                                    {"request": rid, "role": role, "route": route})
            return ActivateResult("pending", route, request=req)
        cfg = self._apply(sv.name, sv.version, role, percent, split_key, actor, None)
        return ActivateResult("applied", route, routing=cfg)

    def _apply(self, name: str, version: str, role: str, percent: float, split_key: str | None, actor: str,
               request_id: int | None) -> Routing:
        try:
            route, cfg = self.store.versions.activate(name, version, role, float(percent), split_key)
        except VersionError as exc:
            raise DeployError(str(exc)) from exc
        self.store.admin.append(actor, "strategy.activate", f"{name}@{version}",
                                {"role": role, "percent": float(percent), "route": route, "request": request_id,
                                 "routing": routing_dict(cfg)})
        return cfg

    def request(self, request_id: int) -> DeployRequest:
        with self.store.engine.connect() as conn:
            r = conn.execute(select(deploy_requests).where(deploy_requests.c.id == int(request_id))).mappings().first()
        if r is None:
            raise DeployError(f"no deploy request {request_id}")
        return _req(r)

    def requests(self, status: str | None = "pending") -> list[DeployRequest]:
        q = select(deploy_requests).order_by(deploy_requests.c.id)
        if status:
            q = q.where(deploy_requests.c.status == status)
        with self.store.engine.connect() as conn:
            return [_req(r) for r in conn.execute(q).mappings().all()]

    def _decide(self, request_id: int, actor: str, roles: Iterable[str], status: str, note: str | None) -> DeployRequest:
        req = self.request(request_id)
        if req.status != "pending":
            raise DeployError(f"deploy request {request_id} is already {req.status}")
        if not DEPLOY_ROLES & set(roles):
            raise DeployError(f"{actor} does not have the deployer role")
        if status == "applied" and actor == req.requested_by:
            raise DeployError(f"four-eyes: {actor} requested this change; a second deployer must approve it")
        with self.store.engine.begin() as conn:
            n = conn.execute(update(deploy_requests).where(deploy_requests.c.id == req.id,
                                                           deploy_requests.c.status == "pending")
                             .values(status=status, decided_by=actor, decided_at=_now(), note=note)).rowcount
        if n != 1:
            raise DeployError(f"deploy request {request_id} was decided by someone else meanwhile")
        return self.request(request_id)

    def approve(self, request_id: int, actor: str, roles: Iterable[str]) -> ActivateResult:
        """A second deployer approves a pending request; the routing change is applied and logged."""
        req = self._decide(request_id, actor, roles, "applied", None)
        self.store.admin.append(actor, "deploy.approve", f"{req.name}@{req.version}",
                                {"request": req.id, "requested_by": req.requested_by})
        cfg = self._apply(req.name, req.version, req.role, req.percent, req.split_key, actor, req.id)
        sv = self.store.versions.get(req.name, req.version)
        return ActivateResult("applied", route_of(sv.event_type, sv.product), routing=cfg, request=req)

    def reject(self, request_id: int, actor: str, roles: Iterable[str], note: str | None = None) -> DeployRequest:
        req = self._decide(request_id, actor, roles, "rejected", note)
        self.store.admin.append(actor, "deploy.reject", f"{req.name}@{req.version}",
                                {"request": req.id, "note": note})
        return req

    def rollback(self, target: str, actor: str) -> tuple[str, Routing]:
        """Restore the previous routing of a route (or of the route of a strategy name); logged."""
        route = target
        if self.store.versions.routing(target) is None:
            sv = self.store.versions.latest(target)
            if sv is None:
                raise DeployError(f"{target!r} is neither a route nor a deployed strategy")
            route = route_of(sv.event_type, sv.product)
        try:
            cfg = self.store.versions.rollback(route)
        except VersionError as exc:
            raise DeployError(str(exc)) from exc
        self.store.admin.append(actor, "strategy.rollback", route, {"routing": routing_dict(cfg)})
        return route, cfg


def _rule_when(source: str) -> dict[str, str]:
    from fengkong.safeyaml import safe_load

    doc = safe_load(source, "<strategy>") or {}
    return {str(r.get("id")): str(r.get("when")) for n in doc.get("nodes", []) or []
            for r in (n.get("rules", []) or [])}


def diff_strategies(a: Any, b: Any) -> dict[str, Any]:
    """Rules added, removed and changed (action, reason code or condition) between two compiled strategies,
    and the unified text diff of their sources."""
    import difflib

    ra, rb = {r.id: r for r in a.rules}, {r.id: r for r in b.rules}
    wa, wb = _rule_when(a.spec.source), _rule_when(b.spec.source)
    changed = []
    for rid in sorted(ra.keys() & rb.keys()):
        x, y = ra[rid], rb[rid]
        if (x.action, x.reason_code) != (y.action, y.reason_code) or wa.get(rid) != wb.get(rid):
            changed.append({"rule": rid, "action": [x.action, y.action], "reason_code": [x.reason_code, y.reason_code],
                            "when": [wa.get(rid), wb.get(rid)]})
    text = list(difflib.unified_diff(a.spec.source.splitlines(), b.spec.source.splitlines(),
                                     f"{a.name}@{a.version}", f"{b.name}@{b.version}", lineterm=""))
    return {"a": f"{a.name}@{a.version}", "b": f"{b.name}@{b.version}", "removed": sorted(ra.keys() - rb.keys()),
            "added": sorted(rb.keys() - ra.keys()), "changed": changed, "text": text}


def version_rows(store: Any) -> list[dict[str, Any]]:
    """Every deployed version with what it is on each route now (champion / challenger % / shadow)."""
    routes = store.versions.routes()
    active: dict[tuple[str, str], list[str]] = {}
    for route, cfg in routes.items():
        if cfg.champion:
            active.setdefault(tuple(cfg.champion), []).append(f"champion of {route}")
        for c in cfg.challengers:
            active.setdefault((c["name"], c["version"]), []).append(f"challenger {c['percent']:g}% of {route}")
        for s in cfg.shadows:
            active.setdefault(tuple(s), []).append(f"shadow of {route}")
    return [{"name": v.name, "version": v.version, "event_type": v.event_type, "product": v.product,
             "sha256": v.sha256, "deployed_at": v.deployed_at, "active": active.get((v.name, v.version), [])}
            for v in store.versions.list()]
