"""The people of the world: who they are (plan of pattern roles) and their latent and observed traits.

Everything here is drawn from seeded streams only, so :func:`build_people` (with its plaintext
identities) can be regenerated from the config alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fengkong.simulate import geo, identities
from fengkong.simulate.config import SimConfig

EDUCATION = np.array(["junior_high", "high_school", "college", "bachelor", "master_plus"])
EDU_P = np.array([0.15, 0.30, 0.25, 0.25, 0.05])
EDU_MULT = np.array([0.6, 0.8, 1.0, 1.3, 1.8])
OCCUPATION = np.array(["office_staff", "self_employed", "civil_servant", "professional", "worker", "service",
                       "freelance", "student"])
OCC_P = np.array([0.30, 0.12, 0.06, 0.10, 0.14, 0.14, 0.09, 0.05])
OCC_MULT = np.array([1.0, 1.1, 1.1, 1.4, 0.8, 0.75, 0.9, 0.25])
OCC_EMPLOYED = np.array([True, False, True, True, True, True, False, False])
TIER_MEDIAN_YUAN = {1: 12000.0, 2: 8000.0, 3: 5500.0}
IP_FIRST_OCTETS = np.array([36, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
                            120, 121, 122, 123, 124, 125, 171, 175, 180, 182, 183, 202, 210, 211, 218, 219,
                            220, 221, 222, 223])


@dataclass
class Plan:
    """Counts and pattern roles, fixed before any behaviour is drawn."""

    customers: int
    victims_new: int
    ring_sizes: np.ndarray
    ring_members: np.ndarray  # customer indices, ring by ring
    ring_of_member: np.ndarray
    ring_has_code: np.ndarray
    attacker_apps: np.ndarray  # theft applications per attacker
    attacker_phones: np.ndarray  # 1–2 per attacker
    attacker_devices: np.ndarray  # 1–3 per attacker
    theft_victims: np.ndarray  # person index per theft application (attacker by attacker)
    theft_victim_existing: np.ndarray
    multi_head: np.ndarray  # customer indices
    cash_out_buyers: np.ndarray  # customer indices
    outsiders: int
    role: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # 0 ordinary, 1 ring, …

    @property
    def persons(self) -> int:
        return self.customers + self.victims_new

    @property
    def theft_apps(self) -> int:
        return int(self.attacker_apps.sum())


def make_plan(cfg: SimConfig, rng: np.random.Generator) -> Plan:
    """Decide how many rings/attackers/victims exist and which customers play which role."""
    n = cfg.customers
    target = max(2 * cfg.ring_size_min, round(n * cfg.ring_member_share))
    sizes: list[int] = []
    while sum(sizes) < target or len(sizes) < 2:
        sizes.append(int(rng.integers(cfg.ring_size_min, cfg.ring_size_max + 1)))
    while sum(sizes) > 0.3 * n and len(sizes) > 2:
        sizes.pop()
    if sum(sizes) > 0.3 * n:
        sizes = [cfg.ring_size_min, cfg.ring_size_min]
    ring_sizes = np.array(sizes, dtype=np.int64)
    perm = rng.permutation(n)
    k = int(ring_sizes.sum())
    ring_members = perm[:k]
    ordinary = perm[k:]
    ring_of_member = np.repeat(np.arange(len(ring_sizes)), ring_sizes)
    ring_has_code = rng.random(len(ring_sizes)) < cfg.ring_agent_code_share
    # identity theft: at least 6 applications from at least 2 attackers
    target_t = max(6, round(n * cfg.theft_rate))
    apps: list[int] = []
    while sum(apps) < target_t or len(apps) < 2:
        apps.append(int(rng.integers(1, cfg.attacker_apps_max + 1)))
    attacker_apps = np.array(apps, dtype=np.int64)
    t = int(attacker_apps.sum())
    n_exist = min(round(t * cfg.theft_victim_existing_share), len(ordinary) // 4)
    victims_new = t - n_exist
    rest = ordinary.copy()
    rng.shuffle(rest)
    existing = rest[:n_exist]
    rest = rest[n_exist:]
    victims = np.concatenate([existing, n + np.arange(victims_new)])
    is_existing = np.concatenate([np.ones(n_exist, bool), np.zeros(victims_new, bool)])
    order = rng.permutation(t)
    n_mh = max(5, round(n * cfg.multi_head_share))
    multi_head = np.sort(rest[:n_mh])
    rest = rest[n_mh:]
    n_co = max(4, round(n * (1 - cfg.cash_loan_share) * cfg.cash_out_share))
    cash_out = np.sort(rest[:n_co])
    role = np.zeros(n + victims_new, dtype=np.int8)
    role[ring_members] = 1
    role[n:] = 2  # never-applied victims
    return Plan(
        customers=n, victims_new=victims_new, ring_sizes=ring_sizes, ring_members=ring_members,
        ring_of_member=ring_of_member, ring_has_code=ring_has_code, attacker_apps=attacker_apps,
        attacker_phones=rng.integers(1, 3, len(attacker_apps)),
        attacker_devices=rng.integers(1, 4, len(attacker_apps)),
        theft_victims=victims[order], theft_victim_existing=is_existing[order],
        multi_head=multi_head, cash_out_buyers=cash_out, outsiders=n // 2 + 20, role=role,
    )


@dataclass
class People:
    """Person-level arrays (index = person; customers first, then never-applied victims) and pools."""

    region: np.ndarray
    age: np.ndarray
    male: np.ndarray
    birth: np.ndarray
    risk: np.ndarray  # latent: higher = riskier, standard normal for ordinary people
    education: np.ndarray
    occupation: np.ndarray
    income_fen: np.ndarray
    employer: np.ndarray  # index into the employer pool, -1 none
    device: np.ndarray  # first device index into the device pool
    device2: np.ndarray  # second device or -1
    ip: np.ndarray  # index into the ip pool
    contacts_offsets: np.ndarray
    contacts: np.ndarray  # phone-pool indices
    thin: np.ndarray
    score: np.ndarray  # float, nan = none
    inq90: np.ndarray
    inq30: np.ndarray
    inq7: np.ndarray
    open_loans: np.ndarray
    nonbank: np.ndarray
    max_dpd: np.ndarray
    debt_fen: np.ndarray
    si_months: np.ndarray
    hf_months: np.ndarray
    hf_backpaid: np.ndarray
    phone_tenure: np.ndarray
    # plaintext pools (in memory only; tokenised before writing)
    pii: dict[str, list[str]]
    # pool layout
    phone_base: dict[str, int]
    card_base: dict[str, int]
    devices: list[str]
    device_base: dict[str, int]
    ips: list[str]
    ip_base: dict[str, int]
    employers: list[str]
    structure: Any = None  # fengkong.simulate.structure.Structure when the population structure is on


def _hex_ids(rng: np.random.Generator, n: int) -> list[str]:
    v = identities._unique(lambda k: rng.integers(0, 2**63 - 1, k, dtype=np.int64), n)
    return [f"{x:016x}" for x in v.tolist()]


def _ips(rng: np.random.Generator, n: int) -> list[str]:
    a = rng.choice(IP_FIRST_OCTETS, n)
    b, c, d = rng.integers(0, 256, n), rng.integers(0, 256, n), rng.integers(1, 255, n)
    return [f"{w}.{x}.{y}.{z}" for w, x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), d.tolist(), strict=True)]


def build_people(cfg: SimConfig, plan: Plan, rng: np.random.Generator) -> People:
    """Draw every person's traits, devices, contacts and plaintext identity elements."""
    p = plan.persons
    n = plan.customers
    region = rng.choice(geo.N_REGIONS, p, p=geo.WEIGHT)
    age = np.clip(np.round(rng.gamma(4.0, 3.2, p) + 18), 18, 62).astype(np.int64)
    male = rng.random(p) < 0.52
    risk = rng.standard_normal(p)
    edu = rng.choice(len(EDUCATION), p, p=EDU_P)
    occ = rng.choice(len(OCCUPATION), p, p=OCC_P)
    occ = np.where((occ == 7) & (age > 26), 0, occ)
    risk = risk + np.where(edu <= 1, 0.25, 0.0) - np.where(edu >= 3, 0.25, 0.0)
    tier_med = np.array([TIER_MEDIAN_YUAN[t] for t in geo.TIER[region]])
    income = tier_med * EDU_MULT[edu] * OCC_MULT[occ] * np.exp(rng.normal(0, 0.45, p) - 0.15 * risk)
    income_fen = (np.round(income / 10) * 1000).astype(np.int64)
    n_emp = max(60, n // 25)
    zipf = np.minimum(rng.zipf(1.4, p) - 1, n_emp - 1)
    emp_perm = rng.permutation(n_emp)
    employer = np.where(OCC_EMPLOYED[occ] | (rng.random(p) < 0.2), emp_perm[zipf], -1)
    # bureau, consistent with latent risk
    thin = rng.random(p) < (0.06 + 0.25 * (age < 24))
    score = np.clip(np.round(680 - 55 * risk + rng.normal(0, 30, p)), 300, 900)
    score = np.where(thin, np.nan, score)
    inq90 = rng.poisson(np.exp(0.2 + 0.45 * risk))
    inq30 = rng.binomial(inq90, 0.4)
    inq7 = rng.binomial(inq30, 0.3)
    open_loans = np.where(thin, rng.integers(0, 2, p), rng.poisson(np.exp(0.5 + 0.3 * risk)))
    nonbank = rng.binomial(open_loans, np.clip(0.25 + 0.1 * risk, 0.02, 0.9))
    late = rng.random(p) < 1 / (1 + np.exp(2.6 - 1.2 * risk))
    max_dpd = np.where(late & ~thin, rng.choice([3, 8, 15, 35, 65, 95], p), 0)
    debt_fen = open_loans * rng.integers(500, 3000, p) * 100
    work_years = np.maximum(age - 19, 0)
    has_si = OCC_EMPLOYED[occ] & (rng.random(p) < 0.85) | (rng.random(p) < 0.1)
    si = np.where(has_si, rng.integers(3, 13, p) * np.maximum(work_years, 1) // 2, 0)
    si = np.minimum(si, work_years * 12)
    has_hf = np.isin(occ, [0, 2, 3]) & (rng.random(p) < 0.7)
    hf = np.where(has_hf, np.minimum(si, rng.integers(6, 120, p)), 0)
    hf_back = np.where(has_hf & (rng.random(p) < 0.02), rng.integers(1, 4, p), 0)
    tenure = np.clip(np.floor(rng.gamma(2.0, 30.0, p)), 0, 300).astype(np.int64)
    # pools: phones = persons, attackers, ring agents, complaint agents, outsiders
    n_att_ph = int(plan.attacker_phones.sum())
    n_rings = len(plan.ring_sizes)
    phone_base = {"person": 0, "attacker": p, "agent": p + n_att_ph, "rep": p + n_att_ph + n_rings,
                  "outsider": p + n_att_ph + n_rings + cfg.complaint_agents}
    n_phones = phone_base["outsider"] + plan.outsiders
    card_base = {"person": 0, "theft": p}
    n_cards = p + plan.theft_apps
    # devices: persons (two slots), attackers, ring agents (3 each), cash-out merchants (2 each), spare
    two = rng.random(p) < 0.2
    n_att_dev = int(plan.attacker_devices.sum())
    device_base = {"person": 0, "person2": p, "attacker": 2 * p, "agent": 2 * p + n_att_dev,
                   "merchant": 2 * p + n_att_dev + 3 * n_rings,
                   "spare": 2 * p + n_att_dev + 3 * n_rings + 2 * cfg.cash_out_merchants}
    n_dev = device_base["spare"] + plan.theft_apps
    devices = _hex_ids(rng, n_dev)
    ip_base = {"person": 0, "attacker": p, "agent": p + len(plan.attacker_apps)}
    ips = _ips(rng, ip_base["agent"] + 3 * n_rings)
    # contacts: 3–5 phones, mostly other customers'
    k = rng.integers(3, 6, p)
    offsets = np.concatenate([[0], np.cumsum(k)])
    m = int(offsets[-1])
    other = rng.integers(0, n, m)
    outsider = phone_base["outsider"] + rng.integers(0, plan.outsiders, m)
    contacts = np.where(rng.random(m) < 0.75, other, outsider)
    owner = np.repeat(np.arange(p), k)
    contacts = np.where(contacts == owner, outsider, contacts)
    ident = identities.person_identities(rng, region, age, male, np.datetime64(cfg.start, "D"))
    employers = [f"91{v:016X}" for v in rng.integers(0, 2**62, n_emp + 3 * n_rings).tolist()]
    pii = {"id": ident["id"], "name": ident["name"], "phone": identities.phones(rng, n_phones),
           "card": identities.cards(rng, n_cards)}
    return People(
        region=region, age=age, male=male, birth=ident["birth"], risk=risk, education=edu, occupation=occ,
        income_fen=income_fen, employer=employer, device=np.arange(p),
        device2=np.where(two, p + np.arange(p), -1), ip=np.arange(p), contacts_offsets=offsets,
        contacts=contacts, thin=thin, score=score, inq90=inq90, inq30=inq30, inq7=inq7, open_loans=open_loans,
        nonbank=nonbank, max_dpd=max_dpd, debt_fen=debt_fen, si_months=si, hf_months=hf, hf_backpaid=hf_back,
        phone_tenure=tenure, pii=pii, phone_base=phone_base, card_base=card_base, devices=devices,
        device_base=device_base, ips=ips, ip_base=ip_base, employers=employers,
    )
