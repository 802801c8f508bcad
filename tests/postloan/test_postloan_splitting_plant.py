"""The simulator's splitting (化整为零) is what DOMAIN §3.1 / §3.3 item 4 describe, and its look-alike is not."""

from __future__ import annotations

import polars as pl

from fengkong.events.files import read_world

THRESHOLD_FEN = 30_000_000  # 300 000 yuan: self payment only up to it (个人贷款管理办法)
WEEK = pl.duration(days=7)


def test_planted_splits_evade_the_entrusted_threshold(pl_world):
    ev = read_world(pl_world)
    lab = pl.read_parquet(pl_world / "labels.parquet").filter(pl.col("pattern") == "splitting")
    loans = lab.filter(pl.col("entity_type") == "loan")
    pays = lab.filter(pl.col("entity_type") == "transfer")
    assert loans.height >= 20 and loans["group_id"].n_unique() * 2 == loans.height  # two drawdowns per customer
    d = ev.filter((pl.col("event_type") == "disbursement") & pl.col("loan_id").is_in(loans["entity_id"].to_list()))
    assert d.height == loans.height
    assert (d["payment_mode"] == "self").all() and (d["amount_fen"] <= THRESHOLD_FEN).all()
    per_cust = d.group_by("customer_id").agg(pl.col("amount_fen").sum().alias("drawn"), pl.len().alias("n"))
    assert (per_cust["n"] == 2).all() and (per_cust["drawn"] > THRESHOLD_FEN).all()
    t = ev.filter(pl.col("event_id").is_in(pays["entity_id"].to_list()))
    g = t.group_by("customer_id").agg(pl.len().alias("n"), pl.col("counterparty_id").n_unique().alias("payees"),
                                      pl.col("amount_fen").sum().alias("paid"),
                                      (pl.col("ts").max() - pl.col("ts").min()).alias("span"))
    assert g.height == per_cust.height
    assert (g["n"] >= 3).all() and (g["payees"] == 1).all() and (g["paid"] > THRESHOLD_FEN).all()
    assert (g["span"] < pl.Series([7 * 86_400_000_000]).cast(pl.Duration("us"))[0]).all()
    assert (t["direction"] == "out").all() and t["counterparty_category"].is_in(["decoration", "auto", "furniture"]).all()


def test_repeated_small_purchases_are_planted_on_good_borrowers(pl_world):
    ev = read_world(pl_world)
    lab = pl.read_parquet(pl_world / "labels.parquet")
    marked = set(lab["entity_id"].to_list()) | set(lab["group_id"].drop_nulls().to_list())
    t = ev.filter((pl.col("event_type") == "transfer") & (pl.col("direction") == "out")
                  & (pl.col("counterparty_type") == "merchant") & ~pl.col("loan_id").is_in(list(marked)))
    rep = t.group_by("loan_id", "counterparty_id").agg(pl.len().alias("n"), pl.col("amount_fen").sum().alias("s"))
    many = rep.filter(pl.col("n") >= 3)
    assert many.height >= 20  # the look-alike exists in the world the evaluation measures
    assert (many["s"] < THRESHOLD_FEN).all()


def test_a_splitting_alert_carries_the_payments_it_sums(pl_world):
    from fengkong.postloan.alerts import decide_history, evidence_chain, render_chain

    res = decide_history(read_world(pl_world))
    a = res.alerts.filter(pl.col("rule") == "PL_SPLITTING").row(0, named=True)
    ch = evidence_chain(res, a["event_id"], a["rule"])
    sp = ch["split_payments"]
    assert len(sp) >= 3 and sum(x["amount_fen"] for x in sp) > ch["entrusted_threshold_fen"] == THRESHOLD_FEN
    assert sp[-1]["event_id"] == a["event_id"] and len({x["to"] for x in sp}) == 1
    assert "payments to this payee within the splitting window" in render_chain(ch)
    other = res.alerts.filter(pl.col("rule") != "PL_SPLITTING").row(0, named=True)
    assert "split_payments" not in evidence_chain(res, other["event_id"], other["rule"])
