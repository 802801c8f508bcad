"""Build a whole synthetic world and write it: event files, outcomes, ground-truth labels, manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from fengkong.events import EVENT_TYPES, pii, schema_of
from fengkong.events.files import write_events
from fengkong.simulate import apps as A
from fengkong.simulate import geo, structure, texts
from fengkong.simulate import merchants as M
from fengkong.simulate.config import SimConfig
from fengkong.simulate.credit import (
    DAY_US,
    HOUR_US,
    MIN_US,
    add_months,
    amortize,
    date_series,
    day_number,
    month_index,
    month_start_day,
    repayment_events,
    time_of_day,
    ts_series,
)
from fengkong.simulate.population import EDUCATION, OCCUPATION, People, Plan, build_people, make_plan

STREAMS = ("plan", "people", "merchants", "apps", "rings", "theft", "loans", "purchases", "transfers",
           "repay", "complaints", "accounts")
CHANNELS = np.array(["app", "h5", "mini_program", "partner", "branch"], dtype=object)
PATTERNS = ("identity_theft", "debt_bearing_ring", "multi_head", "loan_to_repay_loan", "cash_out",
            "cash_out_merchant", "fund_misuse", "organised_complaint", "payee_mismatch", "splitting",
            "contact_violation")
LABEL_SCHEMA = {"pattern": pl.Utf8, "entity_type": pl.Utf8, "entity_id": pl.Utf8, "group_id": pl.Utf8,
                "detail": pl.Utf8}
OUTCOME_SCHEMA = {"application_id": pl.Utf8, "customer_id": pl.Utf8, "loan_id": pl.Utf8, "bad": pl.Boolean,
                  "fpd30": pl.Boolean, "observed": pl.Boolean}
CASH_OUT_STYLES = ("round", "below_limit", "round_minus")
FEE_TOTAL = {1: 0.0, 3: 0.025, 6: 0.045, 12: 0.075}
Progress = Callable[[str, int, int], None]


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {k: np.random.default_rng(c) for k, c in zip(STREAMS, children, strict=True)}


def _post_streams(seed: int) -> tuple[np.random.Generator, ...]:
    """Generators of the post-loan additions (entrusted-payee mismatch; misuse routing, names and look-alikes;
    splitting and repeated purchases), apart from :data:`STREAMS` so that adding them left every other
    stream's draws as they were."""
    return tuple(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x504F53, i))) for i in (0, 1, 2))


def _people(cfg: SimConfig) -> tuple[Plan, People, dict[str, np.random.Generator]]:
    r = _streams(cfg.seed)
    plan = make_plan(cfg, r["plan"])
    people = build_people(cfg, plan, r["people"])
    if structure.active(cfg):
        people.structure = structure.apply_people(cfg, plan, people)
    return plan, people, r


def plaintext_identities(config: SimConfig) -> dict[str, list[str]]:
    """Every plaintext identity element the world with this config is built from (never written).

    Keys ``id``, ``name``, ``phone``, ``card``. Regenerated deterministically from the seed so that a
    test can scan every output byte for them.
    """
    config.validate()
    _, people, _ = _people(config)
    return {k: list(v) for k, v in people.pii.items()}


def _token_pool(tok: pii.Tokenizer, kind: str, values: list[str]) -> pl.Series:
    uniq = dict.fromkeys(values)
    mapping = {v: tok.token(kind, v) for v in uniq}
    return pl.Series([mapping[v] for v in values] + [None], dtype=pl.Utf8)


def _contract_names(names: np.ndarray) -> np.ndarray:
    """How a contract writes each counterparty's registered name: as registered, with the long company-form
    suffix (有限责任公司), or with a full-width space after the city — by index, no random draw."""
    out = names.astype(object).copy()
    i = np.arange(len(out))
    for j in np.nonzero(i % 3 == 1)[0]:
        n = out[j]
        out[j] = n[:-4] + "有限责任公司" if n.endswith("有限公司") and not n.endswith("股份有限公司") else n
    for j in np.nonzero(i % 3 == 2)[0]:
        out[j] = out[j][:2] + "\u3000" + out[j][2:]
    return out


def _take(pool: pl.Series | np.ndarray, idx: np.ndarray) -> pl.Series:
    """Gather from a pool whose last element is null; negative indices → null."""
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(pool, np.ndarray):
        pool = pl.Series(np.append(pool.astype(object), None).tolist(), dtype=pl.Utf8)
    n = len(pool) - 1
    return pool.gather(np.where(idx < 0, n, idx))


def _ids(prefix: str, n: int) -> pl.Series:
    """``prefix`` + zero-padded sequence numbers 0..n-1."""
    return pl.select((pl.lit(prefix) + pl.int_range(n, dtype=pl.Int64).cast(pl.Utf8).str.zfill(10))
                     .alias("id")).to_series()


def _ser(name: str, v: Any) -> pl.Series:
    if isinstance(v, pl.Series):
        return v.alias(name)
    if isinstance(v, np.ndarray) and v.dtype == object:
        return pl.Series(name, v.tolist(), dtype=pl.Utf8)
    return pl.Series(name, v)


def _frame(et: str, cols: dict[str, Any], n: int) -> pl.DataFrame:
    """A frame with exactly ``schema_of(et)`` (missing columns null) plus internal ``_`` columns."""
    schema = schema_of(et)
    out = []
    for name, dtype in schema.items():
        v = cols.get(name)
        if v is None:
            out.append(pl.Series(name, [None] * n, dtype=dtype) if n else pl.Series(name, [], dtype=dtype))
        else:
            out.append(_ser(name, v).cast(dtype))
    extra = [_ser(k, v) for k, v in cols.items() if k.startswith("_")]
    return pl.DataFrame(out + extra)


def _finish(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Sort by (ts, tie-break) and number the events in that order."""
    frame = frame.sort(["ts", "_tb"])
    return frame.with_columns(_ids(prefix, frame.height).alias("event_id"))


def _list_series(name: str, lens: np.ndarray, values: pl.Series) -> pl.Series:
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
    arr = pa.ListArray.from_arrays(pa.array(offsets), values.to_arrow())
    return pl.Series(name, pl.from_arrow(arr))


class _World:
    """One generation run (internal)."""

    def __init__(self, cfg: SimConfig, tok: pii.Tokenizer, progress: Progress | None):
        self.cfg = cfg
        self.progress = progress or (lambda step, i, n: None)
        self.plan, self.P, self.r = _people(cfg)
        P = self.P
        self.start_day = day_number(cfg.start)
        end = np.datetime64(cfg.start, "M") + np.timedelta64(cfg.months, "M")
        self.end_day = int(end.astype("datetime64[D]").astype(np.int64))
        self.total_days = self.end_day - self.start_day
        self.start_us = self.start_day * DAY_US
        self.end_us = self.end_day * DAY_US
        self.tok = {k: _token_pool(tok, k, P.pii[k]) for k in ("id", "name", "phone", "card")}
        self.tokenizer = tok
        perm = self.r["people"].permutation(self.plan.persons)
        self.customer_ids = _take(np.array([f"C{v + 10000001}" for v in perm.tolist()], dtype=object),
                                  np.arange(self.plan.persons)).append(pl.Series([None], dtype=pl.Utf8))
        self.dev_pool = _take(np.array(P.devices, dtype=object), np.arange(len(P.devices))).append(
            pl.Series([None], dtype=pl.Utf8))
        self.employer_names = np.array(texts.employer_names(
            self.r["merchants"], geo.CITY[self.r["merchants"].choice(geo.N_REGIONS, len(P.employers), p=geo.WEIGHT)]),
            dtype=object)
        self.dir = M.build_directory(self.r["merchants"], cfg.customers, cfg.cash_out_merchants)
        self.labels: list[pl.DataFrame] = []
        self.r_post = _post_streams(cfg.seed)

    # ------------------------------------------------------------ helpers
    def label(self, pattern: str, entity_type: str, entity_id: pl.Series, group: pl.Series | None = None,
              detail: pl.Series | None = None) -> None:
        n = len(entity_id)
        self.labels.append(pl.DataFrame({
            "pattern": [pattern] * n, "entity_type": [entity_type] * n, "entity_id": entity_id.cast(pl.Utf8),
            "group_id": group.cast(pl.Utf8) if group is not None else pl.Series([None] * n, dtype=pl.Utf8),
            "detail": detail.cast(pl.Utf8) if detail is not None else pl.Series([None] * n, dtype=pl.Utf8),
        }, schema=LABEL_SCHEMA))

    def cust(self, person: np.ndarray) -> pl.Series:
        return _take(self.customer_ids, person)

    # ------------------------------------------------------------ applications
    def applications(self) -> None:
        cfg, plan, P = self.cfg, self.plan, self.P
        nr, nt, ni = len(plan.ring_sizes), 2 * plan.theft_apps, max(4000, cfg.customers // 5)
        acc = M.account_ids(self.r["accounts"], nr + nt + ni + plan.persons)
        self.agent_accounts = acc[:nr]
        self.theft_accounts = acc[nr: nr + nt]
        self.person_accounts = acc[nr + nt: nr + nt + ni]  # payees of ordinary person-to-person transfers
        self.own_accounts = acc[nr + nt + ni:]  # each person's other own account
        o, ol, of = A.ordinary(cfg, plan, P, self.r["apps"], self.start_us, self.total_days)
        self._splitting_apps(o)
        if P.structure is not None:
            structure.ordinary_lookalikes(cfg, P.structure, o)
        reg = np.full(plan.persons, np.iinfo(np.int64).max)
        np.minimum.at(reg, o["person"], o["ts"])
        bb = structure.back_book_days(cfg)  # rings and theft only after the back book
        p_start, p_days = self.start_us + bb * DAY_US, self.total_days - bb
        rg, rl, rf, self.rings_info = A.rings(cfg, plan, P, self.r["rings"], p_start, p_days, self.agent_accounts)
        th, tl, tf = A.theft(cfg, plan, P, self.r["theft"], p_start, p_days, reg)
        rg["split"], th["split"] = np.zeros(len(rg["ts"]), np.int64), np.zeros(len(th["ts"]), np.int64)
        a = A.concat([o, rg, th])
        lens = np.concatenate([ol, rl, tl])
        contacts = _list_series("contact_tokens", lens, _take(self.tok["phone"], np.concatenate([of, rf, tf])))
        tb = np.lexsort((np.arange(len(a["ts"])), a["ts"]))
        a = {k: v[tb] for k, v in a.items()}
        contacts = contacts.gather(tb)
        self.a = a
        k = len(a["ts"])
        self.app_ids = _ids("AP", k)
        pi = a["person"]
        # age at the application date from the birth date in the ID number
        bday = P.birth[pi].astype("datetime64[D]")
        aday = (a["ts"] // DAY_US).astype("datetime64[D]")
        by, ay = bday.astype("datetime64[Y]"), aday.astype("datetime64[Y]")
        age = (ay.astype(np.int64) - by.astype(np.int64)) - (
            (aday - ay.astype("datetime64[D]")) < (bday - by.astype("datetime64[D]"))).astype(np.int64)
        self.app_age = age
        cols = {
            "event_id": self.app_ids, "event_type": ["application"] * k, "ts": ts_series(a["ts"]),
            "customer_id": self.cust(pi),
            "id_token": _take(self.tok["id"], pi), "name_token": _take(self.tok["name"], pi),
            "phone_token": _take(self.tok["phone"], a["phone"]), "card_token": _take(self.tok["card"], a["card"]),
            "device_id": _take(self.dev_pool, a["device"]),
            "ip": _take(np.array(P.ips, dtype=object), a["ip"]),
            "product": np.where(a["product"] == 1, "cash_loan", "credit_line"), "amount_fen": a["amount"],
            "term_months": a["term"], "channel": CHANNELS[a["channel"]],
            "partner_id": _take(np.array([f"PT{i:03d}" for i in range(A.N_PARTNERS)], dtype=object), a["partner"]),
            "age": age, "gender": np.where(P.male[pi], "M", "F"), "province": geo.PROVINCE[a["region"]],
            "city": geo.CITY[a["region"]], "declared_income_fen": a["income_decl"],
            "employer_id": _take(np.array(P.employers, dtype=object), a["employer"]),
            "occupation": OCCUPATION[a["occupation"]], "education": EDUCATION[a["education"]],
            "ip_province": geo.PROVINCE[a["ip_region"]], "gps_lat": np.round(a["lat"], 5),
            "gps_lon": np.round(a["lon"], 5), "contact_tokens": contacts,
            "agent_id": _take(self._agent_codes(), a["agent"]),
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
        self.app_frame = _frame("application", cols, k)
        self.progress("applications", k, k)
        # labels
        kind, grp = a["kind"], a["group"]
        ring = kind == A.KIND_RING
        rid = np.array([f"RING-{g + 1:03d}" for g in range(len(plan.ring_sizes))], dtype=object)
        code = np.array(["agent_code" if x["has_code"] else "no_agent_code" for x in self.rings_info], dtype=object)
        self.label("debt_bearing_ring", "application", self.app_ids.filter(ring), _take(rid, grp[ring]),
                   _take(code, grp[ring]))
        members, first = np.unique(pi[ring], return_index=True)
        g = grp[ring][first]
        self.label("debt_bearing_ring", "customer", self.cust(members), _take(rid, g), _take(code, g))
        th_m = kind == A.KIND_THEFT
        det = np.where(a["victim_existing"][th_m], "victim=existing", "victim=new")
        det = np.char.add(det.astype(str), np.where(a["deepfake"][th_m], ";deepfake", ""))
        aid = np.array([f"ATK-{i + 1:03d}" for i in range(len(plan.attacker_apps))], dtype=object)
        self.label("identity_theft", "application", self.app_ids.filter(th_m), _take(aid, grp[th_m]),
                   pl.Series(det))
        mh = a["mh"]
        self.label("multi_head", "application", self.app_ids.filter(mh))
        self.label("multi_head", "customer", self.cust(np.unique(pi[mh])))
        if P.structure is not None:  # legitimate look-alikes: customers, never applications (they are good)
            for det, persons in sorted(P.structure.lookalike.items()):
                persons = np.intersect1d(persons, pi)
                self.label("hard_negative", "customer", self.cust(persons), detail=pl.Series([det] * len(persons)))

    def _splitting_apps(self, o: dict[str, np.ndarray]) -> None:
        """Choose the splitting customers among those with exactly two ordinary cash-loan applications (changes
        ``o`` in place): both become drawdowns of 170 000–200 000 yuan (each within the 300 000 yuan self-payment
        limit, together above it), the second 1..``splitting_gap_hours_max`` hours after the first. Their
        application rows are marked in ``o["split"]`` (1 first, 2 second)."""
        cfg, r3 = self.cfg, self.r_post[2]
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

    def _agent_codes(self) -> np.ndarray:
        rng = np.random.default_rng(self.cfg.seed + 101)
        v = rng.choice(10**6, A.N_ORDINARY_AGENT_CODES + len(self.plan.ring_sizes), replace=False)
        return np.array([f"AG{x:06d}" for x in rng.permutation(v).tolist()], dtype=object)

    # ------------------------------------------------------------ customers
    def customers(self) -> pl.DataFrame:
        a = self.a
        pi = a["person"]
        _, first = np.unique(pi, return_index=True)  # apps are sorted by ts: first = registration
        n = len(first)
        rng = self.r["apps"]
        ts = a["ts"][first] - rng.integers(1, 20, n) * MIN_US - rng.integers(0, MIN_US, n)
        af = self.app_frame[first.tolist()]
        cols = {c: af[c] for c in ("customer_id", "id_token", "name_token", "phone_token", "card_token",
                                   "device_id", "ip", "age", "gender", "province", "city")}
        cols.update({"event_type": ["customer"] * n, "ts": ts_series(ts), "_tb": pi[first]})
        return _finish(_frame("customer", cols, n), "CU")

    # ------------------------------------------------------------ loans
    def loans(self) -> pl.DataFrame:
        a, d = self.a, self.dir
        rng = self.r["loans"]
        cash = np.nonzero(a["product"] == 1)[0]
        k = len(cash)
        self.loan_app = cash
        self.loan_ids = _ids("LN", k)
        ts = a["ts"][cash] + rng.integers(3, 41, k) * MIN_US + rng.integers(0, MIN_US, k)
        self.disb_ts = ts
        kind = a["kind"][cash]
        risk = self.P.risk[a["person"][cash]]
        ordinary = kind == A.KIND_ORDINARY
        split = a["split"][cash] > 0  # drawdowns of a splitting customer: always self payment
        drawn = ordinary & (rng.random(k) < 0.3)
        entrusted = drawn & ~split
        # fund misuse and loan-to-repay-loan are decided among ordinary self-payment loans
        mh = a["mh"][cash] & ordinary & ~entrusted
        l2r = mh & (rng.random(k) < self.cfg.loan_to_repay_share)
        if l2r.sum() < 2:
            l2r[np.nonzero(mh)[0][:2]] = True
        cand = ordinary & ~entrusted & ~l2r & ~split
        mis = cand & (rng.random(k) < self.cfg.fund_misuse_share)
        if mis.sum() < 3:
            mis[np.nonzero(cand)[0][:3]] = True
        self.l2r, self.misuse, self.entrusted, self.split = l2r, mis, entrusted, split
        enames = list(M.ENTRUSTED_PURPOSE)
        eci = rng.integers(0, len(enames), k)
        ecat = np.array(enames, dtype=object)[eci]
        payee = np.full(k, -1)
        if drawn.any():  # drawn over every loan the draw chose, so that splitting leaves the other draws as they were
            payee[drawn] = M.pick_merchants(rng, d, enames, eci[drawn])
        contract = payee.copy()
        self.mismatch = self._entrusted_mismatch(payee, drawn)
        payee[split], contract[split] = -1, -1
        self.mismatch = self.mismatch[~split[self.mismatch]]
        purpose_self = np.array(["daily_consumption", "home_decoration", "education", "travel", "medical",
                                 "wedding", "appliance"], dtype=object)[rng.integers(0, 7, k)]
        purpose = np.where(entrusted, np.array([M.ENTRUSTED_PURPOSE[c] for c in ecat], dtype=object), purpose_self)
        rate = np.round(np.clip(0.10 + 0.03 * risk + rng.uniform(0, 0.06, k), 0.072, 0.24), 4)
        self.rate = rate
        dday = ts // DAY_US
        self.first_due = add_months(dday, np.ones(k, np.int64))
        ch = a["channel"][cash]
        cols = {
            "event_type": ["disbursement"] * k, "ts": ts_series(ts), "customer_id": self.cust(a["person"][cash]),
            "id_token": self.app_frame["id_token"].gather(cash),
            "card_token": pl.Series(self.app_frame["card_token"].gather(cash)).zip_with(
                pl.Series(~entrusted), pl.Series([None] * k, dtype=pl.Utf8)),
            "loan_id": self.loan_ids, "application_id": self.app_ids.gather(cash), "amount_fen": a["amount"][cash],
            "term_months": a["term"][cash], "repayment_method": ["equal_installment"] * k, "contract_rate": rate,
            "fee_rate": np.zeros(k), "upfront_fee_fen": np.zeros(k, np.int64), "guarantee_fee_rate": np.zeros(k),
            "payment_mode": np.where(entrusted, "entrusted", "self"), "payee_id": _take(d.ids, payee),
            "contract_payee_id": _take(d.ids, contract),
            "payee_merchant_id": _take(d.ids, np.where(payee < d.merchants, payee, -1)),
            "contract_merchant_id": _take(d.ids, np.where(contract < d.merchants, contract, -1)),
            "payee_name": _take(d.name, payee), "contract_payee_name": _take(_contract_names(d.name), contract),
            "purpose": purpose, "lender_type": ["consumer_finance"] * k,
            "channel": np.where(ch == 3, "zhudai", "own"),
            "partner_id": self.app_frame["partner_id"].gather(cash), "first_due_date": date_series(self.first_due,
                                                                                                   "first_due_date"),
            "_tb": np.arange(k),
        }
        mm = self.loan_ids.gather(self.mismatch)
        self.label("payee_mismatch", "loan", mm, mm, _take(d.category, payee[self.mismatch]))
        return _finish(_frame("disbursement", cols, k), "DB")

    def _entrusted_mismatch(self, payee: np.ndarray, entrusted: np.ndarray) -> np.ndarray:
        """Entrusted loans paid to another counterparty than the contract's (changes ``payee`` in place):
        half to a prohibited-use company, half to another merchant. Returns their loan indices."""
        d, r2 = self.dir, self.r_post[0]
        ent = np.nonzero(entrusted)[0]
        mm = ent[r2.random(len(ent)) < self.cfg.entrusted_mismatch_share]
        if len(mm):
            others = np.concatenate([M.of_category(d, c) for c in ("real_estate", "securities", "fund_wealth")])
            alt = np.where(r2.random(len(mm)) < 0.5, others[r2.integers(0, len(others), len(mm))],
                           r2.integers(0, d.merchants, len(mm)))
            payee[mm] = np.where(alt == payee[mm], (alt + 1) % d.merchants, alt)
        return mm

    # ------------------------------------------------------------ purchases and bills
    def purchases(self) -> pl.DataFrame:
        a, d, cfg = self.a, self.dir, self.cfg
        rng = self.r["purchases"]
        lines = np.nonzero(a["product"] == 0)[0]
        self.line_app = lines
        self.line_ids = _ids("CL", len(lines))
        app_ts = a["ts"][lines]
        app_month = month_index(app_ts // DAY_US)
        dseq = a["default_seq"][lines]
        freeze = np.where(dseq < 99, (month_start_day(app_month + np.minimum(dseq, 60)) + 10) * DAY_US, self.end_us)
        stop = np.minimum(freeze, self.end_us)
        active_days = np.maximum((stop - app_ts) / DAY_US, 0)
        activity = rng.lognormal(-0.125, 0.5, len(lines))
        cnt = rng.poisson(cfg.purchases_per_month * active_days / 30.0 * activity)
        li = np.repeat(np.arange(len(lines)), cnt)
        n = len(li)
        t = app_ts[li] + (rng.random(n) * (stop[li] - app_ts[li])).astype(np.int64)
        t = (t // DAY_US) * DAY_US + time_of_day(rng, n)
        t = np.where((t <= app_ts[li]) | (t >= stop[li]), app_ts[li] + rng.integers(1, 120, n) * MIN_US, t)
        cats = list(M.PURCHASE_CATEGORIES)
        w = np.array([M.PURCHASE_CATEGORIES[c][0] for c in cats])
        ci = rng.choice(len(cats), n, p=w / w.sum())
        med = np.array([M.PURCHASE_CATEGORIES[c][1] for c in cats])[ci]
        sd = np.array([M.PURCHASE_CATEGORIES[c][2] for c in cats])[ci]
        yuan = rng.lognormal(np.log(med), sd)
        fen = np.round(yuan * 100).astype(np.int64)
        rnd = rng.random(n)
        fen = np.where(rnd < 0.06, np.round(yuan / 100).astype(np.int64) * 10000,
                       np.where(rnd < 0.14, np.round(yuan / 10).astype(np.int64) * 1000, fen))
        limit = a["amount"][lines][li]
        fen = np.clip(fen, 100, limit)
        inst = np.where((fen > 60000) & (rng.random(n) < 0.35), rng.choice([3, 6, 12], n), 1)
        merchant = M.pick_merchants(rng, d, cats, ci)
        pi = a["person"][lines][li]
        dev = np.where((self.P.device2[pi] >= 0) & (rng.random(n) < 0.4), self.P.device2[pi], self.P.device[pi])
        is_co = np.zeros(n, bool)
        co_detail = np.full(n, -1, dtype=np.int64)
        # ---- cash-out: round / just-below-limit purchases at colluding merchants, money back within 24 h
        co_lines = np.nonzero(a["co"][lines])[0]
        co_lines = co_lines[stop[co_lines] - app_ts[co_lines] > 2 * DAY_US]
        k_per = rng.integers(1, 5, len(co_lines))
        cl = np.repeat(co_lines, k_per)
        m = len(cl)
        cm = d.colluding[rng.integers(0, len(d.colluding), len(co_lines))]
        cmer = np.repeat(cm, k_per)
        lim = a["amount"][lines][cl]
        rounds = np.array([1000, 2000, 3000, 5000, 8000, 10000, 20000]) * 100
        r_amt = rounds[rng.integers(0, len(rounds), m)]
        r_amt = np.where(r_amt > lim, (lim // 100000) * 100000, r_amt)
        r_amt = np.maximum(r_amt, 100000)
        style = rng.random(m)
        co_amt = np.where(style < 0.5, r_amt, np.where(style < 0.8, lim - rng.integers(1, 101, m) * 100,
                                                       r_amt - rng.integers(1, 3, m) * 100))
        co_amt = np.clip(co_amt, 100, lim)
        det = np.where(style < 0.5, 0, np.where(style < 0.8, 1, 2))  # index into CASH_OUT_STYLES
        ct = app_ts[cl] + (rng.random(m) * (stop[cl] - app_ts[cl] - DAY_US)).astype(np.int64)
        ct = (ct // DAY_US) * DAY_US + time_of_day(rng, m, night_share=0.6)
        ct = np.clip(ct, app_ts[cl] + MIN_US, np.minimum(stop[cl] - MIN_US, self.end_us - 25 * HOUR_US))
        cpi = a["person"][lines][cl]
        on_m = rng.random(m) < cfg.cash_out_device_share
        mslot = self.P.device_base["merchant"] + 2 * np.searchsorted(d.colluding, cmer) + rng.integers(0, 2, m)
        cdev = np.where(on_m, mslot, self.P.device[cpi])
        li = np.concatenate([li, cl])
        t = np.concatenate([t, ct])
        fen = np.concatenate([fen, co_amt])
        inst = np.concatenate([inst, np.where(rng.random(m) < 0.4, 1, rng.choice([3, 6, 12], m))])
        merchant = np.concatenate([merchant, cmer])
        pi = np.concatenate([pi, cpi])
        dev = np.concatenate([dev, cdev])
        is_co = np.concatenate([is_co, np.ones(m, bool)])
        co_detail = np.concatenate([co_detail, det])
        n = len(li)
        # ---- refunds of ordinary purchases
        ref = (~is_co) & (rng.random(n) < 0.02)
        rt = t[ref] + rng.integers(1, 11, int(ref.sum())) * DAY_US + rng.integers(0, DAY_US, int(ref.sum()))
        ref_ok = rt < self.end_us
        ref_src = np.nonzero(ref)[0][ref_ok]
        rt = rt[ref_ok]
        all_i = np.concatenate([np.arange(n), ref_src])
        nn = len(all_i)
        is_ref = np.concatenate([np.zeros(n, bool), np.ones(len(ref_src), bool)])
        tt = np.concatenate([t, rt])
        app_of = lines[li[all_i]]
        af = self.app_frame
        cols = {
            "event_type": ["purchase"] * nn, "ts": ts_series(tt), "customer_id": self.cust(pi[all_i]),
            "id_token": af["id_token"].gather(app_of), "name_token": af["name_token"].gather(app_of),
            "phone_token": af["phone_token"].gather(app_of), "card_token": af["card_token"].gather(app_of),
            "device_id": _take(self.dev_pool, dev[all_i]),
            "ip": af["ip"].gather(app_of),
            "merchant_id": _take(d.ids, merchant[all_i]), "merchant_category": _take(d.category, merchant[all_i]),
            "amount_fen": fen[all_i], "installments": np.where(is_ref, 1, inst[all_i]), "is_refund": is_ref,
            "_tb": np.arange(nn), "_src": np.where(is_ref, all_i, -1),
            "_co": np.where(is_co[all_i] & ~is_ref, co_detail[all_i], -1),
        }
        f = _finish(_frame("purchase", cols, nn), "PU")
        ids_by_tb = f.select("_tb", "event_id").sort("_tb")["event_id"]
        f = f.with_columns(pl.when(pl.col("is_refund")).then(
            ids_by_tb.gather(np.maximum(f["_src"].to_numpy(), 0))).alias("refund_of"))
        co = f.filter(pl.col("_co") >= 0)
        self.label("cash_out", "purchase", co["event_id"], co["merchant_id"],
                   _take(np.array(CASH_OUT_STYLES, dtype=object), co["_co"].to_numpy()))
        used = np.unique(cmer)
        self.label("cash_out_merchant", "merchant", _take(d.ids, used), _take(d.ids, used),
                   _take(d.category, used))
        # money back within 24 h: from the merchant or an account linked to it
        back_idx = np.nonzero(is_co)[0]
        self.cash_back = {
            "ts": t[back_idx] + rng.integers(12 * MIN_US, 24 * HOUR_US, len(back_idx)),
            "person": pi[back_idx], "app": lines[li[back_idx]], "merchant": merchant[back_idx],
            "amount": np.round(fen[back_idx] * rng.uniform(0.90, 0.97, len(back_idx))).astype(np.int64),
            "purchase_tb": back_idx,
        }
        self.purchase_ids_by_idx = ids_by_tb
        # ---- bills: purchases (not refunded) spread over installments, due on the 10th of next month
        keep = np.ones(n, bool)
        keep[ref_src] = False
        bi = np.nonzero(keep)[0]
        k_inst = inst[bi]
        rows = np.repeat(bi, k_inst)
        j = np.arange(len(rows)) - np.repeat(np.cumsum(k_inst) - k_inst, k_inst)
        kk = inst[rows]
        amt = fen[rows]
        principal = amt // kk + np.where(j == 0, amt % kk, 0)
        fee_rate = np.select([kk == 3, kk == 6, kk == 12], [FEE_TOTAL[3], FEE_TOTAL[6], FEE_TOTAL[12]], 0.0)
        fee = np.round(amt * fee_rate / kk).astype(np.int64)
        due_month = month_index(t[rows] // DAY_US) + 1 + j
        bills = (pl.DataFrame({"line": li[rows], "due_month": due_month, "principal": principal, "fee": fee})
                 .group_by(["line", "due_month"]).agg(pl.col("principal").sum(), pl.col("fee").sum())
                 .sort(["line", "due_month"]))
        due_day = month_start_day(bills["due_month"].to_numpy()) + 9
        bills = bills.with_columns(pl.Series("due_day", due_day)).filter(pl.col("due_day") < self.end_day)
        bl = bills["line"].to_numpy()
        dm = bills["due_month"].to_numpy()
        ym = (dm - 1) // 12 + 1970, (dm - 1) % 12 + 1
        self.bills = {
            "app": lines[bl], "seq": dm - app_month[bl], "due_day": bills["due_day"].to_numpy(),
            "principal": bills["principal"].to_numpy(), "interest": np.zeros(len(bl), np.int64),
            "fee": bills["fee"].to_numpy(), "installment": np.ones(len(bl), np.int64),
            "loan_id": self.line_ids.gather(bl) + pl.Series(
                [f"-B{y}{m:02d}" for y, m in zip(ym[0].tolist(), ym[1].tolist(), strict=True)]),
        }
        self.line_used = np.zeros(len(lines), bool)
        self.line_used[np.unique(li)] = True
        return f.drop("_src")

    # ------------------------------------------------------------ repayments
    def repayments(self) -> pl.DataFrame:
        a = self.a
        rng = self.r["repay"]
        sched = amortize(a["amount"][self.loan_app], self.rate, a["term"][self.loan_app])
        lo = sched["loan"]
        due = add_months(self.disb_ts[lo] // DAY_US, sched["installment"])
        keep = due < self.end_day
        lo, inst = lo[keep], sched["installment"][keep]
        cash = {"app": self.loan_app[lo], "seq": inst, "due_day": due[keep], "principal": sched["principal"][keep],
                "interest": sched["interest"][keep], "fee": np.zeros(int(keep.sum()), np.int64),
                "installment": inst, "loan_id": self.loan_ids.gather(lo)}
        b = self.bills
        allr = {k: np.concatenate([cash[k], b[k]]) for k in cash if k != "loan_id"}
        loan_id = pl.concat([cash["loan_id"], b["loan_id"]])
        ev = repayment_events(rng, app=allr["app"], seq=allr["seq"], due_day=allr["due_day"],
                              principal=allr["principal"], interest=allr["interest"], fee=allr["fee"],
                              default_seq=a["default_seq"], late_p=a["late_p"], end_day=self.end_day)
        r = ev["row"]
        n = len(r)
        pay = ev["is_pay"]
        due_fen = allr["principal"][r] + allr["interest"][r] + allr["fee"][r]
        app = allr["app"][r]

        def paid(x: np.ndarray) -> np.ndarray:
            return np.where(pay, x[r], 0)
        cols = {
            "event_type": ["repayment"] * n, "ts": ts_series(ev["ts"]), "customer_id": self.cust(a["person"][app]),
            "loan_id": loan_id.gather(r), "installment_no": allr["installment"][r],
            "due_date": date_series(allr["due_day"][r], "due_date"),
            "paid_date": date_series(ev["paid_day"], "paid_date").zip_with(
                pl.Series(pay), pl.Series([None] * n, dtype=pl.Date)),
            "due_fen": due_fen, "paid_fen": np.where(pay, due_fen, 0), "paid_principal_fen": paid(allr["principal"]),
            "paid_interest_fen": paid(allr["interest"]), "paid_fee_fen": paid(allr["fee"]), "dpd": ev["dpd"],
            "_tb": np.arange(n), "_app": app, "_due": allr["due_day"][r],
        }
        return _finish(_frame("repayment", cols, n), "RP")

    # ------------------------------------------------------------ transfers
    def transfers(self) -> pl.DataFrame:
        a, d = self.a, self.dir
        rng = self.r["transfers"]
        la = self.loan_app
        amount = a["amount"][la]
        kind = a["kind"][la]
        segs: list[dict[str, Any]] = []

        def seg(loan: np.ndarray, ts: np.ndarray, amt: np.ndarray, cp_id: np.ndarray, cp_type: np.ndarray,
                cp_cat: np.ndarray, cp_name: np.ndarray, direction: str = "out", lp: str | None = None,
                app: np.ndarray | None = None, card: np.ndarray | None = None, lg=None, ld=None) -> None:
            m = len(ts)
            segs.append({"loan": loan, "app": la[loan] if app is None else app, "ts": ts,
                         "card": np.full(m, None, dtype=object) if card is None else card,
                         "amount": np.maximum(amt, 100).astype(np.int64),
                         "cp_id": cp_id, "cp_type": cp_type, "cp_cat": cp_cat, "cp_name": cp_name,
                         "direction": np.full(m, direction, dtype=object), "lp": np.full(m, lp, dtype=object),
                         "lg": np.full(m, None, dtype=object) if lg is None else lg,
                         "ld": np.full(m, None, dtype=object) if ld is None else ld})
        selfpay = ~self.entrusted
        # ordinary spending of self-payment loans: merchants, people, own accounts, cash
        ordi = np.nonzero(selfpay & (kind == A.KIND_ORDINARY) & ~self.l2r)[0]
        cnt = rng.integers(1, 4, len(ordi))
        lo = np.repeat(ordi, cnt)
        m = len(lo)
        share = rng.uniform(0.4, 1.0, m) / np.repeat(cnt, cnt)
        ts = (self.disb_ts[lo] // DAY_US + rng.integers(0, 21, m)) * DAY_US + time_of_day(rng, m)
        ts = np.maximum(ts, self.disb_ts[lo] + rng.integers(10, 120, m) * MIN_US)
        typ = rng.choice(4, m, p=[0.55, 0.2, 0.15, 0.1])
        cats = [*M.ENTRUSTED_PURPOSE, "everyday_retail", "electronics"]
        mer = M.pick_merchants(rng, d, cats, rng.integers(0, len(cats), m))
        pacc = self.person_accounts[rng.integers(0, len(self.person_accounts), m)]
        cp_id = np.where(typ == 0, d.ids[mer], np.where(typ == 1, pacc, np.where(
            typ == 2, self.own_accounts[a["person"][la[lo]]], "ATM")))
        ord_seg, ord_lo, ord_ts = len(segs), lo, ts
        seg(lo, ts, np.round(amount[lo] * share),
            cp_id, np.array(["merchant", "individual", "own_account", "cash"], dtype=object)[typ],
            np.where(typ == 0, d.category[mer], np.array([None, "person", "own_account", "cash_withdrawal"],
                                                         dtype=object)[typ]),
            np.where(typ == 0, d.name[mer], None))
        # ordinary inflows not tied to a loan: monthly salary from the employer, money from other people
        ko = np.nonzero(a["kind"] == A.KIND_ORDINARY)[0]
        persons, first = np.unique(a["person"][ko], return_index=True)
        fa = ko[first]  # each ordinary customer's first application
        emp = self.P.employer[persons]
        sal = np.nonzero((emp >= 0) & (rng.random(len(persons)) < 0.35))[0]
        n_months = self.cfg.months + 1
        sp = np.repeat(sal, n_months)
        mon = np.tile(np.arange(n_months), len(sal))
        payday = np.repeat(rng.integers(5, 16, len(sal)), n_months)
        sts = (month_start_day(month_index(np.full(len(sp), self.start_day)) + mon) + payday) * DAY_US + \
            rng.integers(9 * HOUR_US, 18 * HOUR_US, len(sp))
        ok = sts > a["ts"][fa[sp]]
        sp, sts = sp[ok], sts[ok]
        inc = self.P.income_fen[persons[sp]]
        seg(np.full(len(sp), -1), sts, np.round(inc * rng.uniform(0.85, 1.05, len(sp))),
            np.asarray(self.P.employers, dtype=object)[emp[sp]], np.full(len(sp), "company", object),
            np.full(len(sp), None, object), self.employer_names[emp[sp]], direction="in", app=fa[sp])
        p2p = np.nonzero(rng.random(len(persons)) < 0.12)[0]
        cnt = rng.integers(1, 3, len(p2p))
        pp = np.repeat(p2p, cnt)
        m = len(pp)
        start = a["ts"][fa[pp]]
        pts = start + (rng.random(m) * np.maximum(self.end_us - start, 1)).astype(np.int64)
        pts = (pts // DAY_US) * DAY_US + time_of_day(rng, m)
        pts = np.maximum(pts, start + HOUR_US)
        amt = np.round(rng.lognormal(np.log(2000), 0.8, m)) * 100
        amt = np.where(rng.random(m) < 0.5, np.round(amt / 10000) * 10000, amt)
        seg(np.full(m, -1), pts, amt, self.person_accounts[rng.integers(0, len(self.person_accounts), m)],
            np.full(m, "individual", object), np.full(m, "person", object), np.full(m, None, object),
            direction="in", app=fa[pp])
        if self.P.structure is not None:
            structure.money_segments(self, seg, persons, fa)
            structure.lender_segments(self, seg)
        # fund misuse: prohibited categories within the configured delay (default 1–30 days)
        cfg = self.cfg
        mis = np.nonzero(self.misuse)[0]
        cnt = rng.integers(1, cfg.fund_misuse_splits_max + 1, len(mis))
        lo = np.repeat(mis, cnt)
        m = len(lo)
        pool = np.concatenate([M.of_category(d, c) for c in ("real_estate", "securities", "fund_wealth", "futures")])
        cp = pool[rng.integers(0, len(pool), m)]
        ts = self.disb_ts[lo] + rng.integers(cfg.fund_misuse_delay_days_min, cfg.fund_misuse_delay_days_max + 1,
                                             m) * DAY_US - rng.integers(0, 20, m) * HOUR_US
        ts = np.maximum(ts, self.disb_ts[lo] + 10 * MIN_US)
        share = rng.uniform(cfg.fund_misuse_share_min, cfg.fund_misuse_share_max, m) / np.repeat(cnt, cnt)
        amt = np.round(amount[lo] * share)
        p = self._other_prohibited(self._payees(cp))
        names, cats, card = self._misuse_payees(seg, lo, ts, amt, p)
        seg(lo, ts, amt, p["ids"], p["type"], cats, names, lp="fund_misuse", ld=p["cat"], card=card)
        sp_lo, sp_moved = self._splitting(seg, amount)
        # a misused loan's ordinary spending is what is left of the loan after the share moved (so the labelled
        # transfers are loan money by any accounting, not the borrower's own funds spent beyond the loan)
        o = segs[ord_seg]
        moved = (np.bincount(lo, weights=np.maximum(amt, 100), minlength=len(la))
                 + np.bincount(sp_lo, weights=sp_moved, minlength=len(la))) / amount
        spent = np.bincount(o["loan"], weights=o["amount"], minlength=len(la)) / amount
        room = np.clip(1.0 - moved, 0.0, None)
        scale = np.where((moved > 0) & (spent > room), room / np.maximum(spent, 1e-12), 1.0)
        o["amount"] = np.maximum(np.floor(o["amount"] * scale[o["loan"]]), 100).astype(np.int64)
        self._lookalikes(seg, ord_lo, ord_ts, o["amount"], typ, mer, cp_id, ordi)
        # loan to repay loan: other lenders within 0–5 days
        l2r = np.nonzero(self.l2r)[0]
        cnt = rng.integers(1, 4, len(l2r))
        lo = np.repeat(l2r, cnt)
        m = len(lo)
        lp_pool = M.of_category(d, "lender")
        cp = lp_pool[rng.integers(0, len(lp_pool), m)]
        ts = self.disb_ts[lo] + rng.integers(1, 6 * 24, m) * HOUR_US
        share = rng.uniform(0.3, 0.9, m) / np.repeat(cnt, cnt)
        amt = np.round(amount[lo] * share)
        p = self._payees(cp)
        names, cats, card = self._misuse_payees(seg, lo, ts, amt, p)
        seg(lo, ts, amt, p["ids"], p["type"], cats, names, lp="fund_misuse", ld=p["cat"], card=card)
        # rings: most of the money to the ring agent's account within a day
        rl = np.nonzero(kind == A.KIND_RING)[0]
        ag = np.array([x["agent_account"] for x in self.rings_info], dtype=object)[a["group"][la[rl]]]
        seg(rl, self.disb_ts[rl] + rng.integers(30 * MIN_US, 20 * HOUR_US, len(rl)),
            np.round(amount[rl] * rng.uniform(0.7, 0.9, len(rl))), ag, np.full(len(rl), "individual", object),
            np.full(len(rl), "person", object), np.full(len(rl), None, object))
        # identity theft: immediately to unrelated individuals
        tl = np.nonzero(kind == A.KIND_THEFT)[0]
        cnt = rng.integers(1, 3, len(tl))
        lo = np.repeat(tl, cnt)
        m = len(lo)
        share = rng.uniform(0.9, 1.0, m) / np.repeat(cnt, cnt)
        seg(lo, self.disb_ts[lo] + rng.integers(5 * MIN_US, 3 * HOUR_US, m), np.round(amount[lo] * share),
            self.theft_accounts[np.arange(m) % len(self.theft_accounts)], np.full(m, "individual", object),
            np.full(m, "person", object), np.full(m, None, object))
        # cash-out money back (direction in), not tied to a loan
        cb = self.cash_back
        m = len(cb["ts"])
        from_m = rng.random(m) < 0.6
        ci = np.searchsorted(d.colluding, cb["merchant"])
        seg(np.full(m, -1), cb["ts"], cb["amount"], np.where(from_m, d.ids[cb["merchant"]], d.linked_account[ci]),
            np.where(from_m, "merchant", "individual").astype(object),
            np.where(from_m, d.category[cb["merchant"]], "person").astype(object),
            np.where(from_m, d.name[cb["merchant"]], None).astype(object), direction="in", app=cb["app"],
            lp="cash_out", lg=d.ids[cb["merchant"]], ld=np.full(m, "money_back", dtype=object))
        s = {key: np.concatenate([x[key] for x in segs]) for key in segs[0]}
        ok = s["ts"] < self.end_us
        s = {key: v[ok] for key, v in s.items()}
        n = len(s["ts"])
        app = s["app"]
        card = pl.DataFrame({"o": pl.Series(s["card"].tolist(), dtype=pl.Utf8),
                             "d": self.app_frame["card_token"].gather(app)}).select(pl.coalesce("o", "d")).to_series()
        cols = {
            "event_type": ["transfer"] * n, "ts": ts_series(s["ts"]), "customer_id": self.cust(a["person"][app]),
            "card_token": card, "loan_id": _take(
                np.asarray(self.loan_ids.to_list(), dtype=object), s["loan"]),
            "direction": s["direction"], "counterparty_id": pl.Series(s["cp_id"].tolist(), dtype=pl.Utf8),
            "counterparty_type": s["cp_type"], "counterparty_category": pl.Series(s["cp_cat"].tolist(),
                                                                                    dtype=pl.Utf8),
            "counterparty_name": pl.Series(s["cp_name"].tolist(), dtype=pl.Utf8), "amount_fen": s["amount"],
            "_tb": np.arange(n), "_lp": pl.Series(s["lp"].tolist(), dtype=pl.Utf8),
            "_lg": pl.Series(s["lg"].tolist(), dtype=pl.Utf8), "_ld": pl.Series(s["ld"].tolist(), dtype=pl.Utf8),
        }
        f = _finish(_frame("transfer", cols, n), "TR")
        fm = f.filter(pl.col("_lp") == "fund_misuse")
        self.label("fund_misuse", "transfer", fm["event_id"], fm["loan_id"], fm["_ld"])
        per_loan = fm.group_by("loan_id").agg(pl.col("_ld").first()).sort("loan_id")
        self.label("fund_misuse", "loan", per_loan["loan_id"], per_loan["loan_id"], per_loan["_ld"])
        sp = f.filter(pl.col("_lp") == "splitting")
        self.label("splitting", "transfer", sp["event_id"], sp["_lg"], sp["_ld"])
        sl = sp.group_by("_lg").agg(pl.col("_ld").first()).sort("_lg")
        pair = pl.DataFrame({"_lg": _take(self.loan_ids.to_numpy().astype(object), self.split_pairs[0]),
                             "loan_id": _take(self.loan_ids.to_numpy().astype(object), self.split_pairs[1])})
        sl = pl.concat([sl.with_columns(pl.col("_lg").alias("loan_id")),
                        sl.join(pair, on="_lg").select("_lg", "_ld", "loan_id")]).sort("loan_id")
        self.label("splitting", "loan", sl["loan_id"], sl["_lg"], sl["_ld"])
        cb_l = f.filter(pl.col("_lp") == "cash_out")
        self.label("cash_out", "transfer", cb_l["event_id"], cb_l["_lg"], cb_l["_ld"])
        l2r_ids = self.loan_ids.filter(pl.Series(self.l2r))
        self.label("loan_to_repay_loan", "loan", l2r_ids, l2r_ids, pl.Series(["lender"] * len(l2r_ids)))
        return f

    def _splitting(self, seg: Callable[..., None], amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The splitting customers' payments (化整为零): 90–100 % of their two drawdowns to one decoration, car
        or furniture merchant in ``splitting_payments_min..max`` payments, the first between the drawdowns for
        half of them, the others within ``splitting_days`` after the second. Returns (loan, amount moved) so the
        loans' ordinary spending is scaled to what is left."""
        cfg, d, r3 = self.cfg, self.dir, self.r_post[2]
        la = self.loan_app
        sv, person = self.a["split"][la], self.a["person"][la]
        i1, i2 = np.nonzero(sv == 1)[0], np.nonzero(sv == 2)[0]
        i1, i2 = i1[np.argsort(person[i1], kind="stable")], i2[np.argsort(person[i2], kind="stable")]
        last = self.disb_ts[i2] + max(self.cfg.splitting_days * DAY_US, HOUR_US)
        keep = last < self.end_us  # a split is planted whole inside the world (the later pairs stay ordinary loans)
        i1, i2 = i1[keep], i2[keep]
        self.split_pairs = (i1, i2)
        m = len(i1)
        if m == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        cats = ["decoration", "auto", "furniture"]
        payee = M.pick_merchants(r3, d, cats, r3.integers(0, len(cats), m))
        n = r3.integers(cfg.splitting_payments_min, cfg.splitting_payments_max + 1, m)
        total = np.floor((amount[i1] + amount[i2]) * r3.uniform(0.9, 1.0, m))
        c = np.repeat(np.arange(m), n)
        w = r3.uniform(0.6, 1.4, len(c))
        share = w / np.bincount(c, weights=w, minlength=m)[c]
        amt = np.floor(total[c] * share / 100) * 100
        k = np.arange(len(c)) - np.repeat(np.cumsum(n) - n, n)  # payment number within the customer
        d1, d2 = self.disb_ts[i1][c], self.disb_ts[i2][c]
        between = (r3.random(m) < 0.5)[c] & (k == 0)
        amt = np.where(between, np.minimum(amt, amount[i1][c]), amt)
        end = d2 + max(cfg.splitting_days * DAY_US, HOUR_US)
        after = d2 + 10 * MIN_US + ((end - d2 - 10 * MIN_US) * r3.random(len(c))).astype(np.int64)
        ts = np.where(between, d1 + 10 * MIN_US + ((d2 - d1 - 20 * MIN_US) * r3.random(len(c))).astype(np.int64),
                      after)
        ts = self._sorted_within(ts, c)
        loan = np.where(ts < d2, i1[c], i2[c])
        lg = np.asarray(self.loan_ids.to_list(), dtype=object)[i1][c]
        seg(loan, ts, amt, d.ids[payee][c], np.full(len(c), "merchant", object), d.category[payee][c],
            d.name[payee][c], lp="splitting", lg=lg, ld=d.category[payee][c])
        frac1 = amount[i1] / (amount[i1] + amount[i2])
        return np.concatenate([i1, i2]), np.concatenate([total * frac1, total * (1 - frac1)])

    @staticmethod
    def _sorted_within(ts: np.ndarray, group: np.ndarray) -> np.ndarray:
        """``ts`` sorted within each group (groups contiguous), so payment k comes before payment k + 1."""
        o = np.lexsort((ts, group))
        return ts[o]

    def _payees(self, cp: np.ndarray) -> dict[str, np.ndarray]:
        d = self.dir
        return {"ids": d.ids[cp], "type": d.cp_type[cp], "cat": d.category[cp], "name": d.name[cp],
                "region": d.region[cp]}

    def _other_prohibited(self, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``fund_misuse_other_share`` of the prohibited transfers go to crypto exchanges, gambling operators or
        business suppliers instead (counterparties made here, beside the merchant directory)."""
        r2 = self.r_post[1]
        m = len(p["ids"])
        rows = np.nonzero(r2.random(m) < self.cfg.fund_misuse_other_share)[0]
        if len(rows) == 0:
            return p
        cats = np.array(["crypto", "gambling", "business_supplier"], dtype=object)
        n = max(6, self.cfg.customers // 2000)
        ocat = cats[np.arange(n) % len(cats)]
        oreg = r2.choice(geo.N_REGIONS, n, p=geo.WEIGHT)
        oname = np.empty(n, dtype=object)
        for c in cats.tolist():
            idx = np.nonzero(ocat == c)[0]
            oname[idx] = texts.company_names(r2, geo.CITY[oreg[idx]], c)
        pick = r2.integers(0, n, len(rows))
        p = {k: v.copy() for k, v in p.items()}
        p["ids"][rows] = M.company_ids(r2, n)[pick]
        p["type"][rows] = np.where(ocat[pick] == "business_supplier", "company", "financial")
        p["cat"][rows], p["name"][rows], p["region"][rows] = ocat[pick], oname[pick], oreg[pick]
        return p

    def _misuse_payees(self, seg: Callable[..., None], lo: np.ndarray, ts: np.ndarray, amt: np.ndarray,
                       p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Names and categories the prohibited transfers show, and the account each leaves from: routed loans
        first move the money through ``fund_misuse_hops - 1`` own accounts (those hop transfers are emitted
        here). Returns (names, categories, card of the final transfer or None for the disbursement account)."""
        cfg, r2 = self.cfg, self.r_post[1]
        m = len(lo)
        names = p["name"].copy()
        if cfg.fund_misuse_payee_names == "variant":
            for c in np.unique(p["cat"]).tolist():
                idx = np.nonzero(p["cat"] == c)[0]
                if c in texts.VARIANT_SUFFIX:
                    names[idx] = texts.variant_names(r2, geo.CITY[p["region"][idx]], c)
        cats = np.where(r2.random(m) < cfg.fund_misuse_category_known_share, p["cat"], None).astype(object)
        card = np.full(m, None, dtype=object)
        loans = np.unique(lo)
        routed_loans = loans[r2.random(len(loans)) < cfg.fund_misuse_routed_share] if cfg.fund_misuse_hops > 1 \
            else loans[:0]
        rows = np.nonzero(np.isin(lo, routed_loans))[0]
        if len(rows) == 0:
            return names, cats, card
        hops = cfg.fund_misuse_hops
        person = self.a["person"][self.loan_app[lo[rows]]]
        extra = M.account_ids(r2, len(rows) * (hops - 2)).reshape(len(rows), hops - 2) if hops > 2 else None
        t0 = self.disb_ts[lo[rows]] + 10 * MIN_US
        span = np.maximum(ts[rows] - t0, hops * MIN_US)
        prev = np.full(len(rows), None, dtype=object)
        for k in range(1, hops):
            acct = self.own_accounts[person] if k == 1 else extra[:, k - 2]
            tk = t0 + span * (k - 1) // (hops - 1) + r2.integers(0, MIN_US, len(rows))
            seg(lo[rows], tk, amt[rows], acct.astype(object), np.full(len(rows), "own_account", object),
                np.full(len(rows), "own_account", object), np.full(len(rows), None, object), card=prev.copy())
            prev = acct.astype(object)
            last = tk
        ts[rows] = np.maximum(ts[rows], last + MIN_US)  # the money leaves the last own account after it arrived
        card[rows] = prev
        return names, cats, card

    def _lookalikes(self, seg: Callable[..., None], lo: np.ndarray, ts: np.ndarray, amt: np.ndarray,
                    typ: np.ndarray, mer: np.ndarray, cp_id: np.ndarray, ordi: np.ndarray) -> None:
        """Legitimate post-loan flows that resemble misuse: spending on from the borrower's own account
        (household goods, family), refunds of loan-funded purchases, property-service and insurance fees."""
        cfg, d, r2 = self.cfg, self.dir, self.r_post[1]
        own = np.nonzero((typ == 2) & (r2.random(len(typ)) < cfg.lookalike_own_onward_share))[0]
        m = len(own)
        if m:
            cats = ["home_appliance", "furniture", "decoration", "everyday_retail", "electronics"]
            om = M.pick_merchants(r2, d, cats, r2.integers(0, len(cats), m))
            fam = r2.random(m) < 0.25
            pacc = self.person_accounts[r2.integers(0, len(self.person_accounts), m)]
            seg(lo[own], ts[own] + r2.integers(1, 11, m) * DAY_US + r2.integers(0, HOUR_US, m),
                np.round(amt[own] * r2.uniform(0.3, 1.0, m)), np.where(fam, pacc, d.ids[om]).astype(object),
                np.where(fam, "individual", "merchant").astype(object),
                np.where(fam, "person", d.category[om]).astype(object), np.where(fam, None, d.name[om]).astype(object),
                card=cp_id[own].astype(object))
        ref = np.nonzero((typ == 0) & (r2.random(len(typ)) < cfg.lookalike_refund_share))[0]
        m = len(ref)
        if m:
            seg(lo[ref], ts[ref] + r2.integers(2, 11, m) * DAY_US + r2.integers(0, HOUR_US, m),
                np.round(amt[ref] * r2.uniform(0.2, 1.0, m)), d.ids[mer[ref]], np.full(m, "merchant", object),
                d.category[mer[ref]], d.name[mer[ref]], direction="in")
        r3 = self.r_post[2]
        plain = ordi[~self.misuse[ordi] & ~self.split[ordi]]
        rep = plain[r3.random(len(plain)) < cfg.lookalike_repeat_share]  # several small purchases at one merchant
        m = len(rep)
        if m:
            cats = ["everyday_retail", "catering", "electronics", "home_appliance"]
            pm = M.pick_merchants(r3, d, cats, r3.integers(0, len(cats), m))
            c = np.repeat(np.arange(m), r3.integers(3, 7, m))
            seg(rep[c], self.disb_ts[rep][c] + r3.integers(1, 7 * 24, len(c)) * HOUR_US + r3.integers(0, HOUR_US, len(c)),
                np.round(self.a["amount"][self.loan_app[rep]][c] * r3.uniform(0.01, 0.06, len(c))), d.ids[pm][c],
                np.full(len(c), "merchant", object), d.category[pm][c], d.name[pm][c])
        svc = ordi[r2.random(len(ordi)) < cfg.lookalike_service_share]
        m = len(svc)
        if m:
            cats = ["public_service", "insurance"]
            sm = M.pick_merchants(r2, d, cats, r2.integers(0, len(cats), m))
            seg(svc, self.disb_ts[svc] + r2.integers(1, 31 * 24, m) * HOUR_US,
                np.round(self.a["amount"][self.loan_app[svc]] * r2.uniform(0.02, 0.15, m)), d.ids[sm],
                np.full(m, "merchant", object), d.category[sm], d.name[sm])

    # ------------------------------------------------------------ complaints
    def complaints(self, rep: pl.DataFrame, disb: pl.DataFrame) -> pl.DataFrame:
        cfg, a = self.cfg, self.a
        rng = self.r["complaints"]
        rows: list[dict[str, Any]] = []
        # 1. identity-theft victims: "not me", 20–60 days after disbursement once collection starts
        th = np.nonzero(a["kind"][self.loan_app] == A.KIND_THEFT)[0]
        for i in th.tolist():
            day = max(int(self.disb_ts[i] // DAY_US) + int(rng.integers(20, 61)),
                      int(self.first_due[i]) + int(rng.integers(1, 6)))
            ts = day * DAY_US + int(time_of_day(rng, 1)[0])
            if ts >= self.end_us:
                continue
            rows.append({"ts": ts, "person": int(a["person"][self.loan_app[i]]), "loan": self.loan_ids[i],
                         "channel": str(rng.choice(["hotline", "app", "regulator_12378", "online_platform"],
                                                   p=[0.4, 0.3, 0.2, 0.1])),
                         "text": texts.genuine_text(rng, "not_me"), "rep": -1,
                         "demands": ["not_me", *(["credit_repair"] if rng.random() < 0.5 else [])],
                         "documents": ["police_report"] if rng.random() < 0.5 else [], "not_me": True,
                         "lp": "identity_theft", "lg": f"ATK-{int(a['group'][self.loan_app[i]]) + 1:03d}",
                         "ld": "victim_not_me"})
        # 2. organised complaints: agents recruit borrowers who entered collections (DPD 30), in waves
        d30 = (rep.filter(pl.col("dpd") == 30).group_by("loan_id").agg(pl.col("ts").min(), pl.col("_app").first(),
                                                                         pl.col("customer_id").first())
               .sort("loan_id"))
        d30 = d30.filter(pl.Series(a["kind"][d30["_app"].to_numpy()] != A.KIND_THEFT))
        c_day = (d30["ts"].dt.replace_time_zone(None).cast(pl.Int64).to_numpy() // DAY_US)
        elig = np.nonzero(c_day + 1 < self.end_day)[0]
        n_pick = max(round(len(elig) * cfg.organised_complaint_share), min(len(elig), 2 * cfg.complaint_agents))
        pick = np.sort(rng.choice(elig, n_pick, replace=False)) if n_pick else elig[:0]
        K = cfg.complaint_agents
        agent = np.arange(len(pick)) % K
        rng.shuffle(agent)
        waves = [self.start_day + int(rng.integers(20, 35)) + np.cumsum(rng.integers(7, 15, 40)) for _ in range(K)]
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
            day = min(day + int(r2.integers(0, spread)), self.end_day - 1)
            docs = (["hospital_certificate"] if rng.random() < 0.75 else []) + (
                ["hardship_statement"] if rng.random() < 0.4 else []) + (["lawyer_letter"] if rng.random() < 0.2 else [])
            rot = cfg.complaint_rep_rotation
            key = (g, int(filed[g] // rot) if rot else 0)
            filed[g] += 1
            if key not in rep_tok:
                rep_tok[key] = (self.tokenizer.token("phone", "19" + f"{int(r2.integers(0, 10**9)):09d}"),
                                self.tokenizer.token("name", texts.rep_name(r2)))
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
        first_ts = np.full(self.plan.persons, -1, dtype=np.int64)
        order = np.argsort(a["ts"])[::-1]
        first_ts[a["person"][order]] = a["ts"][order]
        cands = np.nonzero((first_ts > 0) & (first_ts < self.end_us - 2 * DAY_US) & (self.plan.role == 0))[0]
        people = rng.choice(cands, min(n_g, len(cands)), replace=False)
        loan_of = {}
        for lid, app in zip(disb["loan_id"].to_list(), self.loan_app.tolist(), strict=True):
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
            ts = t0 + int(rng.random() * (self.end_us - t0))
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
                    ts = min(ts, self.end_us - HOUR_US)
                if "hospital_certificate" in docs:
                    issuer = hospitals[int(r2.choice(len(hospitals), p=hosp_w))]
            if r2.random() < cfg.genuine_rep_share:
                if r2.random() < 0.5:  # a family member
                    rep_t = self.tokenizer.token("phone", "13" + f"{int(r2.integers(0, 10**9)):09d}")
                    rep_n = self.tokenizer.token("name", texts.rep_name(r2))
                else:  # a law firm (a firm may act for several unrelated clients)
                    f = int(r2.integers(firms))
                    if f not in firm_tok:
                        firm_tok[f] = (self.tokenizer.token("phone", "18" + f"{int(r2.integers(0, 10**9)):09d}"),
                                       self.tokenizer.token("name", texts.rep_name(r2)))
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
            "customer_id": self.cust(np.array([r["person"] for r in rows], dtype=np.int64)),
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
        f = _finish(_frame("complaint", cols, n), "CP")
        for pat in ("organised_complaint", "identity_theft"):
            x = f.filter(pl.col("_lp") == pat)
            self.label(pat, "complaint", x["event_id"], x["_lg"], x["_ld"])
        return f

    # ------------------------------------------------------------ collection contacts
    def collection_contacts(self, rep: pl.DataFrame, comp: pl.DataFrame, disb: pl.DataFrame) -> pl.DataFrame:
        from fengkong.simulate.contacts import collection_contacts

        cfg = self.cfg
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0xC011EC7]))
        af = self.app_frame
        apps = disb.select("loan_id", "customer_id", "application_id").join(
            af.select(pl.col("event_id").alias("application_id"), "phone_token", "contact_tokens"),
            on="application_id", how="left")
        rows, self.collectors = collection_contacts(rng, self.tokenizer, rep, comp, apps, self.end_us,
                                                    cfg.collection_agencies, cfg.misbehaving_loan_share)
        rows = [r for r in rows if r["ts"] < self.end_us]
        n = len(rows)
        cols: dict[str, Any] = {"event_type": ["collection_contact"] * n,
                                "ts": ts_series(np.array([r["ts"] for r in rows], dtype=np.int64))}
        for k in ("customer_id", "loan_id", "channel", "target", "target_relation", "target_token", "collector_id",
                  "agency_id", "caller_number_token", "outcome", "_lp", "_lg", "_ld"):
            cols[k] = pl.Series([r[k] for r in rows], dtype=pl.Utf8)
        cols["collectors_present"] = pl.Series([r["collectors_present"] for r in rows], dtype=pl.Int16)
        cols["_tb"] = np.arange(n)
        f = _finish(_frame("collection_contact", cols, n), "CC")
        x = f.filter(pl.col("_lp") == "contact_violation")
        self.label("contact_violation", "collection_contact", x["event_id"], x["_lg"], x["_ld"])
        return f

    # ------------------------------------------------------------ outcomes
    def outcomes(self, rep: pl.DataFrame) -> pl.DataFrame:
        a = self.a
        k = len(a["ts"])
        base = np.full(k, None, dtype=object)
        base[self.loan_app] = np.asarray(self.loan_ids.to_list(), dtype=object)
        lines = np.asarray(self.line_ids.to_list(), dtype=object)
        base[self.line_app[self.line_used]] = lines[self.line_used]
        apps = pl.DataFrame({"application_id": self.app_ids, "customer_id": self.app_frame["customer_id"],
                             "loan_id": pl.Series(base.tolist(), dtype=pl.Utf8)})
        r = rep.select(pl.col("loan_id").str.split("-B").list.first().alias("base"), "due_date", "dpd")
        first_due = r.group_by("base").agg(pl.col("due_date").min().alias("first_due"))
        r = r.join(first_due, on="base")
        end = np.datetime64(self.end_day, "D").astype(object)
        agg = r.group_by("base").agg(
            (pl.col("dpd").max() >= 30).alias("bad"),
            ((pl.col("dpd") >= 30) & (pl.col("due_date") == pl.col("first_due"))).any().alias("fpd30"),
            ((pl.col("first_due").min() + pl.duration(days=30)) < pl.lit(end)).alias("observed"))
        out = apps.join(agg, left_on="loan_id", right_on="base", how="left").with_columns(
            pl.col("bad").fill_null(False), pl.col("fpd30").fill_null(False), pl.col("observed").fill_null(False))
        return out.select(list(OUTCOME_SCHEMA)).cast(OUTCOME_SCHEMA)  # type: ignore[arg-type]


def simulate_world(out_dir: str | Path, config: SimConfig | None = None, tokenizer: pii.Tokenizer | None = None,
                   *, progress: Progress | None = None) -> dict[str, Any]:
    """Generate a world and write it to ``out_dir``; return the manifest (also written as manifest.json).

    Files: ``<event_type>.parquet`` for every event type, ``outcomes.parquet``, ``labels.parquet``,
    ``manifest.json``. Same config and same PII key ⇒ byte-identical files.
    """
    cfg = (config or SimConfig()).validate()
    tok = tokenizer if tokenizer is not None else pii.tokenizer()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = ["people", "applications", "customers", "loans", "purchases", "repayments", "transfers",
             "complaints", "write"]
    prog = progress or (lambda step, i, n: None)
    prog("people", 0, len(steps))
    w = _World(cfg, tok, progress=None)
    prog("applications", 1, len(steps))
    w.applications()
    prog("customers", 2, len(steps))
    frames: dict[str, pl.DataFrame] = {"application": w.app_frame, "customer": w.customers()}
    prog("loans", 3, len(steps))
    frames["disbursement"] = w.loans()
    prog("purchases", 4, len(steps))
    frames["purchase"] = w.purchases()
    prog("repayments", 5, len(steps))
    frames["repayment"] = w.repayments()
    prog("transfers", 6, len(steps))
    frames["transfer"] = w.transfers()
    prog("complaints", 7, len(steps))
    frames["complaint"] = w.complaints(frames["repayment"], frames["disbursement"])
    frames["collection_contact"] = w.collection_contacts(frames["repayment"], frames["complaint"],
                                                         frames["disbursement"])
    outcomes = w.outcomes(frames["repayment"])
    prog("write", 8, len(steps))
    counts: dict[str, int] = {}
    for et in EVENT_TYPES:
        f = frames[et].select(list(schema_of(et)))
        write_events(f, out / f"{et}.parquet")
        counts[f"{et}.parquet"] = f.height
    labels = pl.concat(w.labels).sort(["pattern", "entity_type", "entity_id"])
    labels.write_parquet(out / "labels.parquet", compression="zstd")
    outcomes.sort("application_id").write_parquet(out / "outcomes.parquet", compression="zstd")
    w.collectors.write_parquet(out / "collectors.parquet", compression="zstd")
    counts["collectors.parquet"] = w.collectors.height
    counts["labels.parquet"] = labels.height
    counts["outcomes.parquet"] = outcomes.height
    lc = labels.group_by(["pattern", "entity_type"]).len().sort(["pattern", "entity_type"])
    label_counts: dict[str, dict[str, int]] = {}
    for p, e, c in lc.iter_rows():
        label_counts.setdefault(p, {})[e] = int(c)
    manifest = {
        "generator": "fengkong.simulate",
        "seed": cfg.seed,
        "parameters": cfg.to_dict(),
        "world": {"start": cfg.start.isoformat(),
                  "end_exclusive": str(np.datetime64(w.end_day, "D")), "timezone": "Asia/Shanghai"},
        "rows": counts,
        "events": int(sum(counts[f"{et}.parquet"] for et in EVENT_TYPES)),
        "labels": label_counts,
        "outcomes": {"bad": int(outcomes["bad"].sum()), "fpd30": int(outcomes["fpd30"].sum()),
                     "observed": int(outcomes["observed"].sum())},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                       encoding="utf-8")
    prog("done", len(steps), len(steps))
    return manifest
