"""Applications: ordinary customers, debt-bearing ring members and identity-theft attackers.

Each builder returns a dict of equal-length column arrays (internal names) plus contact lists as
(lengths, flat phone-pool indices); :func:`concat` joins them.
"""

from __future__ import annotations

import numpy as np

from fengkong.simulate import geo
from fengkong.simulate.config import SimConfig
from fengkong.simulate.credit import DAY_US, HOUR_US, time_of_day
from fengkong.simulate.population import People, Plan

N_PARTNERS = 8
N_ORDINARY_AGENT_CODES = 60  # legitimate referral codes; ring codes follow in the same format
KIND_ORDINARY, KIND_RING, KIND_THEFT = 0, 1, 2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _calibrated_offset(x: np.ndarray, target: float) -> float:
    """Offset c with mean(sigmoid(c + x)) = target (bisection)."""
    lo, hi = -15.0, 5.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if _sigmoid(mid + x).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _common(rng: np.random.Generator, P: People, pi: np.ndarray, product: np.ndarray) -> dict[str, np.ndarray]:
    """Fields of an honest application by person ``pi`` (overridden by the fraud builders)."""
    k = len(pi)
    inc = P.income_fen[pi]
    limit = np.clip(np.round(inc / 100 * np.exp(rng.normal(0.3, 0.4, k)) / 500) * 500, 1000, 50000) * 100
    cash = np.clip(np.round(rng.lognormal(np.log(12000), 0.7, k) / 1000) * 1000, 1000, 200000) * 100
    channel = rng.choice(5, k, p=[0.6, 0.15, 0.15, 0.08, 0.02])
    region = P.region[pi]
    travel = rng.random(k) < 0.08
    ip_region = np.where(travel, rng.choice(geo.N_REGIONS, k, p=geo.WEIGHT), region)
    dev = np.where((P.device2[pi] >= 0) & (rng.random(k) < 0.4), P.device2[pi], P.device[pi])
    return {
        "person": pi, "product": product,
        "amount": np.where(product == 1, cash, limit).astype(np.int64),
        "term": np.where(product == 1, rng.choice([3, 6, 12, 24], k, p=[0.15, 0.3, 0.4, 0.15]), 12),
        "phone": P.phone_base["person"] + pi, "card": P.card_base["person"] + pi, "device": dev,
        "ip": P.ip[pi], "channel": channel, "partner": np.where(channel == 3, rng.integers(0, N_PARTNERS, k), -1),
        "region": region,
        "income_decl": (np.round(inc * np.exp(rng.normal(0.05, 0.1, k)) / 10000) * 10000).astype(np.int64),
        "employer": P.employer[pi], "occupation": P.occupation[pi], "education": P.education[pi],
        "ip_region": ip_region,
        "lat": geo.LAT[ip_region] + rng.normal(0, 0.05, k), "lon": geo.LON[ip_region] + rng.normal(0, 0.05, k),
        "agent": np.where(rng.random(k) < 0.03, rng.integers(0, N_ORDINARY_AGENT_CODES, k), -1),
        "doc_proof": rng.random(k) < 0.2, "doc_edited": rng.random(k) < 0.005,
        "liveness": rng.beta(20, 1.5, k), "face": rng.beta(18, 1.5, k),
        "emulator": rng.random(k) < 0.003, "rooted": rng.random(k) < 0.01, "proxy": rng.random(k) < 0.02,
        "pnm": rng.random(k) < 0.97, "tenure": P.phone_tenure[pi],
        "form_fill": np.maximum(np.round(rng.lognormal(np.log(240), 0.5, k)), 20).astype(np.int64),
        "score": P.score[pi], "inq7": P.inq7[pi], "inq30": P.inq30[pi], "inq90": P.inq90[pi],
        "open_loans": P.open_loans[pi], "nonbank": P.nonbank[pi], "thin": P.thin[pi], "max_dpd": P.max_dpd[pi],
        "debt": P.debt_fen[pi], "si": P.si_months[pi], "hf": P.hf_months[pi], "hf_back": P.hf_backpaid[pi],
        "kind": np.zeros(k, np.int64), "group": np.full(k, -1), "late_p": np.zeros(k),
        "default_seq": np.full(k, 99), "mh": np.zeros(k, bool), "co": np.zeros(k, bool),
        "deepfake": np.zeros(k, bool), "victim_existing": np.zeros(k, bool),
    }


def _contacts_of(P: People, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lens = P.contacts_offsets[pi + 1] - P.contacts_offsets[pi]
    starts = np.repeat(P.contacts_offsets[pi], lens)
    within = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    return lens, P.contacts[starts + within]


def ordinary(cfg: SimConfig, plan: Plan, P: People, rng: np.random.Generator, start_us: int,
             total_days: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Ordinary customers' applications (1–2 each). Returns (columns, contact lengths, contacts)."""
    n = plan.customers
    cust = np.setdiff1d(np.arange(n), plan.ring_members)
    m = len(cust)
    day = np.floor(rng.beta(1.0, 1.6, m) * (total_days - 1)).astype(np.int64)
    ev = np.isin(cust, plan.theft_victims[plan.theft_victim_existing])
    day[ev] = rng.integers(0, max(1, total_days - 64), int(ev.sum()))  # registered before the theft
    mh = np.isin(cust, plan.multi_head)
    co = np.isin(cust, plan.cash_out_buyers)
    day[co] = np.minimum(day[co], max(1, total_days - 20))  # cash-out users need time to use the line
    rep = (rng.random(m) < np.where(mh, 0.6, cfg.repeat_application_share)) & (day < total_days - 9)
    day2 = day + rng.integers(7, np.maximum(8, total_days - day))
    rep &= day2 < total_days
    pi = np.concatenate([cust, cust[rep]])
    days = np.concatenate([day, day2[rep]])
    first = np.concatenate([np.ones(m, bool), np.zeros(int(rep.sum()), bool)])
    k = len(pi)
    mh_k, co_k = np.isin(pi, plan.multi_head), np.isin(pi, plan.cash_out_buyers)
    cash_p = np.where(mh_k, 0.8, cfg.cash_loan_share)
    product = (rng.random(k) < cash_p).astype(np.int64)
    product[co_k & first] = 0
    product[mh_k & first] = 1
    cols = _common(rng, P, pi, product)
    cols["ts"] = start_us + days * DAY_US + time_of_day(rng, k)
    second = ~first
    for f in ("inq7", "inq30", "inq90"):
        cols[f] = cols[f] + second.astype(np.int64)
    # multi-head borrowers: many hard inquiries, many (non-bank) loans
    j = np.nonzero(mh_k)[0]
    q = len(j)
    cols["inq7"][j] = rng.integers(2, 9, q)
    cols["inq30"][j] = cols["inq7"][j] + rng.integers(3, 10, q)
    cols["inq90"][j] = cols["inq30"][j] + rng.integers(3, 15, q)
    cols["open_loans"][j] = rng.integers(4, 13, q)
    cols["nonbank"][j] = np.minimum(cols["open_loans"][j], rng.integers(3, 11, q))
    cols["debt"][j] = cols["open_loans"][j] * rng.integers(800, 3000, q) * 100
    risk = P.risk[pi] + 0.8 * mh_k + 0.4 * P.thin[pi] + 0.5 * co_k
    c = _calibrated_offset(1.0 * risk, cfg.base_bad_rate)
    bad = rng.random(k) < _sigmoid(c + 1.0 * risk)
    cols["default_seq"] = np.where(bad, rng.choice([1, 2, 3], k, p=[0.5, 0.3, 0.2]), 99)
    cols["late_p"] = np.clip(cfg.late_payment_share * np.exp(0.6 * risk - 0.18), 0, 0.9)
    cols["mh"], cols["co"] = mh_k, co_k
    lens, flat = _contacts_of(P, pi)
    return cols, lens, flat


def rings(cfg: SimConfig, plan: Plan, P: People, rng: np.random.Generator, start_us: int, total_days: int,
          agent_accounts: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, list[dict]]:
    """Debt-bearing rings: packaged thin-file members, shared agent devices/contacts/employers."""
    parts, lens_l, flat_l, rings_info = [], [], [], []
    n_emp_pool = len(P.employers) - 3 * len(plan.ring_sizes)
    end_us = start_us + total_days * DAY_US
    for r in range(len(plan.ring_sizes)):
        members = plan.ring_members[plan.ring_of_member == r]
        s = len(members)
        home = int(rng.choice(geo.N_REGIONS, p=geo.WEIGHT))
        n_dev = int(rng.integers(1, 4))
        shells = n_emp_pool + 3 * r + np.arange(int(rng.integers(1, 4)))
        t0 = start_us + int(rng.integers(1, max(2, total_days - 75))) * DAY_US
        # the members' true profile: thin file, low income, recent back-paid housing fund
        P.thin[members] = True
        P.score[members] = np.nan
        P.income_fen[members] = rng.integers(25, 46, s) * 10000
        P.open_loans[members] = rng.integers(0, 2, s)
        P.nonbank[members] = P.open_loans[members]
        P.max_dpd[members] = 0
        P.debt_fen[members] = P.open_loans[members] * rng.integers(300, 900, s) * 100
        n_apps = rng.integers(cfg.ring_apps_min, cfg.ring_apps_max + 1, s)
        mi = np.repeat(np.arange(s), n_apps)
        app_no = np.arange(len(mi)) - np.repeat(np.cumsum(n_apps) - n_apps, n_apps)
        gaps = rng.integers(cfg.ring_gap_days_min, cfg.ring_gap_days_max + 1, len(mi)) * DAY_US
        gaps = gaps + rng.integers(-6 * HOUR_US, 6 * HOUR_US, len(mi))
        gaps[app_no == 0] = 0
        c = np.cumsum(gaps)
        cum = c - np.repeat(c[np.cumsum(n_apps) - n_apps], n_apps)  # time since the member's first app
        first = t0 + rng.integers(0, cfg.ring_burst_days * DAY_US, s)
        ts = first[mi] + cum
        keep = (ts < end_us - DAY_US) | (app_no == 0)
        mi, app_no, ts = mi[keep], app_no[keep], np.minimum(ts[keep], end_us - DAY_US)
        k = len(mi)
        pi = members[mi]
        cols = _common(rng, P, pi, np.ones(k, np.int64))
        cols["ts"] = ts
        cols["amount"] = rng.integers(20, 51, k) * 100000
        cols["term"] = rng.choice([12, 24], k)
        on_agent = rng.random(k) < cfg.ring_device_share
        cols["device"] = np.where(on_agent, P.device_base["agent"] + 3 * r + rng.integers(0, n_dev, k),
                                  cols["device"])
        cols["ip"] = np.where(on_agent, P.ip_base["agent"] + 3 * r + rng.integers(0, n_dev, k), cols["ip"])
        cols["region"] = np.where(rng.random(k) < 0.7, home, cols["region"])
        cols["ip_region"] = np.full(k, home)
        cols["lat"] = geo.LAT[home] + rng.normal(0, 0.03, k)
        cols["lon"] = geo.LON[home] + rng.normal(0, 0.03, k)
        cols["income_decl"] = (np.round(P.income_fen[pi] * rng.uniform(3, 8, k) / 10000) * 10000).astype(np.int64)
        cols["employer"] = rng.choice(shells, k)
        cols["occupation"] = np.zeros(k, np.int64)
        cols["education"] = rng.choice([1, 2], k)
        code = N_ORDINARY_AGENT_CODES + r
        cols["agent"] = np.full(k, code if plan.ring_has_code[r] else -1)
        cols["doc_proof"] = np.ones(k, bool)
        cols["doc_edited"] = rng.random(k) < cfg.ring_forged_share
        cols["pnm"] = rng.random(k) < 0.95
        cols["form_fill"] = np.round(rng.lognormal(np.log(150), 0.3, k)).astype(np.int64)
        cols["channel"] = rng.choice([3, 1, 0], k, p=[0.5, 0.3, 0.2])
        cols["partner"] = np.where(cols["channel"] == 3, rng.integers(0, N_PARTNERS, k), -1)
        cols["score"] = np.full(k, np.nan)
        cols["thin"] = np.ones(k, bool)
        cols["inq7"] = rng.integers(3, 10, k) + 2 * app_no
        cols["inq30"] = cols["inq7"] + rng.integers(2, 9, k)
        cols["inq90"] = cols["inq30"] + rng.integers(0, 6, k)
        cols["open_loans"] = P.open_loans[pi] + app_no
        cols["nonbank"] = cols["open_loans"]
        cols["si"] = rng.integers(6, 13, k)
        cols["hf_back"] = rng.integers(6, 13, k)
        cols["hf"] = cols["hf_back"] + rng.integers(0, 3, k)
        cols["kind"] = np.full(k, KIND_RING)
        cols["group"] = np.full(k, r)
        cols["default_seq"] = np.where(rng.random(k) < 0.7, 1, 2)
        parts.append(cols)
        # contacts: the agent's phone and 2–3 fellow members (+ sometimes an outsider)
        nc = rng.integers(2, 4, k)
        outs = (rng.random(k) < 0.3).astype(np.int64)
        lens = 1 + nc + outs
        flat = np.empty(int(lens.sum()), np.int64)
        pos = 0
        for i in range(k):  # per ring member application (small), fine to loop
            others = members[members != pi[i]]
            pick = rng.choice(others, min(int(nc[i]), len(others)), replace=False) if len(others) else []
            row = [P.phone_base["agent"] + r, *(P.phone_base["person"] + np.asarray(pick, np.int64)).tolist()]
            if outs[i]:
                row.append(P.phone_base["outsider"] + int(rng.integers(0, plan.outsiders)))
            lens[i] = len(row)
            flat[pos:pos + len(row)] = row
            pos += len(row)
        lens_l.append(lens)
        flat_l.append(flat[:pos])
        rings_info.append({"members": members, "agent_account": agent_accounts[r], "has_code": bool(
            plan.ring_has_code[r])})
    cols = concat(parts)
    return cols, np.concatenate(lens_l), np.concatenate(flat_l), rings_info


def theft(cfg: SimConfig, plan: Plan, P: People, rng: np.random.Generator, start_us: int, total_days: int,
          reg_ts: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Identity theft: attackers apply in victims' names from their own phones and devices."""
    A = len(plan.attacker_apps)
    a = np.repeat(np.arange(A), plan.attacker_apps)
    k = len(a)
    victims = plan.theft_victims
    last_day = max(1, total_days - 62)
    t0 = rng.integers(0, max(1, last_day - 10), A)
    day = t0[a] + rng.integers(0, 11, k)
    ts = start_us + day * DAY_US + time_of_day(rng, k, night_share=0.7)
    existing = plan.theft_victim_existing
    # an existing customer is attacked after registering
    after = reg_ts[np.where(existing, victims, 0)] + rng.integers(1, 10, k) * DAY_US
    ts = np.where(existing, np.maximum(ts, after), ts)
    ts = np.minimum(ts, start_us + last_day * DAY_US + time_of_day(rng, k))
    cols = _common(rng, P, victims, np.ones(k, np.int64))
    cols["ts"] = ts
    dev_off = np.concatenate([[0], np.cumsum(plan.attacker_devices)[:-1]])
    ph_off = np.concatenate([[0], np.cumsum(plan.attacker_phones)[:-1]])
    if cfg.attacker_device_reuse:
        cols["device"] = P.device_base["attacker"] + dev_off[a] + rng.integers(0, plan.attacker_devices[a])
    else:
        cols["device"] = P.device_base["spare"] + np.arange(k)
    cols["phone"] = P.phone_base["attacker"] + ph_off[a] + rng.integers(0, plan.attacker_phones[a])
    cols["card"] = P.card_base["theft"] + np.arange(k)
    cols["ip"] = P.ip_base["attacker"] + a
    far = geo.far_region(rng, P.region[victims])
    cols["ip_region"] = far
    cols["lat"] = geo.LAT[far] + rng.normal(0, 0.05, k)
    cols["lon"] = geo.LON[far] + rng.normal(0, 0.05, k)
    cols["amount"] = rng.integers(10, 51, k) * 100000
    cols["term"] = rng.choice([6, 12, 12, 24], k)
    cols["income_decl"] = np.round(rng.uniform(6000, 20000, k) / 100).astype(np.int64) * 10000
    cols["channel"] = rng.choice([0, 1], k, p=[0.6, 0.4])
    cols["partner"] = np.full(k, -1)
    cols["agent"] = np.full(k, -1)
    deep = rng.random(k) < cfg.deepfake_pass_share
    cols["liveness"] = np.where(deep, rng.beta(20, 1.5, k), rng.uniform(0.15, 0.65, k))
    cols["face"] = np.where(deep, rng.beta(18, 1.5, k), rng.uniform(0.3, 0.75, k))
    cols["emulator"] = rng.random(k) < np.where(deep, 0.1, 0.35)
    cols["rooted"] = rng.random(k) < 0.3
    cols["proxy"] = rng.random(k) < 0.4
    cols["pnm"] = rng.random(k) < 0.1
    cols["tenure"] = rng.integers(0, 4, k)
    cols["form_fill"] = rng.integers(15, 71, k)
    burst = rng.integers(2, 7, k)
    cols["inq7"] = cols["inq7"] + burst
    cols["inq30"] = cols["inq30"] + burst
    cols["inq90"] = cols["inq90"] + burst
    cols["doc_proof"] = rng.random(k) < 0.1
    cols["doc_edited"] = rng.random(k) < 0.05
    cols["kind"] = np.full(k, KIND_THEFT)
    cols["group"] = a
    cols["default_seq"] = np.ones(k, np.int64)
    cols["deepfake"] = deep
    cols["victim_existing"] = existing.copy()
    lens = rng.integers(3, 6, k)  # attackers do not know the victim's contacts: made-up numbers
    flat = P.phone_base["outsider"] + rng.integers(0, plan.outsiders, int(lens.sum()))
    return cols, lens, flat


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
