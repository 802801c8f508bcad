"""Ring and link view (investigator): detected rings with their report, a customer's links one hop at a time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengkong.events import pii

ROLES = ("investigator", "supervisor")
MAX_NODES = 250
HUB = 60  # an element shared by more applicants is drawn but not expanded through (like community detection)


def _rings(cx: Any) -> tuple[Any, Any] | None:
    ev = cx.events()
    if ev is None:
        return None

    def detect() -> tuple[Any, Any]:
        from fengkong.fraud.rings import detect_rings

        return detect_rings(ev)

    return cx.cached("rings", detect)


def _links(cx: Any) -> Any:
    def build() -> Any:
        import polars as pl

        from fengkong.fraud.offline import link_rows

        lk = link_rows(cx.events()).select("customer_id", "elem", "kind").unique()
        deg = lk.group_by("elem").agg(pl.col("customer_id").n_unique().alias("applicants"))
        return lk.join(deg, on="elem")

    return cx.cached("links", build)


def warm(cx: Any) -> None:
    """Detect the rings and build the link table ahead of the first request."""
    _rings(cx)
    _links(cx)


def neighbourhood(links: Any, seeds: list[str], hops: int, max_nodes: int = MAX_NODES) -> tuple[list[dict], list[tuple[int, int]]]:
    """People and shared elements around ``seeds`` out to ``hops`` person-to-person hops (1 = the seeds'
    elements and the people sharing them). Elements of one person only are left out; hubs are not crossed."""
    import polars as pl

    people, elems = set(seeds), set()
    frontier = set(seeds)
    for _ in range(max(1, hops)):
        e = links.filter(pl.col("customer_id").is_in(list(frontier)))
        new_elems = set(e.filter(pl.col("applicants") >= 2)["elem"].to_list()) - elems
        elems |= new_elems
        crossing = links.filter(pl.col("elem").is_in(list(new_elems)) & (pl.col("applicants") <= HUB))
        nxt = set(crossing["customer_id"].to_list()) - people
        room = max_nodes - len(people) - len(elems)
        if room <= 0:
            break
        nxt = set(sorted(nxt)[:room])
        people |= nxt
        frontier = nxt
        if not frontier:
            break
    sub = links.filter(pl.col("customer_id").is_in(list(people)) & pl.col("elem").is_in(list(elems)))
    # an element that links only one drawn person (it is shared with someone outside the picture) is noise,
    # except the seeds' own elements
    own = set(links.filter(pl.col("customer_id").is_in(list(seeds)))["elem"].to_list())
    drawn = sub.group_by("elem").len().filter((pl.col("len") >= 2) | pl.col("elem").is_in(list(own)))["elem"]
    sub = sub.filter(pl.col("elem").is_in(drawn.implode()))
    nodes: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for p in sorted(people):
        index["c:" + p] = len(nodes)
        nodes.append({"key": "c:" + p, "kind": "person", "label": p, "title": p, "focus": p in seeds,
                      "href": f"/console/rings/graph?customer={p}&hops=1"})
    deg = dict(sub.group_by("elem").len().iter_rows())
    for r in sub.select("elem", "kind", "applicants").unique("elem").sort("elem").iter_rows(named=True):
        index[r["elem"]] = len(nodes)
        masked = pii.mask_token(r["elem"].split(":", 1)[1])
        nodes.append({"key": r["elem"], "kind": r["kind"], "label": f"{r['kind']} {masked}",
                      "title": f"{r['kind']} {masked}: {r['applicants']} applicants", "degree": deg.get(r["elem"], 0),
                      "hub": r["applicants"] > HUB})
    edges = [(index["c:" + c], index[e]) for c, e in sub.select("customer_id", "elem").iter_rows()]
    return nodes, edges


def _ring_view(cx: Any, rings: Any, members: Any, ring_id: str) -> tuple[Any, Any]:
    """The fraud pack's report of one ring and the SVG of its members and shared elements (the world is
    fixed for the process, so both are computed once per ring)."""
    from fengkong.console.svg import graph_svg
    from fengkong.fraud.rings import ring_report

    r = ring_report(cx.events(), rings, members, ring_id=ring_id)[0]
    nodes, edges = neighbourhood(_links(cx), r.members, 1)
    keep = {i for i, n in enumerate(nodes) if n["kind"] == "person" or n.get("degree", 0) >= 2}
    remap = {old: new for new, old in enumerate(sorted(keep))}
    nodes = [nodes[i] for i in sorted(keep)]
    edges = [(remap[a], remap[b]) for a, b in edges if a in remap and b in remap]
    for nd in nodes:
        nd["flag"] = nd["kind"] == "person" and nd["label"] in r.members
    return r, graph_svg(nodes, edges)


def add_routes(router: APIRouter, cx: Any) -> None:
    store = cx.store

    @router.get("/rings")
    def rings(request: Request, msg: str = "") -> Response:
        cx.require(request, *ROLES)
        found = _rings(cx)
        if found is None:
            return cx.page(request, "message.html", message="No world data configured.")
        rs, _members = found
        confirmed = {lb.subject for lb in store.labels.latest("ring")}
        return cx.page(request, "rings.html", rings=rs.head(100).to_dicts(), confirmed=confirmed, msg=msg)

    @router.get("/rings/graph")
    def graph(request: Request, customer: str = "", hops: int = 1) -> Response:
        cx.require(request, *ROLES)
        if cx.events() is None:
            return cx.page(request, "message.html", message="No world data configured.")
        from fengkong.console.svg import graph_svg

        hops = min(max(hops, 1), 4)
        found = _rings(cx)
        ring_members = set(found[1]["customer_id"].to_list()) if found else set()
        nodes, edges = neighbourhood(_links(cx), [customer], hops) if customer else ([], [])
        for nd in nodes:
            if nd["kind"] == "person":
                nd["flag"] = nd["label"] in ring_members
                nd["href"] = f"/console/rings/graph?customer={nd['label']}&hops=1"
        return cx.page(request, "graph.html", customer=customer, hops=hops, svg=graph_svg(nodes, edges),
                       n_people=sum(n["kind"] == "person" for n in nodes),
                       n_elements=sum(n["kind"] != "person" for n in nodes), ring=None)

    @router.get("/rings/{ring_id}")
    def ring(request: Request, ring_id: str, msg: str = "") -> Response:
        cx.require(request, *ROLES)
        found = _rings(cx)
        if found is None:
            return cx.page(request, "message.html", message="No world data configured.")
        rs, members = found
        if rs.filter(rs["ring_id"] == ring_id).height == 0:
            return cx.page(request, "message.html", code=404, message="Not found.")
        r, svg = cx.cached(f"ring:{ring_id}", lambda: _ring_view(cx, rs, members, ring_id))
        labels = [lb for lb in store.labels.all("ring") if lb.subject == ring_id]
        return cx.page(request, "ring.html", r=r, svg=svg, msg=msg, labels=labels,
                       published=[e for e in store.lists.entries() if e.reason and f"ring {ring_id}" in e.reason])

    @router.post("/rings/{ring_id}/confirm")
    async def confirm(request: Request, ring_id: str) -> Response:
        s = cx.require(request, "investigator")
        f = await cx.form(request, s)
        found = _rings(cx)
        if found is None or found[0].filter(found[0]["ring_id"] == ring_id).height == 0:
            return cx.page(request, "message.html", code=404, message="Not found.")
        store.labels.add("ring", ring_id, "fraud", source="console", created_by=s.username, pattern="ring")
        store.admin.append(s.username, "ring.confirm", f"ring:{ring_id}", {"note": pii.redact(f.get("note") or "")})
        return cx.redirect(request, f"/console/rings/{ring_id}", "Confirmed")

    @router.post("/rings/{ring_id}/case")
    async def open_case(request: Request, ring_id: str) -> Response:
        s = cx.require(request, "investigator")
        await cx.form(request, s)
        found = _rings(cx)
        if found is None or found[0].filter(found[0]["ring_id"] == ring_id).height == 0:
            return cx.page(request, "message.html", code=404, message="Not found.")
        from fengkong import casework

        r, _svg = cx.cached(f"ring:{ring_id}", lambda: _ring_view(cx, found[0], found[1], ring_id))
        cid = casework.case_from_ring(store, r)
        store.admin.append(s.username, "ring.open_case", f"ring:{ring_id}", {"case": cid})
        return cx.redirect(request, f"/console/rings/{ring_id}", f"case {cid}")

    @router.post("/rings/{ring_id}/publish")
    async def publish(request: Request, ring_id: str) -> Response:
        s = cx.require(request, "investigator")
        await cx.form(request, s)
        found = _rings(cx)
        if found is None:
            return cx.page(request, "message.html", message="No world data configured.")
        from fengkong.fraud.rings import publish_rings

        rs, members = found
        one = rs.filter(rs["ring_id"] == ring_id)
        if one.height == 0:
            return cx.page(request, "message.html", code=404, message="Not found.")
        added = publish_rings(store.lists, cx.events(), one, members.filter(members["ring_id"] == ring_id))
        store.admin.append(s.username, "ring.publish", f"ring:{ring_id}", added)
        return cx.redirect(request, f"/console/rings/{ring_id}",
                           f"Published: {added['members']} members, {added['elements']} elements")
