"""Complaint and collection-contact events of the synthetic world: theft victims' "not me", organised
complaint waves, genuine complaints and the collectors' contacts."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from fengkong.simulate import apps as A
from fengkong.simulate import contacts, texts
from fengkong.simulate.credit import DAY_US, HOUR_US, time_of_day, ts_series
from fengkong.simulate.frames import event_frame, number_events
from fengkong.simulate.state import World


def complaints(world: World, rep: pl.DataFrame, disb: pl.DataFrame) -> pl.DataFrame:
    """Complaints: the theft victims' "not me", the agents' organised waves and the genuine ones."""
    cfg, a = world.cfg, world.a
    rng = world.r["complaints"]
    rows: list[dict[str, Any]] = []
    # 1. identity-theft victims: "not me", 20–60 days after disbursement once collection starts
    th = np.nonzero(a["kind"][world.loan_app] == A.KIND_THEFT)[0]
    for i in th.tolist():
        day = max(int(world.disb_ts[i] // DAY_US) + int(rng.integers(20, 61)),
                  int(world.first_due[i]) + int(rng.integers(1, 6)))
        ts = day * DAY_US + int(time_of_day(rng, 1)[0])
        if ts >= world.end_us:
            continue
        rows.append({"ts": ts, "person": int(a["person"][world.loan_app[i]]), "loan": world.loan_ids[i],
                     "channel": str(rng.choice(["hotline", "app", "regulator_12378", "online_platform"],
                                               p=[0.4, 0.3, 0.2, 0.1])),
                     "text": texts.genuine_text(rng, "not_me"), "rep": -1,
                     "demands": ["not_me", *(["credit_repair"] if rng.random() < 0.5 else [])],
                     "documents": ["police_report"] if rng.random() < 0.5 else [], "not_me": True,
                     "lp": "identity_theft", "lg": f"ATK-{int(a['group'][world.loan_app[i]]) + 1:03d}",
                     "ld": "victim_not_me"})
    # 2. organised complaints: agents recruit borrowers who entered collections (DPD 30), in waves
    d30 = (rep.filter(pl.col("dpd") == 30).group_by("loan_id").agg(pl.col("ts").min(), pl.col("_app").first(),
                                                                     pl.col("customer_id").first())
           .sort("loan_id"))
    d30 = d30.filter(pl.Series(a["kind"][d30["_app"].to_numpy()] != A.KIND_THEFT))
    c_day = (d30["ts"].dt.replace_time_zone(None).cast(pl.Int64).to_numpy() // DAY_US)
    elig = np.nonzero(c_day + 1 < world.end_day)[0]
    n_pick = max(round(len(elig) * cfg.organised_complaint_share), min(len(elig), 2 * cfg.complaint_agents))
    pick = np.sort(rng.choice(elig, n_pick, replace=False)) if n_pick else elig[:0]
    K = cfg.complaint_agents
    agent = np.arange(len(pick)) % K
    rng.shuffle(agent)
    waves = [world.start_day + int(rng.integers(20, 35)) + np.cumsum(rng.integers(7, 15, 40)) for _ in range(K)]
    templates = [rng.choice(len(texts.AGENT_TEMPLATES), int(rng.integers(1, 3)), replace=False)
                 for _ in range(K)]
    demand_sets = [["stop_collection", "interest_waiver", "installment_60", "credit_repair"],
                   ["stop_collection", "interest_waiver", "installment_60"],
                   ["interest_waiver", "installment_60", "credit_repair", "stop_collection"]]
    app_loan = d30["loan_id"].to_list()
    # agent representatives (rotated every complaint_rep_rotation complaints) and forged-document issuers
    r2 = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0xC0117]))
    rep_tok: dict[tuple[int, int], tuple[str, str]] = {}
    filed = np.zeros(K, dtype=np.int64)
    issuers = [[f"HSP{int(x):06d}" for x in r2.integers(0, 10**6, int(r2.integers(1, 3)))] for _ in range(K)]
    spread = cfg.complaint_wave_spread_days
    for j, g in zip(pick.tolist(), agent.tolist(), strict=True):
        c = int(c_day[j])
        w = waves[g][(waves[g] >= c) & (waves[g] <= c + 60)]
        day = int(w[0]) if len(w) else c + int(rng.integers(0, 6))
        day = min(day + int(r2.integers(0, spread)), world.end_day - 1)
        docs = (["hospital_certificate"] if rng.random() < 0.75 else []) + (
            ["hardship_statement"] if rng.random() < 0.4 else []) + (["lawyer_letter"] if rng.random() < 0.2 else [])
        rot = cfg.complaint_rep_rotation
        key = (g, int(filed[g] // rot) if rot else 0)
        filed[g] += 1
        if key not in rep_tok:
            rep_tok[key] = (world.tokenizer.token("phone", "19" + f"{int(r2.integers(0, 10**9)):09d}"),
                            world.tokenizer.token("name", texts.rep_name(r2)))
        text = texts.agent_texts(rng, rng.choice(templates[g], 1))[0]
        rows.append({"ts": day * DAY_US + int(rng.integers(9, 18)) * HOUR_US + int(rng.integers(0, HOUR_US)),
                     "person": int(a["person"][int(d30["_app"][j])]), "loan": app_loan[j],
                     "channel": "regulator_12378" if rng.random() < 0.8 else str(
                         rng.choice(["online_platform", "hotline"])),
                     "text": texts.paraphrase(r2, text, cfg.complaint_paraphrase),
                     "rep_tok": rep_tok[key][0] if r2.random() < 0.9 else None,
                     "rep_name": rep_tok[key][1] if r2.random() < 0.7 else None,
                     "issuer": issuers[g][int(r2.integers(len(issuers[g])))] if docs else None,
                     "rep": -1, "demands": list(demand_sets[g % 3]),
                     "documents": docs, "not_me": False, "lp": "organised_complaint",
                     "lg": f"AGT-{g + 1:03d}", "ld": None})
    # 3. genuine complaints: service problems and hardship, diverse wording; some through a lawyer or a
    # family member, some about an illness (hospital certificate), half of the hardship ones from loans
    # already in collections
    n_g = max(5, round(cfg.customers * cfg.genuine_complaint_rate))
    first_ts = np.full(world.plan.persons, -1, dtype=np.int64)
    order = np.argsort(a["ts"])[::-1]
    first_ts[a["person"][order]] = a["ts"][order]
    cands = np.nonzero((first_ts > 0) & (first_ts < world.end_us - 2 * DAY_US) & (world.plan.role == 0))[0]
    people = rng.choice(cands, min(n_g, len(cands)), replace=False)
    loan_of = {}
    for lid, app in zip(disb["loan_id"].to_list(), world.loan_app.tolist(), strict=True):
        loan_of.setdefault(int(a["person"][app]), lid)
    hospitals = [f"HSP{int(x):06d}" for x in r2.integers(0, 10**6, max(50, cfg.customers // 100))]
    hosp_w = 1.0 / np.arange(1, len(hospitals) + 1)
    hosp_w /= hosp_w.sum()
    firms = max(20, cfg.customers // 500)
    firm_tok: dict[int, tuple[str, str]] = {}
    picked = set(pick.tolist())
    in_coll = [j for j in elig.tolist() if j not in picked]
    for p in people.tolist():
        kind = "service" if rng.random() < 0.65 else "hardship"
        t0 = int(first_ts[p]) + DAY_US
        ts = t0 + int(rng.random() * (world.end_us - t0))
        dem = (["service_fix"] if rng.random() < 0.6 else [str(rng.choice(["fee_refund", "close_account"]))]) \
            if kind == "service" else ([str(rng.choice(["installment_36", "interest_waiver"]))]
                                       if rng.random() < 0.6 else [])
        docs = [] if kind == "service" or rng.random() < 0.6 else [str(rng.choice(
            ["unemployment_certificate", "hardship_statement", "hospital_certificate"]))]
        loan = loan_of.get(p)
        text = texts.genuine_text(rng, kind)
        issuer = rep_t = rep_n = None
        if kind == "hardship":
            if r2.random() < cfg.genuine_illness_share:
                text = texts.genuine_illness_text(r2)
                docs = sorted({*docs, "hospital_certificate"})
                dem = sorted({*dem, *(["installment_36", "interest_waiver"] if r2.random() < 0.5 else [])})
            if in_coll and r2.random() < 0.5:
                j = in_coll[int(r2.integers(len(in_coll)))]
                p = int(a["person"][int(d30["_app"][j])])
                loan = app_loan[j]
                ts = int(c_day[j] + r2.integers(0, 25)) * DAY_US + int(rng.integers(9, 21)) * HOUR_US
                ts = min(ts, world.end_us - HOUR_US)
            if "hospital_certificate" in docs:
                issuer = hospitals[int(r2.choice(len(hospitals), p=hosp_w))]
        if r2.random() < cfg.genuine_rep_share:
            if r2.random() < 0.5:  # a family member
                rep_t = world.tokenizer.token("phone", "13" + f"{int(r2.integers(0, 10**9)):09d}")
                rep_n = world.tokenizer.token("name", texts.rep_name(r2))
            else:  # a law firm (a firm may act for several unrelated clients)
                f = int(r2.integers(firms))
                if f not in firm_tok:
                    firm_tok[f] = (world.tokenizer.token("phone", "18" + f"{int(r2.integers(0, 10**9)):09d}"),
                                   world.tokenizer.token("name", texts.rep_name(r2)))
                rep_t, rep_n = firm_tok[f]
                docs = sorted({*docs, "lawyer_letter"})
                text = text + texts.LAWYER_SUFFIX[int(r2.integers(len(texts.LAWYER_SUFFIX)))]
        rows.append({"ts": ts, "person": p, "loan": loan, "channel": str(rng.choice(
            ["app", "hotline", "online_platform", "letter", "regulator_12378"], p=[0.35, 0.3, 0.15, 0.05, 0.15])),
            "text": text, "rep": -1, "rep_tok": rep_t, "rep_name": rep_n, "issuer": issuer, "demands": dem,
            "documents": docs, "not_me": False, "lp": None, "lg": None, "ld": None})
    n = len(rows)
    cols = {
        "event_type": ["complaint"] * n, "ts": ts_series(np.array([r["ts"] for r in rows], dtype=np.int64)),
        "customer_id": world.cust(np.array([r["person"] for r in rows], dtype=np.int64)),
        "loan_id": pl.Series([r["loan"] for r in rows], dtype=pl.Utf8),
        "channel": [r["channel"] for r in rows], "text": [r["text"] for r in rows],
        "rep_phone_token": pl.Series([r.get("rep_tok") for r in rows], dtype=pl.Utf8),
        "rep_name_token": pl.Series([r.get("rep_name") for r in rows], dtype=pl.Utf8),
        "doc_issuer_id": pl.Series([r.get("issuer") for r in rows], dtype=pl.Utf8),
        "demands": pl.Series([r["demands"] for r in rows], dtype=pl.List(pl.Utf8)),
        "documents": pl.Series([r["documents"] for r in rows], dtype=pl.List(pl.Utf8)),
        "claims_not_me": [r["not_me"] for r in rows], "_tb": np.arange(n),
        "_lp": pl.Series([r["lp"] for r in rows], dtype=pl.Utf8),
        "_lg": pl.Series([r["lg"] for r in rows], dtype=pl.Utf8),
        "_ld": pl.Series([r["ld"] for r in rows], dtype=pl.Utf8),
    }
    f = number_events(event_frame("complaint", cols, n), "CP")
    for pat in ("organised_complaint", "identity_theft"):
        x = f.filter(pl.col("_lp") == pat)
        world.label(pat, "complaint", x["event_id"], x["_lg"], x["_ld"])
    return f


def collection_contacts(world: World, rep: pl.DataFrame, comp: pl.DataFrame, disb: pl.DataFrame) -> pl.DataFrame:
    """The collectors' contacts of delinquent loans (:mod:`~fengkong.simulate.contacts`), labelled where a
    contact breaks a conduct rule; sets ``world.collectors``."""
    cfg = world.cfg
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0xC011EC7]))
    af = world.app_frame
    apps = disb.select("loan_id", "customer_id", "application_id").join(
        af.select(pl.col("event_id").alias("application_id"), "phone_token", "contact_tokens"),
        on="application_id", how="left")
    rows, world.collectors = contacts.collection_contacts(rng, world.tokenizer, rep, comp, apps, world.end_us,
                                                         cfg.collection_agencies, cfg.misbehaving_loan_share)
    rows = [r for r in rows if r["ts"] < world.end_us]
    n = len(rows)
    cols: dict[str, Any] = {"event_type": ["collection_contact"] * n,
                            "ts": ts_series(np.array([r["ts"] for r in rows], dtype=np.int64))}
    for k in ("customer_id", "loan_id", "channel", "target", "target_relation", "target_token", "collector_id",
              "agency_id", "caller_number_token", "outcome", "_lp", "_lg", "_ld"):
        cols[k] = pl.Series([r[k] for r in rows], dtype=pl.Utf8)
    cols["collectors_present"] = pl.Series([r["collectors_present"] for r in rows], dtype=pl.Int16)
    cols["_tb"] = np.arange(n)
    f = number_events(event_frame("collection_contact", cols, n), "CC")
    x = f.filter(pl.col("_lp") == "contact_violation")
    world.label("contact_violation", "collection_contact", x["event_id"], x["_lg"], x["_ld"])
    return f
