"""401 without credentials, 403 without the role, and through with it — for every route of the app."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from fengkong.store import ROLES

PUBLIC = {"/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/v1/docs", "/v1/docs/oauth2-redirect"}
FILL = {"request_id": "1", "name": "blacklist_id", "version": "1", "value": "v", "key_id": "abc", "job_id": "j",
        "customer_id": "C1"}


def _roles(route: APIRoute) -> frozenset[str] | None:
    for d in route.dependant.dependencies:
        roles = getattr(d.call, "roles", None)
        if roles is not None:
            return roles
    return None


def _routes(app):
    from fengkong.service.routes import admin, decisions, health, manage, strategies

    for mod in (health, decisions, manage, strategies, admin):
        for r in mod.router.routes:
            if isinstance(r, APIRoute):
                for m in r.methods:
                    yield m, r


def test_every_route_has_roles_and_answers_401_and_403(svc):
    app = svc.client.app
    seen = 0
    for method, route in _routes(app):
        path = re.sub(r"{(\w+)}", lambda m: FILL[m.group(1)], route.path)
        roles = _roles(route)
        if route.path in PUBLIC:
            assert roles is None, route.path
            r = svc.client.request(method, path)
            assert r.status_code not in (401, 403), (method, path)
            continue
        assert roles, f"{method} {route.path} has no role check"
        seen += 1
        kw = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        r = svc.client.request(method, path, **kw)
        assert r.status_code == 401, (method, path, r.status_code)
        r = svc.client.request(method, path, headers={"Authorization": "Bearer fk_nope_nope"}, **kw)
        assert r.status_code == 401, (method, path, r.status_code)
        outsider = next(x for x in ROLES if x not in roles)
        r = svc.client.request(method, path, headers=svc.h(outsider), **kw)
        assert r.status_code == 403, (method, path, outsider, r.status_code)
        insider = sorted(roles)[0]
        r = svc.client.request(method, path, headers=svc.h(insider), **kw)
        assert r.status_code not in (401, 403), (method, path, insider, r.status_code, r.text)
    assert seen >= 20


def test_basic_auth_users_and_revoked_keys(svc):
    import base64

    svc.store.users.add("li", "correct horse", ["analyst"])
    good = base64.b64encode(b"li:correct horse").decode()
    bad = base64.b64encode(b"li:wrong password").decode()
    assert svc.client.get("/v1/strategies", headers={"Authorization": f"Basic {good}"}).status_code == 200
    assert svc.client.get("/v1/strategies", headers={"Authorization": f"Basic {bad}"}).status_code == 401
    # an admin revokes a key over the API: it stops working at once on this worker
    made = svc.post("/v1/admin/keys", {"name": "tmp", "roles": ["analyst"]}, role="admin")
    assert made.status_code == 201
    key = made.json()["key"]
    assert svc.client.get("/v1/strategies", headers={"X-API-Key": key}).status_code == 200
    assert svc.client.delete(f"/v1/admin/keys/{made.json()['key_id']}", headers=svc.h("admin")).status_code == 200
    assert svc.client.get("/v1/strategies", headers={"X-API-Key": key}).status_code == 401
    log = svc.get("/v1/admin/log", role="compliance").json()
    assert log["chain_ok"] and [e["action"] for e in log["entries"][:2]] == ["key.revoke", "key.create"]
    assert key.split("_", 2)[2] not in str(log)
