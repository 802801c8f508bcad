"""Offline fund-flow tracing (vectorised, Polars): from each disbursement, hop by hop, with loan-money attribution.

Attribution rule — **loan money leaves first** (贷款资金优先): an account that received loan money holds a
"pot" of that loan; each later outflow from the account is loan money up to what is left in the pot, the
rest is the holder's own funds. Own inflows (salary, family, refunds) never refill the pot. An account
keeps one pot per loan credited to it (credits of the same loan add up); when several loans' pots are within
the horizon, an outflow draws on them in ``TraceConfig.pot_order`` (:mod:`fengkong.postloan.pots`; default
the newest loan's money first) and is reported under the pot that gave most. Money is followed into accounts the lender sees (``TraceConfig.followed_types``: the
borrower's own accounts) up to ``max_hops``; outflows later than ``horizon_days`` after the disbursement
are not traced. :mod:`fengkong.postloan.provider` is the online twin, event for event.

With the pot's credits ``C`` and the outflows ``a`` in order, the attributed cumulative amount obeys
``A_i = min(A_{i-1} + a_i, C_i)``, whose closed form ``A_i = S_i + min(0, cummin_j(C_j - S_j))``
(``S`` the cumulative outflow) is what makes the rule vectorisable on the accounts credited by one loan; the
few accounts holding several loans' pots are stepped through in order (:mod:`fengkong.postloan.shared_accounts`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from fengkong.errors import InputError
from fengkong.postloan.config import DAY_US, DEFAULT, TraceConfig
from fengkong.postloan.shared_accounts import ATT_COLS, attribute_shared
from fengkong.postloan.taxonomy import Taxonomy, load_taxonomy

#: The features of a transfer event (online: ``provider.PostloanFeatures``; offline: :func:`trace`).
FEATURE_KINDS: dict[str, str] = {
    "pl_class": "str", "pl_prohibited": "bool", "pl_traced": "bool", "pl_loan_id": "str", "pl_hop": "int",
    "pl_days_since_disb": "float", "pl_secs_since_disb": "int", "pl_attributed_fen": "int", "pl_principal_fen": "int",
    "pl_self_payment": "bool", "pl_prohibited_30d_share": "float", "pl_out_24h_share": "float",
    "pl_debt_7d_share": "float", "pl_prohibited_30d_fen": "int", "pl_out_24h_fen": "int", "pl_debt_7d_fen": "int",
    "pl_same_payee_7d_cnt": "int", "pl_same_payee_7d_fen": "int",
    "pl_entrusted_threshold_fen": "int", "pl_source_event": "str",
}
_TR_COLS = ("event_id", "ts", "customer_id", "card_token", "direction", "counterparty_id", "counterparty_type",
            "counterparty_category", "counterparty_name", "amount_fen")


class TracingError(InputError, ValueError):
    """The events cannot be traced (a required column is missing); the message names it."""


def _need(frame: pl.DataFrame, cols: tuple[str, ...], what: str) -> pl.DataFrame:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise TracingError(f"{what}: missing column(s) {', '.join(missing)}")
    return frame


def split_events(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(disbursements, transfers) of a union-schema event frame, each with a global ``seq`` in (ts, event_id)
    order — the order the online path folds events in."""
    _need(events, ("event_id", "event_type", "ts"), "events")
    d = events.filter(pl.col("event_type") == "disbursement")
    t = events.filter(pl.col("event_type") == "transfer")
    d = _need(d, ("customer_id", "loan_id", "amount_fen", "payment_mode", "card_token"), "disbursement events")
    t = _need(t, tuple(c for c in _TR_COLS if c not in ("counterparty_category", "counterparty_name")),
              "transfer events")
    for c in ("counterparty_category", "counterparty_name"):
        if c not in t.columns:
            t = t.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))
    keep_t = [*_TR_COLS, *(["counterparty_account_type"] if "counterparty_account_type" in t.columns else [])]
    # global order by (ts, event_id), handed back by row position (no join on the string ids)
    both = pl.concat([d.select("ts", "event_id", pl.lit(0, dtype=pl.Int8).alias("_k"),
                               pl.int_range(pl.len(), dtype=pl.Int64).alias("_i")),
                      t.select("ts", "event_id", pl.lit(1, dtype=pl.Int8).alias("_k"),
                               pl.int_range(pl.len(), dtype=pl.Int64).alias("_i"))])
    order = both.sort(["ts", "event_id"]).with_row_index("seq").select(pl.col("seq").cast(pl.Int64), "_k", "_i")

    def seq_of(k: int) -> pl.Series:
        return order.filter(pl.col("_k") == k).sort("_i")["seq"]

    d = d.select("event_id", "ts", "customer_id", "loan_id", "amount_fen", "payment_mode", "card_token").with_columns(
        seq_of(0).alias("seq"))
    t = t.select(keep_t).with_columns(seq_of(1).alias("seq"))
    return d, t


def _loans(d: pl.DataFrame) -> pl.DataFrame:
    return (d.sort("seq").unique("loan_id", keep="first", maintain_order=True)
            .select("loan_id", pl.col("ts").alias("disb_ts"), pl.col("amount_fen").alias("principal"),
                    (pl.col("payment_mode") == "self").alias("self_payment"), pl.col("event_id").alias("disb_event"),
                    pl.col("seq").alias("disb_seq"), pl.col("card_token").alias("disb_account")))


def _attribute(outs: pl.DataFrame, credits: pl.DataFrame, loans: pl.DataFrame,
               cfg: TraceConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(each outflow with the pot it is reported under and that pot's loan money in it, every part: the loan
    money each pot gives to each outflow). Accounts credited by one loan only take the closed form; accounts
    holding several loans' pots are stepped through in order with :func:`fengkong.postloan.pots.draw`."""
    multi = (credits.group_by("account").agg(pl.col("loan_id").n_unique().alias("_n"))
             .filter(pl.col("_n") > 1).select(pl.col("account").alias("card_token")))
    one = _attribute_single(outs.join(multi, on="card_token", how="anti"),
                            credits.join(multi.rename({"card_token": "account"}), on="account", how="anti"), loans, cfg)
    o = one.select(*outs.columns, *ATT_COLS)
    parts = one.filter(pl.col("traced")).select("seq", "card_token", pl.col("pot_loan").alias("loan_id"),
                                                pl.col("attributed").alias("amount"), pl.col("seg_hop").alias("hop"),
                                                pl.lit(True).alias("primary"))
    if multi.height:
        mo, mp = attribute_shared(outs.join(multi, on="card_token", how="semi"),
                                  credits.join(multi.rename({"card_token": "account"}), on="account", how="semi"),
                                  loans, cfg)
        o, parts = pl.concat([o, mo], how="vertical_relaxed"), pl.concat([parts, mp], how="vertical_relaxed")
    o = o.join(loans.select(pl.col("loan_id").alias("pot_loan"), "disb_ts", "principal", "self_payment"),
               on="pot_loan", how="left")
    return o.sort("seq"), parts


def _attribute_single(outs: pl.DataFrame, credits: pl.DataFrame, loans: pl.DataFrame,
                      cfg: TraceConfig) -> pl.DataFrame:
    """Each outflow of an account credited by one loan with its pot and the loan money in it.

    Per-segment sums use the sorted order (a running total minus its value where the segment starts) rather
    than window functions; only the running minimum needs one."""
    c = credits.sort(["account", "seq"])
    new = ((pl.col("account") != pl.col("account").shift(1)) | (pl.col("loan_id") != pl.col("loan_id").shift(1))
           | pl.col("loan_id").shift(1).is_null()).fill_null(True)
    c = c.with_columns(new.alias("_new"), pl.col("amount").cum_sum().alias("_cs"))
    c = c.with_columns(pl.col("_new").cast(pl.Int64).cum_sum().alias("seg"),
                       (pl.col("_cs") - pl.when(pl.col("_new")).then(pl.col("_cs") - pl.col("amount")).forward_fill())
                       .alias("credit_cum"),
                       pl.when(pl.col("_new")).then(pl.col("hop")).forward_fill().alias("seg_hop")).sort("seq")
    o = outs.sort("seq").join_asof(
        c.select(pl.col("account").alias("card_token"), pl.col("seq").alias("cseq"), "seg", "credit_cum",
                 pl.col("loan_id").alias("pot_loan"), "seg_hop", pl.col("src").alias("pot_src")),
        left_on="seq", right_on="cseq", by="card_token", strategy="backward", check_sortedness=False)
    o = o.join(loans.select(pl.col("loan_id").alias("pot_loan"), "disb_ts", "principal", "self_payment"),
               on="pot_loan", how="left")
    since = (pl.col("ts") - pl.col("disb_ts")).dt.total_microseconds()
    elig = pl.col("seg").is_not_null() & (since <= cfg.horizon_days * DAY_US)
    o = o.with_columns(elig.fill_null(False).alias("traced")).with_columns(
        pl.when(pl.col("traced")).then(pl.col("amount_fen")).otherwise(0).alias("_a"))
    o = o.sort(["seg", "seq"], nulls_last=True)
    first = (pl.col("seg") != pl.col("seg").shift(1)).fill_null(True)
    o = o.with_columns(first.alias("_f"), pl.col("_a").cum_sum().alias("_cs"))
    o = o.with_columns((pl.col("_cs") - pl.when(pl.col("_f")).then(pl.col("_cs") - pl.col("_a")).forward_fill())
                       .alias("_S"))
    o = o.with_columns((pl.col("credit_cum") - pl.col("_S")).cum_min().over("seg").alias("_D"))
    o = o.with_columns((pl.col("_S") + pl.min_horizontal(pl.col("_D"), pl.lit(0))).alias("_A"))
    o = o.with_columns((pl.col("_A") - pl.when(pl.col("_f")).then(0).otherwise(pl.col("_A").shift(1)))
                       .alias("attributed"))
    o = o.with_columns(pl.when(pl.col("traced")).then(pl.col("attributed")).otherwise(0).cast(pl.Int64)
                       .alias("attributed"))
    return o.drop("_a", "_S", "_D", "_A", "_f", "_cs", "cseq").sort("seq")


def trace(events: pl.DataFrame, taxonomy: Taxonomy | None = None, config: TraceConfig = DEFAULT) -> pl.DataFrame:
    """One row per transfer event: its class, the loan it is traced to, hop, attributed loan money, source
    credit and the windowed features of :data:`FEATURE_KINDS` (``pl_*`` columns), point-in-time."""
    tax = taxonomy or load_taxonomy()
    cfg = config
    d, t = split_events(events)
    loans = _loans(d)
    t = tax.classify_frame(t, out="pl_class").with_columns(
        pl.col("pl_class").is_in(list(tax.prohibited)).alias("pl_prohibited"))
    base = (d.filter((pl.col("payment_mode") == "self") & pl.col("card_token").is_not_null())
            .join(loans.select(pl.col("disb_event").alias("event_id")), on="event_id", how="semi")
            .select(pl.col("card_token").alias("account"), "seq", "loan_id", pl.col("amount_fen").alias("amount"),
                    pl.lit(1, dtype=pl.Int64).alias("hop"), pl.col("event_id").alias("src")))
    # only the columns tracing needs travel through the sorts and joins (names and categories stay behind)
    outs = t.filter((pl.col("direction") == "out") & pl.col("card_token").is_not_null()).select(
        "event_id", "seq", "ts", "card_token", "amount_fen", "counterparty_id", "counterparty_type", "pl_class",
        "pl_prohibited")
    att, parts = _attribute(outs, base, loans, cfg)
    first, first_parts = att, parts
    last: tuple[int, int] | None = None
    follow = outs.select("seq", "event_id", "counterparty_id", "counterparty_type")
    for _ in range(cfg.max_hops + 2):
        new = parts.join(follow, on="seq").filter(
            (pl.col("amount") > 0) & pl.col("counterparty_type").is_in(list(cfg.followed_types))
            & (pl.col("hop") < cfg.max_hops) & pl.col("counterparty_id").is_not_null()).select(
            pl.col("counterparty_id").alias("account"), "seq", "loan_id", "amount", (pl.col("hop") + 1).alias("hop"),
            pl.col("event_id").alias("src"))
        key = (new.height, int(new["amount"].sum()) if new.height else 0)
        if key == last:  # the hop credits did not change: attribution is at its fixed point
            break
        last = key
        # only accounts that receive hop credits change; the others keep the first pass's attribution
        hop_accts = new.select(pl.col("account").alias("card_token")).unique()
        sub, sub_parts = _attribute(outs.join(hop_accts, on="card_token", how="semi"),
                                    pl.concat([base, new]).join(hop_accts.rename({"card_token": "account"}),
                                                                on="account", how="semi"), loans, cfg)
        att = pl.concat([first.join(hop_accts, on="card_token", how="anti"), sub], how="vertical_relaxed").sort("seq")
        parts = pl.concat([first_parts.join(hop_accts, on="card_token", how="anti"), sub_parts],
                          how="vertical_relaxed")
    att = _windows(att, parts, loans, tax, cfg)
    feats = att.select("seq", *(k for k in FEATURE_KINDS if k in att.columns and k not in ("pl_class", "pl_prohibited")))
    feats = feats.join(parts.filter(pl.col("amount") > 0).sort("seq", "loan_id").group_by("seq").agg(
        pl.struct(pl.col("loan_id"), pl.col("amount").alias("fen"), "hop").alias("loan_parts")), on="seq", how="left")
    out = t.join(feats, on="seq", how="left").with_columns(pl.col("pl_traced").fill_null(False))
    out = out.join(_same_payee(t, cfg), on="seq", how="left")
    return out.with_columns(pl.lit(cfg.entrusted_threshold_fen, dtype=pl.Int64).alias("pl_entrusted_threshold_fen")
                            ).sort("seq")


def _windows(att: pl.DataFrame, parts: pl.DataFrame, loans: pl.DataFrame, tax: Taxonomy,
             cfg: TraceConfig) -> pl.DataFrame:
    """The windowed features of each traced outflow for the loan it is reported under: every part of every
    outflow adds to its own loan's windows; an outflow shows its reporting loan's sums."""
    us = (pl.col("ts") - pl.col("disb_ts")).dt.total_microseconds()
    debt = [c for c in tax.prohibited if c == "DEBT_REPAYMENT"]
    # windows compare integer microseconds and sums are integer fen, so online and offline agree exactly
    windows = (("pl_prohibited_30d", pl.col("pl_prohibited"), cfg.cumulative_days * DAY_US),
               ("pl_out_24h", ~pl.col("pl_class").is_in(list(cfg.in_out_exempt)), cfg.in_out_hours * DAY_US // 24),
               ("pl_debt_7d", pl.col("pl_class").is_in(debt), cfg.debt_days * DAY_US))
    p = (parts.join(att.select("seq", "ts", "pl_class", "pl_prohibited"), on="seq")
         .join(loans.select("loan_id", "disb_ts"), on="loan_id").with_columns(us.alias("_us"))
         .sort(["loan_id", "seq"]))
    p = p.with_columns([pl.when((pl.col("_us") <= w) & c).then(pl.col("amount")).otherwise(0).cum_sum()
                        .over("loan_id").cast(pl.Int64).alias(f"_{n}") for n, c, w in windows])
    a = att.join(p.filter(pl.col("primary")).select("seq", *(f"_{n}" for n, _, _ in windows)), on="seq", how="left")
    a = a.with_columns(us.alias("_us"))
    tr = pl.col("traced")
    inside = {n: tr & (pl.col("_us") <= w) for n, _, w in windows}
    a = a.with_columns([pl.when(inside[n]).then(pl.col(f"_{n}")).alias(f"{n}_fen") for n, _, _ in windows]
                       + [pl.when(inside[n]).then(pl.col(f"_{n}") / pl.col("principal")).alias(f"{n}_share")
                          for n, _, _ in windows])
    return a.with_columns(
        pl.col("traced").alias("pl_traced"),
        pl.when(tr).then(pl.col("pot_loan")).alias("pl_loan_id"),
        pl.when(tr).then(pl.col("seg_hop")).alias("pl_hop"),
        pl.when(tr).then(pl.col("_us") / DAY_US).alias("pl_days_since_disb"),
        pl.when(tr).then(pl.col("_us") // 1_000_000).alias("pl_secs_since_disb"),
        pl.when(tr).then(pl.col("attributed")).alias("pl_attributed_fen"),
        pl.when(tr).then(pl.col("principal")).alias("pl_principal_fen"),
        pl.when(tr).then(pl.col("self_payment")).alias("pl_self_payment"),
        pl.when(tr).then(pl.col("pot_src")).alias("pl_source_event")).sort("seq")


def payee_key() -> pl.Expr:
    """Same or related payee: the registered name when known, else the counterparty id."""
    return pl.coalesce(pl.col("counterparty_name"), pl.col("counterparty_id"))


def _same_payee(t: pl.DataFrame, cfg: TraceConfig) -> pl.DataFrame:
    """Outflows by the customer to the same payee within ``split_days`` up to and including each one."""
    o = t.filter(pl.col("direction") == "out").with_columns(payee_key().alias("_k")).sort(["customer_id", "_k", "seq"])
    if o.height == 0:
        return pl.DataFrame(schema={"seq": pl.Int64, "pl_same_payee_7d_cnt": pl.Int64,
                                    "pl_same_payee_7d_fen": pl.Int64})
    new = (pl.col("customer_id") != pl.col("customer_id").shift(1)) | (pl.col("_k") != pl.col("_k").shift(1))
    g = o.select(new.fill_null(True).cast(pl.Int64).cum_sum()).to_series().to_numpy()
    ts = o["ts"].dt.epoch("us").to_numpy()
    n = len(ts)
    idx = np.arange(n)
    # window start: first row of the same group with ts > t - window
    order_key = np.rec.fromarrays([g, ts])
    lo = np.searchsorted(order_key, np.rec.fromarrays([g, ts - cfg.split_days * DAY_US]), side="right")
    amt = o["amount_fen"].to_numpy().astype(np.int64)
    csum = np.concatenate([[0], np.cumsum(amt)])
    cnt = idx + 1 - lo
    fen = csum[idx + 1] - csum[lo]
    return pl.DataFrame({"seq": o["seq"], "pl_same_payee_7d_cnt": cnt.astype(np.int64),
                         "pl_same_payee_7d_fen": fen.astype(np.int64)})


def feature_frame(events: pl.DataFrame, taxonomy: Taxonomy | None = None,
                  config: TraceConfig = DEFAULT) -> pl.DataFrame:
    """``event_id`` + the :data:`FEATURE_KINDS` columns of every transfer (the provider's offline twin)."""
    tr = trace(events, taxonomy, config)
    return tr.select("event_id", *FEATURE_KINDS)


def by_loan(tr: pl.DataFrame) -> pl.DataFrame:
    """The traced outflows of a :func:`trace` once per loan whose money they carry (``loan_parts``): with
    ``pl_loan_id``, ``pl_attributed_fen`` and ``pl_hop`` of that loan's part; one with no loan money in it
    stays under the loan it is reported under."""
    part = pl.col("loan_parts")
    carried = tr.filter(part.is_not_null()).explode("loan_parts").with_columns(
        part.struct.field("loan_id").alias("pl_loan_id"), part.struct.field("fen").alias("pl_attributed_fen"),
        part.struct.field("hop").alias("pl_hop")).drop("loan_parts")
    return pl.concat([carried, tr.filter(pl.col("pl_traced") & part.is_null()).drop("loan_parts")]).sort("seq")


def loans_of(events: pl.DataFrame) -> pl.DataFrame:
    """The loan table the tracer uses (first disbursement per loan id)."""
    d, _ = split_events(events)
    return _loans(d)


def summary(tr: pl.DataFrame) -> dict[str, Any]:
    """Counts of a trace: transfers, traced outflows, attributed loan money, unknown counterparties."""
    out = tr.filter(pl.col("direction") == "out")
    return {"transfers": tr.height, "outflows": out.height, "traced": int(out["pl_traced"].sum()),
            "attributed_fen": int(out["pl_attributed_fen"].fill_null(0).sum()),
            "unknown_outflows": int((out["pl_class"] == "UNKNOWN").sum()),
            "unknown_attributed_fen": int(out.filter(pl.col("pl_class") == "UNKNOWN")["pl_attributed_fen"]
                                          .fill_null(0).sum())}
