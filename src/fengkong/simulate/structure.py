"""Population structure: households, large employers, migrants, landlords and legitimate look-alikes of fraud.

Everything here is off by default (every share 0) and draws from its own seeded stream, so a default world
is byte-identical to one generated without this module. ``SimConfig.population("hard")`` turns it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fengkong.simulate import geo, identities
from fengkong.simulate import merchants as M
from fengkong.simulate.config import SimConfig
from fengkong.simulate.credit import DAY_US, HOUR_US, month_index, month_start_day
from fengkong.simulate.population import People, Plan

_STREAM_KEY = 0x535452  # "STR": the structure stream, apart from every other stream of the world


@dataclass
class Structure:
    """What the structure step decided (person indices; -1 = none)."""

    household: np.ndarray  # household number per person, -1 none
    head: np.ndarray  # head person of each household
    tenant_landlord: np.ndarray  # landlord number per person, -1 none
    landlords: int
    spare_phone: int  # first index of the reserved new-phone pool (phone changes)
    spare_phones: int
    spare_card: int
    spare_cards: int
    lookalike: dict[str, np.ndarray] = field(default_factory=dict)  # detail -> person indices


def active(cfg: SimConfig) -> bool:
    """Whether any structure parameter is on."""
    return any(
        getattr(cfg, k) > 0
        for k in (
            "household_share",
            "large_employer_share",
            "migrant_share",
            "tenant_share",
            "back_book_months",
            "lookalike_ring_share",
            "phone_change_share",
            "new_card_share",
            "income_overstate_share",
        )
    )


def stream(seed: int, i: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM_KEY, i)))


def _slots(P: People, person: int) -> range:
    return range(int(P.contacts_offsets[person]), int(P.contacts_offsets[person + 1]))


def apply_people(cfg: SimConfig, plan: Plan, P: People) -> Structure:
    """Change ``P`` in place (regions, IPs, devices, contacts, employers, phone and card pools)."""
    rng = stream(cfg.seed)
    n = plan.customers
    p = plan.persons
    ordinary = np.nonzero(plan.role[:n] == 0)[0]
    rng.shuffle(ordinary)
    # migrants first: the ID number keeps the region of birth, residence (province, IP) moves
    mig = rng.random(p) < cfg.migrant_share
    P.region[mig] = (P.region[mig] + rng.integers(1, geo.N_REGIONS, int(mig.sum()))) % geo.N_REGIONS
    # households of 2..max members: one home (region, IP), often one shared device, each other's phones
    # and a parent's phone among the contacts, money sent to the head's account
    household = np.full(p, -1, np.int64)
    heads: list[int] = []
    k = int(len(ordinary) * cfg.household_share)
    pos = 0
    while pos + 2 <= k:
        size = min(int(rng.integers(2, cfg.household_size_max + 1)), k - pos)
        if size < 2:
            break
        mem = ordinary[pos : pos + size]
        pos += size
        h = int(mem[0])
        household[mem] = len(heads)
        heads.append(h)
        P.region[mem] = P.region[h]
        P.ip[mem] = P.ip[h]
        parent = P.phone_base["outsider"] + int(rng.integers(0, plan.outsiders))
        for m in mem[1:]:
            if rng.random() < 0.5:
                P.device2[m] = P.device[h]  # the family's shared phone or tablet
        for m in mem:
            others = [P.phone_base["person"] + int(x) for x in mem if x != m]
            for j, slot in enumerate(_slots(P, int(m))):
                if j == 0:
                    P.contacts[slot] = parent
                elif j - 1 < len(others):
                    P.contacts[slot] = others[j - 1]
    # large employers (hundreds of staff), colleagues list a team lead's phone
    n_rings = len(plan.ring_sizes)
    n_emp = len(P.employers) - 3 * n_rings
    staff = np.nonzero((P.employer >= 0) & (plan.role == 0))[0]
    staff = staff[rng.random(len(staff)) < cfg.large_employer_share]
    if len(staff):
        n_large = max(1, round(len(staff) / cfg.large_employer_staff))
        which = rng.choice(n_emp, n_large, replace=False)
        emp = rng.integers(0, n_large, len(staff))
        P.employer[staff] = which[emp]
        for e in range(n_large):
            team = staff[emp == e]
            if len(team) < 2:
                continue
            leads = team[: max(1, len(team) // 25)]
            for m in team:
                slots = _slots(P, int(m))
                lead = int(leads[rng.integers(0, len(leads))])
                if lead != m and len(slots):
                    P.contacts[slots[-1]] = P.phone_base["person"] + lead
    # tenants of private landlords
    tenant = np.full(p, -1, np.int64)
    t = np.nonzero(rng.random(n) < cfg.tenant_share)[0]
    landlords = max(1, round(len(t) / cfg.tenants_per_landlord)) if len(t) else 0
    if len(t):
        tenant[t] = rng.integers(0, landlords, len(t))
    # look-alikes of ring members: a ring's (shell) employer, or a ring member's phone among the contacts
    look: dict[str, np.ndarray] = {}
    m = min(round(n * cfg.lookalike_ring_share), len(ordinary) // 4)
    if m and n_rings:
        pick = ordinary[::-1][:m]  # the end of the shuffled list: households come from its start
        ring = rng.integers(0, n_rings, m)
        by_emp = rng.random(m) < 0.5
        for person, r, e in zip(pick.tolist(), ring.tolist(), by_emp.tolist(), strict=True):
            if e:
                P.employer[person] = n_emp + 3 * r
            else:
                members = plan.ring_members[plan.ring_of_member == r]
                slots = _slots(P, person)
                P.contacts[slots[0]] = P.phone_base["person"] + int(members[rng.integers(0, len(members))])
        look["ring_employer"] = np.sort(pick[by_emp])
        look["ring_contact"] = np.sort(pick[~by_emp])
    # reserved pools: new phones and newly bound cards of ordinary repeat applicants
    n_ph = int(n * cfg.phone_change_share * 0.6) + (20 if cfg.phone_change_share > 0 else 0)
    n_cd = int(n * cfg.new_card_share * 0.6) + (20 if cfg.new_card_share > 0 else 0)
    spare_phone = len(P.pii["phone"])
    spare_card = len(P.pii["card"])
    if n_ph:
        have = set(P.pii["phone"])
        P.pii["phone"] = (
            P.pii["phone"] + [x for x in identities.phones(rng, n_ph + 50) if x not in have][:n_ph]
        )
    if n_cd:
        have = set(P.pii["card"])
        P.pii["card"] = P.pii["card"] + [x for x in identities.cards(rng, n_cd + 50) if x not in have][:n_cd]
    return Structure(
        household=household,
        head=np.asarray(heads, np.int64),
        tenant_landlord=tenant,
        landlords=landlords,
        spare_phone=spare_phone,
        spare_phones=len(P.pii["phone"]) - spare_phone,
        spare_card=spare_card,
        spare_cards=len(P.pii["card"]) - spare_card,
        lookalike=look,
    )


def ordinary_lookalikes(cfg: SimConfig, S: Structure, o: dict[str, np.ndarray]) -> None:
    """Changed phones, newly bound cards (on repeat applications) and overstated incomes (changes ``o``)."""
    rng = stream(cfg.seed, 1)
    k = len(o["ts"])
    order = np.lexsort((np.arange(k), o["ts"]))
    _, first = np.unique(o["person"][order], return_index=True)
    repeat = np.ones(k, bool)
    repeat[order[first]] = False
    rows = np.nonzero(repeat)[0]
    ph = rows[rng.random(len(rows)) < cfg.phone_change_share][: S.spare_phones]
    o["phone"][ph] = S.spare_phone + np.arange(len(ph))
    o["tenure"][ph] = rng.integers(0, 3, len(ph))  # a new number is a young number
    cd = rows[rng.random(len(rows)) < cfg.new_card_share][: S.spare_cards]
    o["card"][cd] = S.spare_card + np.arange(len(cd))
    over = rng.random(k) < cfg.income_overstate_share
    o["income_decl"][over] = (
        np.round(o["income_decl"][over] * rng.uniform(2, 5, int(over.sum())) / 10000) * 10000
    ).astype(np.int64)
    S.lookalike["phone_changed"] = np.unique(o["person"][ph])
    S.lookalike["new_card"] = np.unique(o["person"][cd])
    S.lookalike["income_overstated"] = np.unique(o["person"][over])


def back_book_days(cfg: SimConfig) -> int:
    """Days of the back book (ordinary business only) at the start of the world."""
    start = np.datetime64(cfg.start, "D")
    end = (np.datetime64(cfg.start, "M") + np.timedelta64(cfg.back_book_months, "M")).astype("datetime64[D]")
    return int((end - start).astype(np.int64))


def money_segments(w: Any, seg: Any, persons: np.ndarray, fa: np.ndarray) -> None:
    """Monthly rent to landlords and household members' transfers to the head (``w`` is the world run)."""
    S: Structure = w.P.structure
    rng = stream(w.cfg.seed, 2)
    n_months = w.cfg.months + 1
    month0 = month_index(np.array([w.start_day]))[0]
    acc = identities._unique(lambda q: rng.integers(10**10, 10**11, q), max(S.landlords, 1))
    landlord_acc = np.array([f"A{x}" for x in acc.tolist()], dtype=object)
    hh = S.household[persons]
    for kind in ("rent", "family"):
        if kind == "rent":
            who = np.nonzero(S.tenant_landlord[persons] >= 0)[0]
            to = landlord_acc[S.tenant_landlord[persons[who]]] if len(who) else np.zeros(0, object)
        else:
            who = np.nonzero((hh >= 0) & (persons != S.head[np.maximum(hh, 0)]))[0]
            to = w.own_accounts[S.head[hh[who]]] if len(who) else np.zeros(0, object)
        if not len(who):
            continue
        rep = np.repeat(np.arange(len(who)), n_months)
        mon = np.tile(np.arange(n_months), len(who))
        payday = np.repeat(rng.integers(1, 28, len(who)), n_months)
        ts = (month_start_day(month0 + mon) + payday) * DAY_US + rng.integers(
            8 * HOUR_US, 23 * HOUR_US, len(rep)
        )
        ok = (ts > w.a["ts"][fa[who[rep]]]) & (ts < w.end_us)
        rep, ts = rep[ok], ts[ok]
        base = (
            rng.integers(15, 51, len(who)) * 100_000
            if kind == "rent"
            else rng.integers(5, 31, len(who)) * 100_000
        )
        m = len(rep)
        seg(
            np.full(m, -1),
            ts,
            base[rep],
            to[rep],
            np.full(m, "individual", object),
            np.full(m, "person", object),
            np.full(m, None, object),
            app=fa[who[rep]],
        )


def lender_segments(w: Any, seg: Any) -> None:
    """Other lenders' money in the account: multi-head borrowers receive 2–5 loans from distinct other lenders
    in the 1–20 days before each application and repay 2–5 lenders in the 30 days before it; card repayers
    (ordinary look-alikes) repay one lender every month. Transfers carry the lender as counterparty."""
    cfg, a = w.cfg, w.a
    rng = stream(cfg.seed, 3)
    lenders = np.nonzero(w.dir.category == "lender")[0]
    if not len(lenders):
        return
    p = M.payees(w.dir, lenders)
    mh = np.nonzero(a["mh"] & (rng.random(len(a["ts"])) < cfg.multi_head_flow_share))[0]
    for direction, lo, hi in (("in", 1, 21), ("out", 1, 31)):
        cnt = rng.integers(2, 6, len(mh))
        app = np.repeat(mh, cnt)
        m = len(app)
        pick = (
            np.concatenate([rng.choice(len(lenders), c, replace=False) for c in cnt.tolist()]) if m else app
        )
        ts = a["ts"][app] - rng.integers(lo, hi, m) * DAY_US - rng.integers(0, 20 * HOUR_US, m)
        amt = rng.integers(10, 101, m) * (100_000 if direction == "in" else 10_000)
        ok = ts > w.start_us
        app, ts, amt, pick = app[ok], ts[ok], amt[ok], pick[ok]
        seg(
            np.full(len(app), -1),
            ts,
            amt,
            p["ids"][pick],
            p["type"][pick],
            p["cat"][pick],
            p["name"][pick],
            direction=direction,
            app=app,
        )
    _, first = np.unique(a["person"], return_index=True)
    ordinary = a["kind"][first] == 0
    rep = first[ordinary & (rng.random(len(first)) < cfg.card_repayer_share)]
    n_months = cfg.months + 1
    month0 = month_index(np.array([w.start_day]))[0]
    card = rng.integers(0, len(lenders), len(rep))
    r = np.repeat(np.arange(len(rep)), n_months)
    mon = np.tile(np.arange(n_months), len(rep))
    ts = (
        month_start_day(month0 + mon) + np.repeat(rng.integers(1, 28, len(rep)), n_months)
    ) * DAY_US + rng.integers(9 * HOUR_US, 22 * HOUR_US, len(r))
    ok = ts < w.end_us
    r, ts = r[ok], ts[ok]
    pick = card[r]
    seg(
        np.full(len(r), -1),
        ts,
        rng.integers(5, 51, len(r)) * 10_000,
        p["ids"][pick],
        p["type"][pick],
        p["cat"][pick],
        p["name"][pick],
        direction="out",
        app=rep[r],
    )
