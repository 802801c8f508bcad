"""Credit-line purchase, refund and bill events of the synthetic world, with the planted cash-out."""

from __future__ import annotations

import numpy as np
import polars as pl

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
from fengkong.simulate.frames import event_frame, number_events, seq_ids, take
from fengkong.simulate.state import World

CASH_OUT_STYLES = ("round", "below_limit", "round_minus")
FEE_TOTAL = {1: 0.0, 3: 0.025, 6: 0.045, 12: 0.075}


def purchases(world: World) -> pl.DataFrame:
    """Credit-line purchases, the planted cash-out and refunds; sets the money back for the transfers and
    the monthly bills (``world.bills``) for the repayments."""
    a, d, cfg = world.a, world.dir, world.cfg
    rng = world.r["purchases"]
    lines = np.nonzero(a["product"] == 0)[0]
    world.line_app = lines
    world.line_ids = seq_ids("CL", len(lines))
    app_ts = a["ts"][lines]
    app_month = month_index(app_ts // DAY_US)
    dseq = a["default_seq"][lines]
    freeze = np.where(dseq < 99, (month_start_day(app_month + np.minimum(dseq, 60)) + 10) * DAY_US, world.end_us)
    stop = np.minimum(freeze, world.end_us)
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
    dev = np.where((world.P.device2[pi] >= 0) & (rng.random(n) < 0.4), world.P.device2[pi], world.P.device[pi])
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
    ct = np.clip(ct, app_ts[cl] + MIN_US, np.minimum(stop[cl] - MIN_US, world.end_us - 25 * HOUR_US))
    cpi = a["person"][lines][cl]
    on_m = rng.random(m) < cfg.cash_out_device_share
    mslot = world.P.device_base["merchant"] + 2 * np.searchsorted(d.colluding, cmer) + rng.integers(0, 2, m)
    cdev = np.where(on_m, mslot, world.P.device[cpi])
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
    ref_ok = rt < world.end_us
    ref_src = np.nonzero(ref)[0][ref_ok]
    rt = rt[ref_ok]
    all_i = np.concatenate([np.arange(n), ref_src])
    nn = len(all_i)
    is_ref = np.concatenate([np.zeros(n, bool), np.ones(len(ref_src), bool)])
    tt = np.concatenate([t, rt])
    app_of = lines[li[all_i]]
    af = world.app_frame
    cols = {
        "event_type": ["purchase"] * nn, "ts": ts_series(tt), "customer_id": world.cust(pi[all_i]),
        "id_token": af["id_token"].gather(app_of), "name_token": af["name_token"].gather(app_of),
        "phone_token": af["phone_token"].gather(app_of), "card_token": af["card_token"].gather(app_of),
        "device_id": take(world.dev_pool, dev[all_i]),
        "ip": af["ip"].gather(app_of),
        "merchant_id": take(d.ids, merchant[all_i]), "merchant_category": take(d.category, merchant[all_i]),
        "amount_fen": fen[all_i], "installments": np.where(is_ref, 1, inst[all_i]), "is_refund": is_ref,
        "_tb": np.arange(nn), "_src": np.where(is_ref, all_i, -1),
        "_co": np.where(is_co[all_i] & ~is_ref, co_detail[all_i], -1),
    }
    f = number_events(event_frame("purchase", cols, nn), "PU")
    ids_by_tb = f.select("_tb", "event_id").sort("_tb")["event_id"]
    f = f.with_columns(pl.when(pl.col("is_refund")).then(
        ids_by_tb.gather(np.maximum(f["_src"].to_numpy(), 0))).alias("refund_of"))
    co = f.filter(pl.col("_co") >= 0)
    world.label("cash_out", "purchase", co["event_id"], co["merchant_id"],
                take(np.array(CASH_OUT_STYLES, dtype=object), co["_co"].to_numpy()))
    used = np.unique(cmer)
    world.label("cash_out_merchant", "merchant", take(d.ids, used), take(d.ids, used),
                take(d.category, used))
    # money back within 24 h: from the merchant or an account linked to it
    back_idx = np.nonzero(is_co)[0]
    world.cash_back = {
        "ts": t[back_idx] + rng.integers(12 * MIN_US, 24 * HOUR_US, len(back_idx)),
        "person": pi[back_idx], "app": lines[li[back_idx]], "merchant": merchant[back_idx],
        "amount": np.round(fen[back_idx] * rng.uniform(0.90, 0.97, len(back_idx))).astype(np.int64),
        "purchase_tb": back_idx,
    }
    world.purchase_ids_by_idx = ids_by_tb
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
    bills = bills.with_columns(pl.Series("due_day", due_day)).filter(pl.col("due_day") < world.end_day)
    bl = bills["line"].to_numpy()
    dm = bills["due_month"].to_numpy()
    ym = (dm - 1) // 12 + 1970, (dm - 1) % 12 + 1
    world.bills = {
        "app": lines[bl], "seq": dm - app_month[bl], "due_day": bills["due_day"].to_numpy(),
        "principal": bills["principal"].to_numpy(), "interest": np.zeros(len(bl), np.int64),
        "fee": bills["fee"].to_numpy(), "installment": np.ones(len(bl), np.int64),
        "loan_id": world.line_ids.gather(bl) + pl.Series(
            [f"-B{y}{m:02d}" for y, m in zip(ym[0].tolist(), ym[1].tolist(), strict=True)]),
    }
    world.line_used = np.zeros(len(lines), bool)
    world.line_used[np.unique(li)] = True
    return f.drop("_src")
