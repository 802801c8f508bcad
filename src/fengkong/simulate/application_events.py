"""Application and customer-registration events of the synthetic world, with the planted ring, theft and
multi-head labels."""

from __future__ import annotations

import numpy as np
import polars as pl

from fengkong.simulate import apps as A
from fengkong.simulate import geo, structure
from fengkong.simulate import merchants as M
from fengkong.simulate.credit import DAY_US, HOUR_US, MIN_US, ts_series
from fengkong.simulate.frames import event_frame, list_series, number_events, seq_ids, take
from fengkong.simulate.population import EDUCATION, OCCUPATION
from fengkong.simulate.state import World

CHANNELS = np.array(["app", "h5", "mini_program", "partner", "branch"], dtype=object)

def applications(world: World) -> None:
    """The application events (``world.app_frame``) of ordinary, ring and theft applicants, sorted by time,
    with the accounts the later steps pay to, and the ring, theft, multi-head and look-alike labels."""
    cfg, plan, P = world.cfg, world.plan, world.P
    nr, nt, ni = len(plan.ring_sizes), 2 * plan.theft_apps, max(4000, cfg.customers // 5)
    acc = M.account_ids(world.r["accounts"], nr + nt + ni + plan.persons)
    world.agent_accounts = acc[:nr]
    world.theft_accounts = acc[nr: nr + nt]
    world.person_accounts = acc[nr + nt: nr + nt + ni]  # payees of ordinary person-to-person transfers
    world.own_accounts = acc[nr + nt + ni:]  # each person's other own account
    o, ol, of = A.ordinary(cfg, plan, P, world.r["apps"], world.start_us, world.total_days)
    _splitting_apps(world, o)
    if P.structure is not None:
        structure.ordinary_lookalikes(cfg, P.structure, o)
    reg = np.full(plan.persons, np.iinfo(np.int64).max)
    np.minimum.at(reg, o["person"], o["ts"])
    bb = structure.back_book_days(cfg)  # rings and theft only after the back book
    p_start, p_days = world.start_us + bb * DAY_US, world.total_days - bb
    rg, rl, rf, world.rings_info = A.rings(cfg, plan, P, world.r["rings"], p_start, p_days, world.agent_accounts)
    th, tl, tf = A.theft(cfg, plan, P, world.r["theft"], p_start, p_days, reg)
    rg["split"], th["split"] = np.zeros(len(rg["ts"]), np.int64), np.zeros(len(th["ts"]), np.int64)
    a = A.concat([o, rg, th])
    lens = np.concatenate([ol, rl, tl])
    contacts = list_series("contact_tokens", lens, take(world.tok["phone"], np.concatenate([of, rf, tf])))
    tb = np.lexsort((np.arange(len(a["ts"])), a["ts"]))
    a = {k: v[tb] for k, v in a.items()}
    contacts = contacts.gather(tb)
    world.a = a
    k = len(a["ts"])
    world.app_ids = seq_ids("AP", k)
    pi = a["person"]
    # age at the application date from the birth date in the ID number
    bday = P.birth[pi].astype("datetime64[D]")
    aday = (a["ts"] // DAY_US).astype("datetime64[D]")
    by, ay = bday.astype("datetime64[Y]"), aday.astype("datetime64[Y]")
    age = (ay.astype(np.int64) - by.astype(np.int64)) - (
        (aday - ay.astype("datetime64[D]")) < (bday - by.astype("datetime64[D]"))).astype(np.int64)
    world.app_age = age
    cols = {
        "event_id": world.app_ids, "event_type": ["application"] * k, "ts": ts_series(a["ts"]),
        "customer_id": world.cust(pi),
        "id_token": take(world.tok["id"], pi), "name_token": take(world.tok["name"], pi),
        "phone_token": take(world.tok["phone"], a["phone"]), "card_token": take(world.tok["card"], a["card"]),
        "device_id": take(world.dev_pool, a["device"]),
        "ip": take(np.array(P.ips, dtype=object), a["ip"]),
        "product": np.where(a["product"] == 1, "cash_loan", "credit_line"), "amount_fen": a["amount"],
        "term_months": a["term"], "channel": CHANNELS[a["channel"]],
        "partner_id": take(np.array([f"PT{i:03d}" for i in range(A.N_PARTNERS)], dtype=object), a["partner"]),
        "age": age, "gender": np.where(P.male[pi], "M", "F"), "province": geo.PROVINCE[a["region"]],
        "city": geo.CITY[a["region"]], "declared_income_fen": a["income_decl"],
        "employer_id": take(np.array(P.employers, dtype=object), a["employer"]),
        "occupation": OCCUPATION[a["occupation"]], "education": EDUCATION[a["education"]],
        "ip_province": geo.PROVINCE[a["ip_region"]], "gps_lat": np.round(a["lat"], 5),
        "gps_lon": np.round(a["lon"], 5), "contact_tokens": contacts,
        "agent_id": take(_agent_codes(world, ), a["agent"]),
        "doc_income_proof": a["doc_proof"], "doc_statement_edited": a["doc_edited"],
        "liveness_score": np.round(a["liveness"], 4), "face_match_score": np.round(a["face"], 4),
        "is_emulator": a["emulator"], "is_rooted": a["rooted"], "is_proxy": a["proxy"],
        "phone_name_match": a["pnm"], "phone_tenure_months": a["tenure"], "form_fill_seconds": a["form_fill"],
        "bureau_score": pl.Series(a["score"], nan_to_null=True), "bureau_hard_inquiries_7d": a["inq7"],
        "bureau_hard_inquiries_30d": a["inq30"], "bureau_hard_inquiries_90d": a["inq90"],
        "bureau_open_loans": a["open_loans"], "bureau_nonbank_loans": a["nonbank"],
        "bureau_thin_file": a["thin"], "bureau_max_dpd_24m": a["max_dpd"],
        "monthly_debt_payment_fen": a["debt"], "social_insurance_months": a["si"],
        "housing_fund_months": a["hf"], "housing_fund_backpaid_months": a["hf_back"],
        "_tb": np.arange(k),
    }
    world.app_frame = event_frame("application", cols, k)
    world.progress("applications", k, k)
    # labels
    kind, grp = a["kind"], a["group"]
    ring = kind == A.KIND_RING
    rid = np.array([f"RING-{g + 1:03d}" for g in range(len(plan.ring_sizes))], dtype=object)
    code = np.array(["agent_code" if x["has_code"] else "no_agent_code" for x in world.rings_info], dtype=object)
    world.label("debt_bearing_ring", "application", world.app_ids.filter(ring), take(rid, grp[ring]),
                take(code, grp[ring]))
    members, first = np.unique(pi[ring], return_index=True)
    g = grp[ring][first]
    world.label("debt_bearing_ring", "customer", world.cust(members), take(rid, g), take(code, g))
    th_m = kind == A.KIND_THEFT
    det = np.where(a["victim_existing"][th_m], "victim=existing", "victim=new")
    det = np.char.add(det.astype(str), np.where(a["deepfake"][th_m], ";deepfake", ""))
    aid = np.array([f"ATK-{i + 1:03d}" for i in range(len(plan.attacker_apps))], dtype=object)
    world.label("identity_theft", "application", world.app_ids.filter(th_m), take(aid, grp[th_m]),
                pl.Series(det))
    mh = a["mh"]
    world.label("multi_head", "application", world.app_ids.filter(mh))
    world.label("multi_head", "customer", world.cust(np.unique(pi[mh])))
    if P.structure is not None:  # legitimate look-alikes: customers, never applications (they are good)
        for det, persons in sorted(P.structure.lookalike.items()):
            persons = np.intersect1d(persons, pi)
            world.label("hard_negative", "customer", world.cust(persons), detail=pl.Series([det] * len(persons)))


def _splitting_apps(world: World, o: dict[str, np.ndarray]) -> None:
    """Choose the splitting customers among those with exactly two ordinary cash-loan applications (changes
    ``o`` in place): both become drawdowns of 170 000–200 000 yuan (each within the 300 000 yuan self-payment
    limit, together above it), the second 1..``splitting_gap_hours_max`` hours after the first. Their
    application rows are marked in ``o["split"]`` (1 first, 2 second)."""
    cfg, r3 = world.cfg, world.r_post[2]
    k = len(o["ts"])
    o["split"] = np.zeros(k, np.int64)
    cash = np.nonzero((o["product"] == 1) & ~o["mh"] & ~o["co"])[0]
    _, inv, cnt = np.unique(o["person"][cash], return_inverse=True, return_counts=True)
    two = cnt[inv] == 2
    rows = cash[two]
    if len(rows) == 0:
        return
    rows = rows[np.lexsort((o["ts"][rows], o["person"][rows]))]  # pairs: (first, second) per person
    first, second = rows[0::2], rows[1::2]
    pick = r3.random(len(first)) < cfg.splitting_share
    first, second = first[pick], second[pick]
    m = len(first)
    gap = r3.integers(1, cfg.splitting_gap_hours_max + 1, m) * HOUR_US + r3.integers(0, HOUR_US, m)
    o["ts"][second] = o["ts"][first] + gap
    o["amount"][first] = r3.integers(170, 201, m) * 100_000
    o["amount"][second] = r3.integers(170, 201, m) * 100_000
    o["split"][first], o["split"][second] = 1, 2


def _agent_codes(world: World) -> np.ndarray:
    rng = np.random.default_rng(world.cfg.seed + 101)
    v = rng.choice(10**6, A.N_ORDINARY_AGENT_CODES + len(world.plan.ring_sizes), replace=False)
    return np.array([f"AG{x:06d}" for x in rng.permutation(v).tolist()], dtype=object)


def customers(world: World) -> pl.DataFrame:
    """One customer-registration event per person, minutes before their first application."""
    a = world.a
    pi = a["person"]
    _, first = np.unique(pi, return_index=True)  # apps are sorted by ts: first = registration
    n = len(first)
    rng = world.r["apps"]
    ts = a["ts"][first] - rng.integers(1, 20, n) * MIN_US - rng.integers(0, MIN_US, n)
    af = world.app_frame[first.tolist()]
    cols = {c: af[c] for c in ("customer_id", "id_token", "name_token", "phone_token", "card_token",
                               "device_id", "ip", "age", "gender", "province", "city")}
    cols.update({"event_type": ["customer"] * n, "ts": ts_series(ts), "_tb": pi[first]})
    return number_events(event_frame("customer", cols, n), "CU")
