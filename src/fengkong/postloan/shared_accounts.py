"""Offline attribution on accounts holding several loans' pots: event by event, as the online tracer folds them."""

from __future__ import annotations

from typing import Any

import polars as pl

from fengkong.postloan import pots
from fengkong.postloan.config import DAY_US, TraceConfig

#: what the attribution adds to each outflow (the loan it is reported under, that pot's hop and latest
#: credit, whether it is traced, and that loan's money in it)
ATT_COLS = ("pot_loan", "seg_hop", "pot_src", "traced", "attributed")


def attribute_shared(outs: pl.DataFrame, credits: pl.DataFrame, loans: pl.DataFrame,
                     cfg: TraceConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The accounts holding several loans' pots, event by event as the online tracer folds them."""
    ln = loans.select("loan_id", pl.col("disb_ts").dt.epoch("us").alias("_d"), "disb_seq")
    disb = dict(zip(ln["loan_id"].to_list(), ln["_d"].to_list(), strict=True))
    rank = dict(zip(ln["loan_id"].to_list(), ln["disb_seq"].to_list(), strict=True))
    ev = pl.concat([
        credits.select("account", "seq", pl.lit(1, dtype=pl.Int8).alias("_k"), "loan_id", "amount", "hop", "src",
                       pl.lit(None, dtype=pl.Int64).alias("_t")),
        outs.select(pl.col("card_token").alias("account"), "seq", pl.lit(0, dtype=pl.Int8).alias("_k"),
                    pl.lit(None, dtype=pl.Utf8).alias("loan_id"), pl.col("amount_fen").alias("amount"),
                    pl.lit(None, dtype=pl.Int64).alias("hop"), pl.lit(None, dtype=pl.Utf8).alias("src"),
                    pl.col("ts").dt.epoch("us").alias("_t"))], how="vertical_relaxed").sort("account", "seq", "_k")
    horizon = cfg.horizon_days * DAY_US
    o_rows: list[tuple[Any, ...]] = []
    p_rows: list[tuple[Any, ...]] = []
    acct = None
    held: list[list[Any]] = []  # [loan, hop, credit, used, src], oldest loan first
    for a, seq, k, loan, amount, hop, src, t in ev.iter_rows():
        if a != acct:
            acct, held = a, []
        if k == 1:
            pot = next((p for p in held if p[0] == loan), None)
            if pot is None:
                held.append([loan, hop, amount, 0, src])
                held.sort(key=lambda p: rank[p[0]])
            else:
                pot[2] += amount
                pot[4] = src
            continue
        live = [p for p in held if t - disb[p[0]] <= horizon]
        if not live:
            o_rows.append((seq, None, None, None, False, 0))
            continue
        got = pots.draw([p[2] - p[3] for p in live], amount, cfg.pot_order)
        i = pots.primary(got)
        top = live[i if i >= 0 else -1]
        o_rows.append((seq, top[0], top[1], top[4], True, got[i] if i >= 0 else 0))
        for p, x in zip(live, got, strict=True):
            p[3] += x
            if x > 0 or p is top:
                p_rows.append((seq, a, p[0], x, p[1], p is top))
    o = pl.DataFrame(o_rows, schema={"seq": pl.Int64, "pot_loan": pl.Utf8, "seg_hop": pl.Int64, "pot_src": pl.Utf8,
                                     "traced": pl.Boolean, "attributed": pl.Int64}, orient="row")
    parts = pl.DataFrame(p_rows, schema={"seq": pl.Int64, "card_token": pl.Utf8, "loan_id": pl.Utf8,
                                         "amount": pl.Int64, "hop": pl.Int64, "primary": pl.Boolean}, orient="row")
    return outs.join(o, on="seq", how="left").select(*outs.columns, *ATT_COLS), parts
