"""Post-loan money flows of the synthetic world: spending, income, fund misuse, splitting, loan-to-repay-loan,
ring and theft payouts, cash-out money back and the legitimate look-alikes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from fengkong.simulate import apps as A
from fengkong.simulate import geo, structure, texts
from fengkong.simulate import merchants as M
from fengkong.simulate.credit import (
    DAY_US,
    HOUR_US,
    MIN_US,
    month_index,
    month_start_day,
    time_of_day,
    ts_series,
)
from fengkong.simulate.frames import event_frame, number_events, take
from fengkong.simulate.state import World


def transfers(world: World) -> pl.DataFrame:
    """Every transfer on the customers' accounts after the loans (and their income), with the fund-misuse,
    splitting, cash-out and loan-to-repay-loan labels."""
    a, d = world.a, world.dir
    rng = world.r["transfers"]
    la = world.loan_app
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
    selfpay = ~world.entrusted
    # ordinary spending of self-payment loans: merchants, people, own accounts, cash
    ordi = np.nonzero(selfpay & (kind == A.KIND_ORDINARY) & ~world.l2r)[0]
    cnt = rng.integers(1, 4, len(ordi))
    lo = np.repeat(ordi, cnt)
    m = len(lo)
    share = rng.uniform(0.4, 1.0, m) / np.repeat(cnt, cnt)
    ts = (world.disb_ts[lo] // DAY_US + rng.integers(0, 21, m)) * DAY_US + time_of_day(rng, m)
    ts = np.maximum(ts, world.disb_ts[lo] + rng.integers(10, 120, m) * MIN_US)
    typ = rng.choice(4, m, p=[0.55, 0.2, 0.15, 0.1])
    cats = [*M.ENTRUSTED_PURPOSE, "everyday_retail", "electronics"]
    mer = M.pick_merchants(rng, d, cats, rng.integers(0, len(cats), m))
    pacc = world.person_accounts[rng.integers(0, len(world.person_accounts), m)]
    cp_id = np.where(typ == 0, d.ids[mer], np.where(typ == 1, pacc, np.where(
        typ == 2, world.own_accounts[a["person"][la[lo]]], "ATM")))
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
    emp = world.P.employer[persons]
    sal = np.nonzero((emp >= 0) & (rng.random(len(persons)) < 0.35))[0]
    n_months = world.cfg.months + 1
    sp = np.repeat(sal, n_months)
    mon = np.tile(np.arange(n_months), len(sal))
    payday = np.repeat(rng.integers(5, 16, len(sal)), n_months)
    sts = (month_start_day(month_index(np.full(len(sp), world.start_day)) + mon) + payday) * DAY_US + \
        rng.integers(9 * HOUR_US, 18 * HOUR_US, len(sp))
    ok = sts > a["ts"][fa[sp]]
    sp, sts = sp[ok], sts[ok]
    inc = world.P.income_fen[persons[sp]]
    seg(np.full(len(sp), -1), sts, np.round(inc * rng.uniform(0.85, 1.05, len(sp))),
        np.asarray(world.P.employers, dtype=object)[emp[sp]], np.full(len(sp), "company", object),
        np.full(len(sp), None, object), world.employer_names[emp[sp]], direction="in", app=fa[sp])
    p2p = np.nonzero(rng.random(len(persons)) < 0.12)[0]
    cnt = rng.integers(1, 3, len(p2p))
    pp = np.repeat(p2p, cnt)
    m = len(pp)
    start = a["ts"][fa[pp]]
    pts = start + (rng.random(m) * np.maximum(world.end_us - start, 1)).astype(np.int64)
    pts = (pts // DAY_US) * DAY_US + time_of_day(rng, m)
    pts = np.maximum(pts, start + HOUR_US)
    amt = np.round(rng.lognormal(np.log(2000), 0.8, m)) * 100
    amt = np.where(rng.random(m) < 0.5, np.round(amt / 10000) * 10000, amt)
    seg(np.full(m, -1), pts, amt, world.person_accounts[rng.integers(0, len(world.person_accounts), m)],
        np.full(m, "individual", object), np.full(m, "person", object), np.full(m, None, object),
        direction="in", app=fa[pp])
    if world.P.structure is not None:
        structure.money_segments(world, seg, persons, fa)
        structure.lender_segments(world, seg)
    # fund misuse: prohibited categories within the configured delay (default 1–30 days)
    cfg = world.cfg
    mis = np.nonzero(world.misuse)[0]
    cnt = rng.integers(1, cfg.fund_misuse_splits_max + 1, len(mis))
    lo = np.repeat(mis, cnt)
    m = len(lo)
    pool = np.concatenate([M.of_category(d, c) for c in ("real_estate", "securities", "fund_wealth", "futures")])
    cp = pool[rng.integers(0, len(pool), m)]
    ts = world.disb_ts[lo] + rng.integers(cfg.fund_misuse_delay_days_min, cfg.fund_misuse_delay_days_max + 1,
                                          m) * DAY_US - rng.integers(0, 20, m) * HOUR_US
    ts = np.maximum(ts, world.disb_ts[lo] + 10 * MIN_US)
    share = rng.uniform(cfg.fund_misuse_share_min, cfg.fund_misuse_share_max, m) / np.repeat(cnt, cnt)
    amt = np.round(amount[lo] * share)
    p = _other_prohibited(world, M.payees(world.dir, cp))
    names, cats, card = _misuse_payees(world, seg, lo, ts, amt, p)
    seg(lo, ts, amt, p["ids"], p["type"], cats, names, lp="fund_misuse", ld=p["cat"], card=card)
    sp_lo, sp_moved = _splitting(world, seg, amount)
    # a misused loan's ordinary spending is what is left of the loan after the share moved (so the labelled
    # transfers are loan money by any accounting, not the borrower's own funds spent beyond the loan)
    o = segs[ord_seg]
    moved = (np.bincount(lo, weights=np.maximum(amt, 100), minlength=len(la))
             + np.bincount(sp_lo, weights=sp_moved, minlength=len(la))) / amount
    spent = np.bincount(o["loan"], weights=o["amount"], minlength=len(la)) / amount
    room = np.clip(1.0 - moved, 0.0, None)
    scale = np.where((moved > 0) & (spent > room), room / np.maximum(spent, 1e-12), 1.0)
    o["amount"] = np.maximum(np.floor(o["amount"] * scale[o["loan"]]), 100).astype(np.int64)
    _lookalikes(world, seg, ord_lo, ord_ts, o["amount"], typ, mer, cp_id, ordi)
    # loan to repay loan: other lenders within 0–5 days
    l2r = np.nonzero(world.l2r)[0]
    cnt = rng.integers(1, 4, len(l2r))
    lo = np.repeat(l2r, cnt)
    m = len(lo)
    lp_pool = M.of_category(d, "lender")
    cp = lp_pool[rng.integers(0, len(lp_pool), m)]
    ts = world.disb_ts[lo] + rng.integers(1, 6 * 24, m) * HOUR_US
    share = rng.uniform(0.3, 0.9, m) / np.repeat(cnt, cnt)
    amt = np.round(amount[lo] * share)
    p = M.payees(world.dir, cp)
    names, cats, card = _misuse_payees(world, seg, lo, ts, amt, p)
    seg(lo, ts, amt, p["ids"], p["type"], cats, names, lp="fund_misuse", ld=p["cat"], card=card)
    # rings: most of the money to the ring agent's account within a day
    rl = np.nonzero(kind == A.KIND_RING)[0]
    ag = np.array([x["agent_account"] for x in world.rings_info], dtype=object)[a["group"][la[rl]]]
    seg(rl, world.disb_ts[rl] + rng.integers(30 * MIN_US, 20 * HOUR_US, len(rl)),
        np.round(amount[rl] * rng.uniform(0.7, 0.9, len(rl))), ag, np.full(len(rl), "individual", object),
        np.full(len(rl), "person", object), np.full(len(rl), None, object))
    # identity theft: immediately to unrelated individuals
    tl = np.nonzero(kind == A.KIND_THEFT)[0]
    cnt = rng.integers(1, 3, len(tl))
    lo = np.repeat(tl, cnt)
    m = len(lo)
    share = rng.uniform(0.9, 1.0, m) / np.repeat(cnt, cnt)
    seg(lo, world.disb_ts[lo] + rng.integers(5 * MIN_US, 3 * HOUR_US, m), np.round(amount[lo] * share),
        world.theft_accounts[np.arange(m) % len(world.theft_accounts)], np.full(m, "individual", object),
        np.full(m, "person", object), np.full(m, None, object))
    # cash-out money back (direction in), not tied to a loan
    cb = world.cash_back
    m = len(cb["ts"])
    from_m = rng.random(m) < 0.6
    ci = np.searchsorted(d.colluding, cb["merchant"])
    seg(np.full(m, -1), cb["ts"], cb["amount"], np.where(from_m, d.ids[cb["merchant"]], d.linked_account[ci]),
        np.where(from_m, "merchant", "individual").astype(object),
        np.where(from_m, d.category[cb["merchant"]], "person").astype(object),
        np.where(from_m, d.name[cb["merchant"]], None).astype(object), direction="in", app=cb["app"],
        lp="cash_out", lg=d.ids[cb["merchant"]], ld=np.full(m, "money_back", dtype=object))
    s = {key: np.concatenate([x[key] for x in segs]) for key in segs[0]}
    ok = s["ts"] < world.end_us
    s = {key: v[ok] for key, v in s.items()}
    n = len(s["ts"])
    app = s["app"]
    card = pl.DataFrame({"o": pl.Series(s["card"].tolist(), dtype=pl.Utf8),
                         "d": world.app_frame["card_token"].gather(app)}).select(pl.coalesce("o", "d")).to_series()
    cols = {
        "event_type": ["transfer"] * n, "ts": ts_series(s["ts"]), "customer_id": world.cust(a["person"][app]),
        "card_token": card, "loan_id": take(
            np.asarray(world.loan_ids.to_list(), dtype=object), s["loan"]),
        "direction": s["direction"], "counterparty_id": pl.Series(s["cp_id"].tolist(), dtype=pl.Utf8),
        "counterparty_type": s["cp_type"], "counterparty_category": pl.Series(s["cp_cat"].tolist(),
                                                                                dtype=pl.Utf8),
        "counterparty_name": pl.Series(s["cp_name"].tolist(), dtype=pl.Utf8), "amount_fen": s["amount"],
        "_tb": np.arange(n), "_lp": pl.Series(s["lp"].tolist(), dtype=pl.Utf8),
        "_lg": pl.Series(s["lg"].tolist(), dtype=pl.Utf8), "_ld": pl.Series(s["ld"].tolist(), dtype=pl.Utf8),
    }
    f = number_events(event_frame("transfer", cols, n), "TR")
    fm = f.filter(pl.col("_lp") == "fund_misuse")
    world.label("fund_misuse", "transfer", fm["event_id"], fm["loan_id"], fm["_ld"])
    per_loan = fm.group_by("loan_id").agg(pl.col("_ld").first()).sort("loan_id")
    world.label("fund_misuse", "loan", per_loan["loan_id"], per_loan["loan_id"], per_loan["_ld"])
    sp = f.filter(pl.col("_lp") == "splitting")
    world.label("splitting", "transfer", sp["event_id"], sp["_lg"], sp["_ld"])
    sl = sp.group_by("_lg").agg(pl.col("_ld").first()).sort("_lg")
    pair = pl.DataFrame({"_lg": take(world.loan_ids.to_numpy().astype(object), world.split_pairs[0]),
                         "loan_id": take(world.loan_ids.to_numpy().astype(object), world.split_pairs[1])})
    sl = pl.concat([sl.with_columns(pl.col("_lg").alias("loan_id")),
                    sl.join(pair, on="_lg").select("_lg", "_ld", "loan_id")]).sort("loan_id")
    world.label("splitting", "loan", sl["loan_id"], sl["_lg"], sl["_ld"])
    cb_l = f.filter(pl.col("_lp") == "cash_out")
    world.label("cash_out", "transfer", cb_l["event_id"], cb_l["_lg"], cb_l["_ld"])
    l2r_ids = world.loan_ids.filter(pl.Series(world.l2r))
    world.label("loan_to_repay_loan", "loan", l2r_ids, l2r_ids, pl.Series(["lender"] * len(l2r_ids)))
    return f


def _splitting(world: World, seg: Callable[..., None], amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The splitting customers' payments (化整为零): 90–100 % of their two drawdowns to one decoration, car
    or furniture merchant in ``splitting_payments_min..max`` payments, the first between the drawdowns for
    half of them, the others within ``splitting_days`` after the second. Returns (loan, amount moved) so the
    loans' ordinary spending is scaled to what is left."""
    cfg, d, r3 = world.cfg, world.dir, world.r_post[2]
    la = world.loan_app
    sv, person = world.a["split"][la], world.a["person"][la]
    i1, i2 = np.nonzero(sv == 1)[0], np.nonzero(sv == 2)[0]
    i1, i2 = i1[np.argsort(person[i1], kind="stable")], i2[np.argsort(person[i2], kind="stable")]
    last = world.disb_ts[i2] + max(world.cfg.splitting_days * DAY_US, HOUR_US)
    keep = last < world.end_us  # a split is planted whole inside the world (the later pairs stay ordinary loans)
    i1, i2 = i1[keep], i2[keep]
    world.split_pairs = (i1, i2)
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
    d1, d2 = world.disb_ts[i1][c], world.disb_ts[i2][c]
    between = (r3.random(m) < 0.5)[c] & (k == 0)
    amt = np.where(between, np.minimum(amt, amount[i1][c]), amt)
    end = d2 + max(cfg.splitting_days * DAY_US, HOUR_US)
    after = d2 + 10 * MIN_US + ((end - d2 - 10 * MIN_US) * r3.random(len(c))).astype(np.int64)
    ts = np.where(between, d1 + 10 * MIN_US + ((d2 - d1 - 20 * MIN_US) * r3.random(len(c))).astype(np.int64),
                  after)
    ts = _sorted_within(ts, c)
    loan = np.where(ts < d2, i1[c], i2[c])
    lg = np.asarray(world.loan_ids.to_list(), dtype=object)[i1][c]
    seg(loan, ts, amt, d.ids[payee][c], np.full(len(c), "merchant", object), d.category[payee][c],
        d.name[payee][c], lp="splitting", lg=lg, ld=d.category[payee][c])
    frac1 = amount[i1] / (amount[i1] + amount[i2])
    return np.concatenate([i1, i2]), np.concatenate([total * frac1, total * (1 - frac1)])


def _sorted_within(ts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``ts`` sorted within each group (groups contiguous), so payment k comes before payment k + 1."""
    o = np.lexsort((ts, group))
    return ts[o]


def _other_prohibited(world: World, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``fund_misuse_other_share`` of the prohibited transfers go to crypto exchanges, gambling operators or
    business suppliers instead (counterparties made here, beside the merchant directory)."""
    r2 = world.r_post[1]
    m = len(p["ids"])
    rows = np.nonzero(r2.random(m) < world.cfg.fund_misuse_other_share)[0]
    if len(rows) == 0:
        return p
    cats = np.array(["crypto", "gambling", "business_supplier"], dtype=object)
    n = max(6, world.cfg.customers // 2000)
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


def _misuse_payees(world: World, seg: Callable[..., None], lo: np.ndarray, ts: np.ndarray, amt: np.ndarray,
                   p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Names and categories the prohibited transfers show, and the account each leaves from: routed loans
    first move the money through ``fund_misuse_hops - 1`` own accounts (those hop transfers are emitted
    here). Returns (names, categories, card of the final transfer or None for the disbursement account)."""
    cfg, r2 = world.cfg, world.r_post[1]
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
    person = world.a["person"][world.loan_app[lo[rows]]]
    extra = M.account_ids(r2, len(rows) * (hops - 2)).reshape(len(rows), hops - 2) if hops > 2 else None
    t0 = world.disb_ts[lo[rows]] + 10 * MIN_US
    span = np.maximum(ts[rows] - t0, hops * MIN_US)
    prev = np.full(len(rows), None, dtype=object)
    for k in range(1, hops):
        acct = world.own_accounts[person] if k == 1 else extra[:, k - 2]
        tk = t0 + span * (k - 1) // (hops - 1) + r2.integers(0, MIN_US, len(rows))
        seg(lo[rows], tk, amt[rows], acct.astype(object), np.full(len(rows), "own_account", object),
            np.full(len(rows), "own_account", object), np.full(len(rows), None, object), card=prev.copy())
        prev = acct.astype(object)
        last = tk
    ts[rows] = np.maximum(ts[rows], last + MIN_US)  # the money leaves the last own account after it arrived
    card[rows] = prev
    return names, cats, card


def _lookalikes(world: World, seg: Callable[..., None], lo: np.ndarray, ts: np.ndarray, amt: np.ndarray,
                typ: np.ndarray, mer: np.ndarray, cp_id: np.ndarray, ordi: np.ndarray) -> None:
    """Legitimate post-loan flows that resemble misuse: spending on from the borrower's own account
    (household goods, family), refunds of loan-funded purchases, property-service and insurance fees."""
    cfg, d, r2 = world.cfg, world.dir, world.r_post[1]
    own = np.nonzero((typ == 2) & (r2.random(len(typ)) < cfg.lookalike_own_onward_share))[0]
    m = len(own)
    if m:
        cats = ["home_appliance", "furniture", "decoration", "everyday_retail", "electronics"]
        om = M.pick_merchants(r2, d, cats, r2.integers(0, len(cats), m))
        fam = r2.random(m) < 0.25
        pacc = world.person_accounts[r2.integers(0, len(world.person_accounts), m)]
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
    r3 = world.r_post[2]
    plain = ordi[~world.misuse[ordi] & ~world.split[ordi]]
    rep = plain[r3.random(len(plain)) < cfg.lookalike_repeat_share]  # several small purchases at one merchant
    m = len(rep)
    if m:
        cats = ["everyday_retail", "catering", "electronics", "home_appliance"]
        pm = M.pick_merchants(r3, d, cats, r3.integers(0, len(cats), m))
        c = np.repeat(np.arange(m), r3.integers(3, 7, m))
        seg(rep[c], world.disb_ts[rep][c] + r3.integers(1, 7 * 24, len(c)) * HOUR_US + r3.integers(0, HOUR_US, len(c)),
            np.round(world.a["amount"][world.loan_app[rep]][c] * r3.uniform(0.01, 0.06, len(c))), d.ids[pm][c],
            np.full(len(c), "merchant", object), d.category[pm][c], d.name[pm][c])
    svc = ordi[r2.random(len(ordi)) < cfg.lookalike_service_share]
    m = len(svc)
    if m:
        cats = ["public_service", "insurance"]
        sm = M.pick_merchants(r2, d, cats, r2.integers(0, len(cats), m))
        seg(svc, world.disb_ts[svc] + r2.integers(1, 31 * 24, m) * HOUR_US,
            np.round(world.a["amount"][world.loan_app[svc]] * r2.uniform(0.02, 0.15, m)), d.ids[sm],
            np.full(m, "merchant", object), d.category[sm], d.name[sm])
