"""The online association graph: applicants and identity elements, kept incrementally as events arrive.

Union-find (path compression + union by size) holds cluster membership; each cluster root keeps its
size, recent applications in day buckets and counts of defaulted / blacklisted / risky members; each
node keeps its degree (link events) and distinct-neighbour count. ``read`` answers a decision in
microseconds, ``update`` applies an event once (idempotent by ``event_id``).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from scipy.special import betainc, gammainc

from fengkong.events import TZ
from fengkong.fraud.links import (
    DEFAULT_DPD,
    FIELDS_BY_TYPE,
    KIND_CODE,
    KINDS,
    app_key,
    elem_key,
    transfer_links,
    with_caps,
)

_EPOCH = dt.date(1970, 1, 1)
_ID, _PH, _DV, _EM, _AG, _CT = (KIND_CODE[k] for k in ("id", "ph", "dv", "em", "ag", "ct"))
WINDOW_DAYS = 7
#: Ring evidence (ego network, one hop, bounded in time): the window of recent sharing, the element kinds
#: that can carry it (IP addresses are NAT exits and repeat the device; a shared ID token is identity theft,
#: not a ring), and the significance level of one application's tests (split over its elements, Bonferroni).
EGO_WINDOW_DAYS = 14
EGO_KINDS = frozenset(KIND_CODE[k] for k in ("ph", "dv", "cd", "ag", "ct", "em", "cp"))
#: Kinds whose defaulted users are evidence against a new user: a device, phone, bank card or intermediary code
#: shared with defaulters. An employer or a listed contact shared with a defaulter is not (colleagues, family).
BAD_KINDS = frozenset(KIND_CODE[k] for k in ("ph", "dv", "cd", "ag", "cp"))
_CP = KIND_CODE["cp"]
ALPHA = 1e-3
#: An element used by more than this share of all applicants of the window is infrastructure (a national
#: employer, a carrier gateway), not a group anyone recruited: it carries no ring evidence.
HUB_SHARE = 0.1
#: Window of the other-lender flows seen in the applicant's account (multi-head borrowing, DOMAIN.md §4.3).
LENDER_WINDOW_DAYS = 30

F_DEFAULTED, F_BLACKLISTED, F_RISKY = 1, 2, 4
FLAG_BITS = {"defaulted": F_DEFAULTED, "blacklisted": F_BLACKLISTED, "risky": F_RISKY}

#: Names of the features ``read`` returns, with their meaning (docs/fraud.md lists them too).
FEATURES: dict[str, str] = {
    "graph_cluster_applicants": "Applicants in the cluster this application joins (itself included).",
    "graph_cluster_elements": "Identity elements in that cluster.",
    "graph_cluster_apps_7d": "Other applications in that cluster in the 7 calendar days up to this one.",
    "graph_cluster_defaulted": "Members of that cluster that have reached 30+ days past due.",
    "graph_cluster_blacklisted": "Members of that cluster on a block list.",
    "graph_cluster_risky_elements": "Elements in that cluster marked risky (e.g. an attacker's device).",
    "graph_applicant_known": "The applicant had any link before this event.",
    "graph_device_identities": "Distinct applicants seen on this device before.",
    "graph_phone_identities": "Distinct applicants that used this phone as their own before.",
    "graph_contact_applicants": "Most other applicants that listed one of this application's contacts before.",
    "graph_id_applicants": "Distinct applicant keys seen with this ID token before.",
    "graph_device_new_to_applicant": "This device was never linked to this applicant before.",
    "graph_phone_new_to_applicant": "This phone was never linked to this applicant before.",
    "graph_applicant_devices": "Distinct devices linked to this applicant before.",
    "graph_applicant_phones": "Distinct phones linked to this applicant before.",
    "graph_agent_applicants": "Distinct applicants that came with this intermediary code before.",
    "graph_employer_applicants": "Distinct applicants that declared this employer before.",
    "graph_element_risky": "One of this event's elements is marked risky.",
    "graph_burst_elements": "Elements of this application shared by improbably many other applicants in the last "
                            "14 days (Poisson test against the element's own earlier rate).",
    "graph_burst_peers": "Distinct other applicants that used those bursting elements in the last 14 days.",
    "graph_burst_multi_peers": "Of those, the applicants that used two or more of them (the same people behind "
                               "several bursting elements: a recruited group, not colleagues plus someone's friend).",
    "graph_bad_elements": "Elements of this application whose other applicants are improbably often defaulted or "
                          "blocked (binomial test against the population's rate).",
    "graph_lenders_in_30d": "Distinct other lenders that paid money into the applicant's account in the last 30 days.",
    "graph_lenders_out_30d": "Distinct other lenders / card issuers the applicant paid in the last 30 days.",
}


EGO_FEATURES = ("graph_burst_elements", "graph_burst_peers", "graph_burst_multi_peers", "graph_bad_elements")


def poisson_tail(r: int, lam: float) -> float:
    """P(X >= r) for X ~ Poisson(lam)."""
    return 1.0 if r <= 0 else float(gammainc(r, lam))


def binomial_tail(d: int, n: int, p: float) -> float:
    """P(X >= d) for X ~ Binomial(n, p)."""
    return 1.0 if d <= 0 else 0.0 if d > n else float(betainc(d, n - d + 1, p))


def day_of(ts: dt.datetime) -> int:
    """Business day number (days since 1970-01-01 in Asia/Shanghai)."""
    return (ts.astimezone(TZ).date() - _EPOCH).days


class AssociationGraph:
    """Incremental applicant–element graph with per-cluster statistics.

    Parameters: ``caps`` overrides the hub cap of element kinds (see :mod:`fengkong.fraud.links`).
    """

    def __init__(self, caps: Mapping[str, int] | None = None) -> None:
        self.caps = with_caps(dict(caps or {}))
        self._cap_by_code = [self.caps[k] for k in KINDS]
        self._idx: dict[str, int] = {}
        self._parent: list[int] = []
        self._kind: bytearray = bytearray()  # 255 = applicant, else KIND_CODE
        self._flags: bytearray = bytearray()
        self._deg: list[int] = []  # link events
        self._nbr: list[int] = []  # distinct neighbours
        self._c_apps: list[int] = []  # per root: applicants
        self._c_elems: list[int] = []  # per root: elements
        self._c_flag: list[list[int]] = [[], [], []]  # per root: defaulted, blacklisted, risky
        self._buckets: dict[int, dict[int, int]] = {}  # root -> {day: applications}
        self._edges: dict[int, bool] = {}  # (app << 32 | elem) -> unioned into the cluster
        self._app_kind: dict[int, int] = {}  # (app << 4 | kind code) -> distinct elements of that kind
        self._seen: set[str] = set()
        self.events_applied = 0
        # ego evidence: per element its recent links (day, applicant) and distinct recent applicants, first
        # day and bad (defaulted or blocked) applicants; per applicant its elements; population counts
        self._recent: dict[int, deque[tuple[int, int]]] = {}
        self._recent_n: dict[int, dict[int, int]] = {}
        self._first_day: dict[int, int] = {}
        self._elem_bad: dict[int, int] = {}
        self._adj: dict[int, list[int]] = {}
        self._apps = 0
        self._bad_apps = 0
        self._lflow: dict[str, deque[tuple[int, bool, str]]] = {}  # customer -> (day, inflow, lender)
        self._win: deque[tuple[int, int]] = deque()  # applications of the window (day, applicant)
        self._win_n: dict[int, int] = {}

    # ------------------------------------------------------------------ structure

    def __len__(self) -> int:
        return len(self._parent)

    @property
    def n_elements(self) -> int:
        return len(self._parent) - self.n_applicants

    @property
    def n_applicants(self) -> int:
        return self._kind.count(255)

    @property
    def n_edges(self) -> int:
        return len(self._edges)

    def _node(self, key: str, kind: int) -> int:
        i = self._idx.get(key)
        if i is not None:
            return i
        i = len(self._parent)
        self._idx[key] = i
        self._parent.append(i)
        self._kind.append(kind)
        self._flags.append(0)
        self._deg.append(0)
        self._nbr.append(0)
        self._apps += kind == 255
        self._c_apps.append(1 if kind == 255 else 0)
        self._c_elems.append(0 if kind == 255 else 1)
        for lst in self._c_flag:
            lst.append(0)
        return i

    def _find(self, i: int) -> int:
        parent = self._parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def _union(self, a: int, b: int) -> int:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return ra
        size_a = self._c_apps[ra] + self._c_elems[ra]
        size_b = self._c_apps[rb] + self._c_elems[rb]
        if size_a < size_b:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._c_apps[ra] += self._c_apps[rb]
        self._c_elems[ra] += self._c_elems[rb]
        for lst in self._c_flag:
            lst[ra] += lst[rb]
        small = self._buckets.pop(rb, None)
        if small:
            big = self._buckets.get(ra)
            if big is None:
                self._buckets[ra] = small
            else:
                if len(big) < len(small):
                    big, small = small, big
                    self._buckets[ra] = big
                for d, c in small.items():
                    big[d] = big.get(d, 0) + c
        return ra

    # ------------------------------------------------------------------ events

    @staticmethod
    def _elements(event: Mapping[str, Any]) -> list[tuple[int, str]]:
        et = event["event_type"]
        fields = FIELDS_BY_TYPE.get(et, ())
        if et == "transfer" and not transfer_links(event):
            return []
        out: list[tuple[int, str]] = []
        for lf in fields:
            v = event.get(lf.field)
            if not v:
                continue
            code = KIND_CODE[lf.kind]
            if isinstance(v, list):
                out.extend((code, elem_key(lf.kind, x)) for x in v if x)
            else:
                out.append((code, elem_key(lf.kind, v)))
        return out

    def update(self, event: Mapping[str, Any]) -> bool:
        """Apply one validated event; returns False when its ``event_id`` was already applied."""
        eid = event["event_id"]
        if eid in self._seen:
            return False
        self._seen.add(eid)
        self.events_applied += 1
        et = event["event_type"]
        cid = event.get("customer_id")
        if not cid:
            return True
        if et == "transfer" and event.get("counterparty_category") == "lender" and event.get("counterparty_id"):
            q = self._lflow.setdefault(cid, deque())
            day = day_of(event["ts"])
            q.append((day, event.get("direction") == "in", event["counterparty_id"]))
            while q and q[0][0] <= day - LENDER_WINDOW_DAYS:
                q.popleft()
        if et == "repayment":
            dpd = event.get("dpd")
            if dpd is not None and dpd >= DEFAULT_DPD:
                self.flag(app_key(cid), "defaulted")
            return True
        elems = self._elements(event)
        if not elems and et != "application":
            return True
        a = self._node(app_key(cid), 255)
        edges, nbr, deg, caps, app_kind = self._edges, self._nbr, self._deg, self._cap_by_code, self._app_kind
        day = day_of(event["ts"])
        for code, key in elems:
            e = self._node(key, code)
            deg[a] += 1
            deg[e] += 1
            if code in EGO_KINDS:
                self._link_recent(e, a, day)
            ek = (a << 32) | e
            if ek in edges:
                continue
            self._adj.setdefault(a, []).append(e)
            if self._flags[a] & (F_DEFAULTED | F_BLACKLISTED):
                self._elem_bad[e] = self._elem_bad.get(e, 0) + 1
            join = nbr[e] < caps[code]
            edges[ek] = join
            nbr[e] += 1
            nbr[a] += 1
            ak = (a << 4) | code
            app_kind[ak] = app_kind.get(ak, 0) + 1
            if join:
                self._union(a, e)
        if et == "application":
            self._win.append((day, a))
            self._win_n[a] = self._win_n.get(a, 0) + 1
            self._prune_window(day)
            r = self._find(a)
            b = self._buckets.get(r)
            if b is None:
                self._buckets[r] = {day: 1}
            else:
                b[day] = b.get(day, 0) + 1
                if len(b) > 2 * WINDOW_DAYS:
                    for d in [d for d in b if d <= day - WINDOW_DAYS]:
                        del b[d]
        return True

    def flag(self, key: str, what: str) -> None:
        """Mark a node (``c:<customer_id>`` or ``<kind>:<value>``) defaulted, blacklisted or risky.

        Unknown nodes are created, so a list entry loaded before its first event still counts.
        """
        bit = FLAG_BITS[what]
        kind = 255 if key.startswith("c:") else KIND_CODE.get(key.split(":", 1)[0])
        if kind is None:
            raise ValueError(f"node key {key!r} has no known kind prefix (c:, {', '.join(k + ':' for k in KINDS)})")
        i = self._node(key, kind)
        if self._flags[i] & bit:
            return
        bad = F_DEFAULTED | F_BLACKLISTED
        if kind == 255 and bit & bad and not self._flags[i] & bad:
            self._bad_apps += 1
            for e in self._adj.get(i, ()):
                self._elem_bad[e] = self._elem_bad.get(e, 0) + 1
        self._flags[i] |= bit
        self._c_flag[bit.bit_length() - 1][self._find(i)] += 1

    def flagged(self, key: str, what: str) -> bool:
        i = self._idx.get(key)
        return i is not None and bool(self._flags[i] & FLAG_BITS[what])

    def _link_recent(self, e: int, a: int, day: int) -> None:
        q = self._recent.get(e)
        if q is None:
            q = self._recent[e] = deque()
            self._recent_n[e] = {}
            self._first_day[e] = day
        q.append((day, a))
        cnt = self._recent_n[e]
        cnt[a] = cnt.get(a, 0) + 1
        self._prune(e, day)

    def _prune(self, e: int, day: int) -> None:
        """Drop links of ``e`` older than the ego window ending at ``day`` (time only moves forward)."""
        _drop_before(self._recent[e], self._recent_n[e], day - EGO_WINDOW_DAYS)

    def _prune_window(self, day: int) -> None:
        _drop_before(self._win, self._win_n, day - EGO_WINDOW_DAYS)

    def _ego(self, a: int | None, elems: list[tuple[int, int, bool]], day: int) -> dict[str, int]:
        """Ring evidence of one application from its elements (node, kind code, already linked to ``a``).

        Burst: the distinct other applicants ``r`` that used the element in the last 14 days against a Poisson
        rate from the element's history before the window, with one sharer per window as the prior (a new
        element is assumed to have one). Bad: the element's other applicants that are defaulted or blocked
        against a binomial at the population's rate. Each test at ALPHA / (elements tested).
        """
        tested = [(e, code, linked) for e, code, linked in elems if code in EGO_KINDS]
        out = dict.fromkeys(EGO_FEATURES, 0)
        if not tested:
            return out
        level = ALPHA / len(tested)
        self._prune_window(day)
        hub = HUB_SHARE * (len(self._win_n) + 1)
        p0 = (self._bad_apps + 1) / (self._apps + 2)
        a_bad = a is not None and bool(self._flags[a] & (F_DEFAULTED | F_BLACKLISTED))
        seen: dict[int, int] = {}
        for e, code, linked in tested:
            cnt = self._recent_n.get(e)
            if cnt is not None:
                self._prune(e, day)
                r = len(cnt) - (1 if a is not None and a in cnt else 0)
                n_other = self._nbr[e] - (1 if linked else 0)
                n_old = max(n_other - r, 0)
                age_old = max(day - EGO_WINDOW_DAYS - self._first_day[e], 0)
                lam = EGO_WINDOW_DAYS * (n_old + 1) / (age_old + EGO_WINDOW_DAYS)
                if r and r <= hub and poisson_tail(r, lam) < level:
                    out["graph_burst_elements"] += 1
                    for b in cnt:
                        if b != a:
                            seen[b] = seen.get(b, 0) + 1
            if code not in BAD_KINDS:
                continue
            d = self._elem_bad.get(e, 0) - (1 if linked and a_bad else 0)
            n_other = self._nbr[e] - (1 if linked else 0)
            if d and binomial_tail(d, n_other, p0) < level:
                out["graph_bad_elements"] += 1
        out["graph_burst_peers"] = len(seen)
        out["graph_burst_multi_peers"] = sum(1 for k in seen.values() if k >= 2)
        return out

    # ------------------------------------------------------------------ reads

    def read(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Features of ``event`` against the graph as it stands before the event (no state change).

        Cluster figures describe the cluster the event's applicant would be in once its links are
        applied: the union of the clusters of the applicant and of each element it would join.
        """
        idx, nbr, edges, caps, find = self._idx, self._nbr, self._edges, self._cap_by_code, self._find
        cid = event.get("customer_id") or ""
        a = idx.get(app_key(cid))
        roots: set[int] = set()
        new_app = a is None
        if a is not None:
            roots.add(find(a))
        out: dict[str, Any] = {
            "graph_applicant_known": a is not None and nbr[a] > 0,
            "graph_device_identities": 0, "graph_phone_identities": 0, "graph_id_applicants": 0,
            "graph_device_new_to_applicant": False, "graph_phone_new_to_applicant": False,
            "graph_agent_applicants": 0, "graph_employer_applicants": 0, "graph_element_risky": False,
            "graph_contact_applicants": 0,
        }
        flags = self._flags
        ego: list[tuple[int, int, bool]] = []
        for code, key in self._elements(event):
            e = idx.get(key)
            if e is None:
                if code == _DV:
                    out["graph_device_new_to_applicant"] = True
                elif code == _PH:
                    out["graph_phone_new_to_applicant"] = True
                continue
            linked = a is not None and ((a << 32) | e) in edges
            ego.append((e, code, linked))
            if (linked and edges[(a << 32) | e]) or (not linked and nbr[e] < caps[code]):
                roots.add(find(e))
            if flags[e] & F_RISKY:
                out["graph_element_risky"] = True
            n_other = nbr[e] - (1 if linked else 0)
            if code == _DV:
                out["graph_device_identities"] = max(out["graph_device_identities"], n_other)
                out["graph_device_new_to_applicant"] |= not linked
            elif code == _PH:
                out["graph_phone_identities"] = max(out["graph_phone_identities"], n_other)
                out["graph_phone_new_to_applicant"] |= not linked
            elif code == _CT:
                out["graph_contact_applicants"] = max(out["graph_contact_applicants"], n_other)
            elif code == _ID:
                out["graph_id_applicants"] = max(out["graph_id_applicants"], n_other)
            elif code == _AG:
                out["graph_agent_applicants"] = n_other
            elif code == _EM:
                out["graph_employer_applicants"] = n_other
        if a is not None:  # private accounts the applicant sent money to before: a shared fast receiver
            kind = self._kind
            ego.extend((e, _CP, True) for e in self._adj.get(a, ()) if kind[e] == _CP)
        out["graph_applicant_devices"] = 0 if a is None else self._app_kind.get((a << 4) | _DV, 0)
        out["graph_applicant_phones"] = 0 if a is None else self._app_kind.get((a << 4) | _PH, 0)
        day = day_of(event["ts"]) if event.get("ts") is not None else None
        out.update(self._cluster_stats(roots, day))
        if day is not None:
            out.update(self._ego(a, ego, day))
        else:
            out.update(dict.fromkeys(EGO_FEATURES, 0))
        out["graph_cluster_applicants"] += 1 if new_app else 0
        lin: set[str] = set()
        lout: set[str] = set()
        if day is not None:
            for d, inflow, lender in self._lflow.get(cid, ()):
                if day - LENDER_WINDOW_DAYS < d <= day:
                    (lin if inflow else lout).add(lender)
        out["graph_lenders_in_30d"], out["graph_lenders_out_30d"] = len(lin), len(lout)
        return out

    def _cluster_stats(self, roots: Iterable[int], day: int | None) -> dict[str, int]:
        apps = elems = apps7 = 0
        fl = [0, 0, 0]
        for r in roots:
            apps += self._c_apps[r]
            elems += self._c_elems[r]
            for j in range(3):
                fl[j] += self._c_flag[j][r]
            b = self._buckets.get(r)
            if b and day is not None:
                apps7 += sum(c for d, c in b.items() if day - WINDOW_DAYS < d <= day)
        return {"graph_cluster_applicants": apps, "graph_cluster_elements": elems, "graph_cluster_apps_7d": apps7,
                "graph_cluster_defaulted": fl[0], "graph_cluster_blacklisted": fl[1],
                "graph_cluster_risky_elements": fl[2]}

    def read_update(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Read the features of ``event`` and then apply it (the decision path)."""
        out = self.read(event)
        self.update(event)
        return out

    def cluster(self, key: str, as_of: dt.datetime | None = None) -> dict[str, int]:
        """Statistics of the cluster containing node ``key`` (e.g. ``c:<customer_id>``)."""
        i = self._idx.get(key)
        if i is None:
            raise KeyError(f"node {key!r} is not in the graph")
        day = day_of(as_of) if as_of is not None else None
        stats = self._cluster_stats([self._find(i)], day)
        return {k.removeprefix("graph_cluster_").removesuffix("_elements") if k.endswith("risky_elements")
                else k.removeprefix("graph_cluster_"): v for k, v in stats.items()}

    def component_labels(self) -> dict[str, str]:
        """Every node key mapped to the smallest node key of its cluster (a canonical label)."""
        keys = list(self._idx)
        roots = [self._find(self._idx[k]) for k in keys]
        best: dict[int, str] = {}
        for k, r in zip(keys, roots, strict=True):
            if r not in best or k < best[r]:
                best[r] = k
        return {k: best[r] for k, r in zip(keys, roots, strict=True)}

    def node_stats(self, key: str) -> tuple[int, int]:
        """(degree, distinct neighbours) of a node."""
        i = self._idx[key]
        return self._deg[i], self._nbr[i]


def _drop_before(q: Any, cnt: dict, cut: int) -> None:
    """Pop the (day, item) entries of ``q`` at or before day ``cut`` and decrement their counts in ``cnt``."""
    while q and q[0][0] <= cut:
        _, b = q.popleft()
        c = cnt[b] - 1
        if c:
            cnt[b] = c
        else:
            del cnt[b]
