"""Disbursement and repayment events of the synthetic world: payment mode, payee, entrusted-payee mismatch,
schedules."""

from __future__ import annotations

import numpy as np
import polars as pl

from fengkong.simulate import apps as A
from fengkong.simulate import merchants as M
from fengkong.simulate.credit import (
    DAY_US,
    MIN_US,
    add_months,
    amortize,
    date_series,
    repayment_events,
    ts_series,
)
from fengkong.simulate.frames import event_frame, number_events, seq_ids, take
from fengkong.simulate.state import World


def loans(world: World) -> pl.DataFrame:
    """The disbursement of every cash-loan application: payment mode, payee, purpose, rate and first due date;
    decides the misused, loan-to-repay-loan and splitting loans and labels the entrusted-payee mismatches."""
    a, d = world.a, world.dir
    rng = world.r["loans"]
    cash = np.nonzero(a["product"] == 1)[0]
    k = len(cash)
    world.loan_app = cash
    world.loan_ids = seq_ids("LN", k)
    ts = a["ts"][cash] + rng.integers(3, 41, k) * MIN_US + rng.integers(0, MIN_US, k)
    world.disb_ts = ts
    kind = a["kind"][cash]
    risk = world.P.risk[a["person"][cash]]
    ordinary = kind == A.KIND_ORDINARY
    split = a["split"][cash] > 0  # drawdowns of a splitting customer: always self payment
    drawn = ordinary & (rng.random(k) < 0.3)
    entrusted = drawn & ~split
    # fund misuse and loan-to-repay-loan are decided among ordinary self-payment loans
    mh = a["mh"][cash] & ordinary & ~entrusted
    l2r = mh & (rng.random(k) < world.cfg.loan_to_repay_share)
    if l2r.sum() < 2:
        l2r[np.nonzero(mh)[0][:2]] = True
    cand = ordinary & ~entrusted & ~l2r & ~split
    mis = cand & (rng.random(k) < world.cfg.fund_misuse_share)
    if mis.sum() < 3:
        mis[np.nonzero(cand)[0][:3]] = True
    world.l2r, world.misuse, world.entrusted, world.split = l2r, mis, entrusted, split
    enames = list(M.ENTRUSTED_PURPOSE)
    eci = rng.integers(0, len(enames), k)
    ecat = np.array(enames, dtype=object)[eci]
    payee = np.full(k, -1)
    if drawn.any():  # drawn over every loan the draw chose, so that splitting leaves the other draws as they were
        payee[drawn] = M.pick_merchants(rng, d, enames, eci[drawn])
    contract = payee.copy()
    world.mismatch = _entrusted_mismatch(world, payee, drawn)
    payee[split], contract[split] = -1, -1
    world.mismatch = world.mismatch[~split[world.mismatch]]
    purpose_self = np.array(["daily_consumption", "home_decoration", "education", "travel", "medical",
                             "wedding", "appliance"], dtype=object)[rng.integers(0, 7, k)]
    purpose = np.where(entrusted, np.array([M.ENTRUSTED_PURPOSE[c] for c in ecat], dtype=object), purpose_self)
    rate = np.round(np.clip(0.10 + 0.03 * risk + rng.uniform(0, 0.06, k), 0.072, 0.24), 4)
    world.rate = rate
    dday = ts // DAY_US
    world.first_due = add_months(dday, np.ones(k, np.int64))
    ch = a["channel"][cash]
    cols = {
        "event_type": ["disbursement"] * k, "ts": ts_series(ts), "customer_id": world.cust(a["person"][cash]),
        "id_token": world.app_frame["id_token"].gather(cash),
        "card_token": pl.Series(world.app_frame["card_token"].gather(cash)).zip_with(
            pl.Series(~entrusted), pl.Series([None] * k, dtype=pl.Utf8)),
        "loan_id": world.loan_ids, "application_id": world.app_ids.gather(cash), "amount_fen": a["amount"][cash],
        "term_months": a["term"][cash], "repayment_method": ["equal_installment"] * k, "contract_rate": rate,
        "fee_rate": np.zeros(k), "upfront_fee_fen": np.zeros(k, np.int64), "guarantee_fee_rate": np.zeros(k),
        "payment_mode": np.where(entrusted, "entrusted", "self"), "payee_id": take(d.ids, payee),
        "contract_payee_id": take(d.ids, contract),
        "payee_merchant_id": take(d.ids, np.where(payee < d.merchants, payee, -1)),
        "contract_merchant_id": take(d.ids, np.where(contract < d.merchants, contract, -1)),
        "payee_name": take(d.name, payee), "contract_payee_name": take(_contract_names(d.name), contract),
        "purpose": purpose, "lender_type": ["consumer_finance"] * k,
        "channel": np.where(ch == 3, "zhudai", "own"),
        "partner_id": world.app_frame["partner_id"].gather(cash), "first_due_date": date_series(world.first_due,
                                                                                                "first_due_date"),
        "_tb": np.arange(k),
    }
    mm = world.loan_ids.gather(world.mismatch)
    world.label("payee_mismatch", "loan", mm, mm, take(d.category, payee[world.mismatch]))
    return number_events(event_frame("disbursement", cols, k), "DB")


def _entrusted_mismatch(world: World, payee: np.ndarray, entrusted: np.ndarray) -> np.ndarray:
    """Entrusted loans paid to another counterparty than the contract's (changes ``payee`` in place):
    half to a prohibited-use company, half to another merchant. Returns their loan indices."""
    d, r2 = world.dir, world.r_post[0]
    ent = np.nonzero(entrusted)[0]
    mm = ent[r2.random(len(ent)) < world.cfg.entrusted_mismatch_share]
    if len(mm):
        others = np.concatenate([M.of_category(d, c) for c in ("real_estate", "securities", "fund_wealth")])
        alt = np.where(r2.random(len(mm)) < 0.5, others[r2.integers(0, len(others), len(mm))],
                       r2.integers(0, d.merchants, len(mm)))
        payee[mm] = np.where(alt == payee[mm], (alt + 1) % d.merchants, alt)
    return mm


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


def repayments(world: World) -> pl.DataFrame:
    """The repayment events of the cash loans' schedules and the credit lines' bills due inside the world."""
    a = world.a
    rng = world.r["repay"]
    sched = amortize(a["amount"][world.loan_app], world.rate, a["term"][world.loan_app])
    lo = sched["loan"]
    due = add_months(world.disb_ts[lo] // DAY_US, sched["installment"])
    keep = due < world.end_day
    lo, inst = lo[keep], sched["installment"][keep]
    cash = {"app": world.loan_app[lo], "seq": inst, "due_day": due[keep], "principal": sched["principal"][keep],
            "interest": sched["interest"][keep], "fee": np.zeros(int(keep.sum()), np.int64),
            "installment": inst, "loan_id": world.loan_ids.gather(lo)}
    b = world.bills
    allr = {k: np.concatenate([cash[k], b[k]]) for k in cash if k != "loan_id"}
    loan_id = pl.concat([cash["loan_id"], b["loan_id"]])
    ev = repayment_events(rng, app=allr["app"], seq=allr["seq"], due_day=allr["due_day"],
                          principal=allr["principal"], interest=allr["interest"], fee=allr["fee"],
                          default_seq=a["default_seq"], late_p=a["late_p"], end_day=world.end_day)
    r = ev["row"]
    n = len(r)
    pay = ev["is_pay"]
    due_fen = allr["principal"][r] + allr["interest"][r] + allr["fee"][r]
    app = allr["app"][r]

    def paid(x: np.ndarray) -> np.ndarray:
        return np.where(pay, x[r], 0)
    cols = {
        "event_type": ["repayment"] * n, "ts": ts_series(ev["ts"]), "customer_id": world.cust(a["person"][app]),
        "loan_id": loan_id.gather(r), "installment_no": allr["installment"][r],
        "due_date": date_series(allr["due_day"][r], "due_date"),
        "paid_date": date_series(ev["paid_day"], "paid_date").zip_with(
            pl.Series(pay), pl.Series([None] * n, dtype=pl.Date)),
        "due_fen": due_fen, "paid_fen": np.where(pay, due_fen, 0), "paid_principal_fen": paid(allr["principal"]),
        "paid_interest_fen": paid(allr["interest"]), "paid_fee_fen": paid(allr["fee"]), "dpd": ev["dpd"],
        "_tb": np.arange(n), "_app": app, "_due": allr["due_day"][r],
    }
    return number_events(event_frame("repayment", cols, n), "RP")
