"""Fraud signals over a world frame (DOMAIN.md §4.1–4.4), point-in-time and vectorised where the data allows.

Graph features come from replaying the online :class:`~fengkong.fraud.graph.AssociationGraph` over the
stream (the same code the decision path runs); the per-application signals are the declarations of
:mod:`~fengkong.fraud.signal_defs` compiled to Polars (the same expressions the provider compiles to Python);
the rest is Polars over the whole frame. Each
value for an event uses only events strictly before it, except the merchant batch scores, which are a
batch job's view of the history up to its run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import polars as pl

from fengkong.fraud.graph import FEATURES as GRAPH_FEATURES
from fengkong.fraud.graph import AssociationGraph
from fengkong.fraud.signal_compile import offline_signals
from fengkong.fraud.signal_defs import COUNTS, SIGNALS

#: Purchases whose amount is a whole multiple of this many fen (100 yuan) and at least ROUND_MIN are "round".
ROUND_UNIT_FEN = 10_000
ROUND_MIN_FEN = 100_000
LOOP_HOURS = 24  # spend at a merchant, money back from that merchant within this many hours
TRANSFER_OUT_DAYS = 3  # loan money moved out "immediately"
LOOP_SHARE_FULL = 0.05  # loops at or above this share of a merchant's purchases (or volume) count in full
MAXED_LINE_SHARE = 0.95  # a purchase taking at least this share of the buyer's credit line "maxes" it
LOOP_VOLUME_MOST = 0.5  # looped purchases carrying at least this share of a merchant's volume
CONCENTRATED = 0.5  # a buyer spending at least this share of their card money at one merchant is concentrated


def graph_features(events: pl.DataFrame, caps: dict[str, int] | None = None, risky: Iterable[str] = (),
                   progress: Callable[[int, int], None] | None = None,
                   blacklisted: Iterable[str] = ()) -> pl.DataFrame:
    """``event_id`` + the graph features of every application, by replaying the online graph in order."""
    g = AssociationGraph(caps=caps)
    for n in risky:
        g.flag(n, "risky")
    for n in blacklisted:
        g.flag(n, "blacklisted")
    events = events.sort(["ts", "event_id"], maintain_order=True)  # the online replay order
    cols = list(GRAPH_FEATURES)
    out: dict[str, list] = {c: [] for c in cols}
    ids: list[str] = []
    names = [c for c in events.columns]
    n = events.height
    for k, row in enumerate(events.iter_rows()):
        ev = dict(zip(names, row, strict=True))
        if ev["event_type"] == "application":
            f = g.read_update(ev)
            ids.append(ev["event_id"])
            for c in cols:
                out[c].append(f[c])
        else:
            g.update(ev)
        if progress is not None and k % 50_000 == 0:
            progress(k, n)
    schema = {c: (pl.Boolean if isinstance(out[c][0] if out[c] else 0, bool) else pl.Int64) for c in cols}
    return pl.DataFrame({"event_id": ids, **out}, schema={"event_id": pl.Utf8, **schema})


def application_features(events: pl.DataFrame, caps: dict[str, int] | None = None, risky: Iterable[str] = (),
                         locked: Iterable[str] = (),
                         progress: Callable[[int, int], None] | None = None,
                         blacklisted: Iterable[str] = ()) -> pl.DataFrame:
    """Every fraud feature of every application (the vectorised twin of ``provider.FraudFeatures``): the graph
    replayed, then the declared signals (``signal_defs.SIGNALS``, offline-only ones included) compiled to Polars."""
    apps = events.filter(pl.col("event_type") == "application")
    gf = graph_features(events, caps=caps, risky=risky, progress=progress, blacklisted=blacklisted)
    frame = apps.join(_inflow_90d(events, apps), on="event_id", how="left").join(gf, on="event_id", how="left")
    f = offline_signals(frame)
    return f.select("event_id", "customer_id", "ts", *(s.name for s in SIGNALS), *GRAPH_FEATURES, *COUNTS,
                    pl.col("id_token").is_in(list(locked)).fill_null(False).alias("identity_locked"))


def _inflow_90d(events: pl.DataFrame, apps: pl.DataFrame) -> pl.DataFrame:
    """Average monthly money-in (transfers in) over the 90 days before each application."""
    tin = events.filter((pl.col("event_type") == "transfer") & (pl.col("direction") == "in")).select(
        "customer_id", pl.col("ts").alias("t_in"), "amount_fen")
    q = apps.select("event_id", "customer_id", "ts")
    j = q.join(tin, on="customer_id").filter((pl.col("t_in") < pl.col("ts"))
                                             & (pl.col("t_in") >= pl.col("ts") - pl.duration(days=90)))
    return j.group_by("event_id").agg((pl.col("amount_fen").sum() / 3.0).alias("inflow_monthly_fen"))


def transfer_out_after_disbursement(events: pl.DataFrame, days: int = TRANSFER_OUT_DAYS) -> pl.DataFrame:
    """Per loan: share of the disbursed amount moved to private individuals / cash within ``days``."""
    d = events.filter(pl.col("event_type") == "disbursement").select(
        "customer_id", "loan_id", pl.col("ts").alias("dts"), pl.col("amount_fen").alias("loan_fen"))
    t = events.filter((pl.col("event_type") == "transfer") & (pl.col("direction") == "out")
                      & pl.col("counterparty_type").is_in(["individual", "cash"])).select(
        "customer_id", "ts", "amount_fen")
    j = d.join(t, on="customer_id").filter((pl.col("ts") >= pl.col("dts"))
                                           & (pl.col("ts") <= pl.col("dts") + pl.duration(days=days)))
    s = j.group_by("loan_id").agg(pl.col("amount_fen").sum().alias("out_fen"))
    return d.join(s, on="loan_id", how="left").with_columns(
        (pl.col("out_fen").fill_null(0) / pl.col("loan_fen")).clip(0, 1).alias("out_share"))


def loan_to_repay(events: pl.DataFrame, days: int = 7) -> pl.DataFrame:
    """Per loan (§4.3 以贷养贷): money sent to other lenders / financial institutions within ``days`` of the
    disbursement (each transfer counted for the latest loan disbursed before it) and its share of the loan."""
    d = events.filter(pl.col("event_type") == "disbursement").select(
        "customer_id", "loan_id", pl.col("ts").alias("dts"), pl.col("amount_fen").alias("loan_fen")).sort("dts")
    t = events.filter((pl.col("event_type") == "transfer") & (pl.col("direction") == "out")
                      & ((pl.col("counterparty_category") == "lender")
                         | (pl.col("counterparty_type") == "financial"))).select(
        "customer_id", pl.col("ts").alias("dts"), "amount_fen", pl.col("ts").alias("t_ts")).sort("dts")
    j = t.join_asof(d.select("customer_id", "loan_id", "dts", pl.col("dts").alias("d_ts")), on="dts",
                    by="customer_id", strategy="backward", check_sortedness=False).filter(
        pl.col("loan_id").is_not_null() & (pl.col("t_ts") <= pl.col("d_ts") + pl.duration(days=days)))
    per_loan = j.group_by("loan_id").agg(pl.col("amount_fen").sum().alias("to_lenders"))
    return d.join(per_loan, on="loan_id", how="left").with_columns(pl.col("to_lenders").fill_null(0)).with_columns(
        (pl.col("to_lenders") / pl.col("loan_fen")).clip(0, 1).alias("repay_share")).drop("dts")


def purchase_loops(events: pl.DataFrame, hours: int = LOOP_HOURS) -> pl.DataFrame:
    """Purchases followed within ``hours`` by 50–100 % of the amount coming back into the buyer's account from
    the same merchant or from a private individual (the cash-out fund loop, §4.4). One row per purchase."""
    p = events.filter((pl.col("event_type") == "purchase") & ~pl.col("is_refund").fill_null(False)).select(
        "event_id", "customer_id", "merchant_id", "ts", "amount_fen", "device_id")
    back = events.filter((pl.col("event_type") == "transfer") & (pl.col("direction") == "in")
                         & pl.col("counterparty_type").is_in(["merchant", "individual"])).select(
        "customer_id", pl.col("ts").alias("t_back"), "counterparty_id", "counterparty_type",
        pl.col("amount_fen").alias("back_fen"))
    # back from the very merchant, or from a private account (the merchant owner's); payroll and other
    # company credits are not loops
    j = p.join(back, on="customer_id").filter(
        ((pl.col("counterparty_id") == pl.col("merchant_id")) | (pl.col("counterparty_type") == "individual"))
        & (pl.col("t_back") >= pl.col("ts")) & (pl.col("t_back") <= pl.col("ts") + pl.duration(hours=hours))
        & (pl.col("back_fen") >= pl.col("amount_fen") * 0.5) & (pl.col("back_fen") <= pl.col("amount_fen")))
    looped = (j.sort("t_back").group_by("event_id").agg(pl.col("counterparty_id").first().alias("back_from"))
              .with_columns(pl.lit(True).alias("loop")))
    return p.join(looped, on="event_id", how="left").with_columns(pl.col("loop").fill_null(False))


def round_or_below_limit() -> pl.Expr:
    """Round (whole 100 yuan, >= 1 000 yuan) or just below a 1 000-yuan step (9 999, 4 998 …)."""
    a = pl.col("amount_fen")
    return (((a % ROUND_UNIT_FEN == 0) & (a >= ROUND_MIN_FEN))
            | ((a % 100_000 >= 99_000) & (a >= ROUND_MIN_FEN)))


def _credit_line(events: pl.DataFrame, p: pl.DataFrame) -> pl.DataFrame:
    """``p`` + ``line_fen``: the amount of the buyer's latest credit-line application before each purchase (the
    line the purchase draws on; null when the events carry none)."""
    if "product" not in events.columns:
        return p.with_columns(pl.lit(None, dtype=pl.Int64).alias("line_fen"))
    lines = (events.filter((pl.col("event_type") == "application") & (pl.col("product") == "credit_line"))
             .select("customer_id", "ts", pl.col("amount_fen").cast(pl.Int64).alias("line_fen")).sort("ts"))
    return p.sort("ts").join_asof(lines, on="ts", by="customer_id", strategy="backward", check_sortedness=False)


def cash_out_shape() -> pl.Expr:
    """Round or just-below-round amount, or a purchase that takes (nearly) the whole credit line (§4.4: round or
    just-below-limit amounts, "spend the full limit"). Needs ``line_fen`` (see ``_credit_line``)."""
    return round_or_below_limit() | (pl.col("amount_fen") >= MAXED_LINE_SHARE * pl.col("line_fen")).fill_null(False)


def merchant_scores(events: pl.DataFrame) -> pl.DataFrame:
    """Per merchant (§4.4): volume, buyers, round-amount share, fund loops (spend, money back within 24 h),
    distinct looping buyers, buyer concentration, device sharing between buyers, and a cash-out score.

    The score counts evidence rather than averaging it: a colluding merchant hides its loops among ordinary
    sales, so shares dilute but the evidence of each loop does not. Each loop (a purchase whose money came
    back to the buyer within 24 h) weighs 1 when it is *linked* (the money came back from the merchant itself —
    a cash refund of a card purchase — or from a private account that paid back several of its buyers, the
    owner's) and 0.25 otherwise (a friend's repayment looks the same), + 0.5 when its amount has the cash-out
    shape (round, just below a round sum, or the buyer's whole credit line); every loop counts, so repeated
    loops add up. A looping buyer who spends most of their card money at this merchant adds 0.5 (buyer
    concentration), looped purchases carrying most of the merchant's volume add 0.5, and purchases made on a
    device several buyers share add 3 × their share. ``score = 1 - 0.6 ** evidence``; the unlinked part is
    scaled down while loops are under 5 % of the merchant's purchases *and* of its volume (a big shop with a
    coincidental loop among thousands of sales is not a cash-out shop). No id format or simulator constant
    is used: only amounts, times, counterparties and the buyer's credit line.
    """
    p = _credit_line(events, purchase_loops(events)).with_columns(
        round_or_below_limit().alias("round"), cash_out_shape().alias("shape"))
    cust_total = p.group_by("customer_id").agg(pl.col("amount_fen").sum().alias("cust_total"))
    cm = (p.group_by("merchant_id", "customer_id").agg(pl.col("amount_fen").sum().alias("at_m"))
          .join(cust_total, on="customer_id").with_columns((pl.col("at_m") / pl.col("cust_total")).alias("conc")))
    conc = cm.group_by("merchant_id").agg((pl.col("conc") >= CONCENTRATED).mean().alias("concentrated_buyers"))
    dev = (p.filter(pl.col("device_id").is_not_null()).group_by("merchant_id", "device_id")
           .agg(pl.col("customer_id").n_unique().alias("k"), pl.len().alias("n")))
    dev_share = dev.group_by("merchant_id").agg(
        (pl.when(pl.col("k") >= 2).then(pl.col("n")).otherwise(0).sum() / pl.col("n").sum()).alias("shared_device"))
    # a loop is "linked" when the money came back from the merchant itself or from a private account that
    # also paid back another buyer of this merchant (the owner's account); a friend's chance transfer is not
    src = (p.filter("loop").group_by("merchant_id", "back_from")
           .agg(pl.col("customer_id").n_unique().alias("src_buyers")))
    p = p.join(src, on=["merchant_id", "back_from"], how="left").with_columns(
        (pl.col("loop") & ((pl.col("back_from") == pl.col("merchant_id")) | (pl.col("src_buyers") >= 2)))
        .alias("linked"))
    loops = (p.filter("loop").join(cm.select("merchant_id", "customer_id", "conc"), on=["merchant_id", "customer_id"])
             .with_columns(
                 (pl.when("linked").then(1.0).otherwise(0.25) + 0.5 * pl.col("shape").cast(pl.Float64))
                 .alias("w")))
    per_buyer = loops.group_by("merchant_id", "customer_id").agg(
        pl.col("w").filter("linked").sum().alias("linked_ev"), pl.col("w").filter(~pl.col("linked")).sum()
        .alias("other_ev"), (pl.col("conc").first() >= CONCENTRATED).alias("conc_buyer"), pl.col("linked").any())
    ev = per_buyer.group_by("merchant_id").agg(
        (pl.col("linked_ev").sum() + 0.5 * (pl.col("conc_buyer") & pl.col("linked")).sum()).alias("linked_evidence"),
        (pl.col("other_ev").sum() + 0.5 * (pl.col("conc_buyer") & ~pl.col("linked")).sum()).alias("other_evidence"),
        pl.col("conc_buyer").sum().alias("concentrated_loop_buyers"))
    m = p.group_by("merchant_id").agg(
        pl.len().alias("purchases"), pl.col("customer_id").n_unique().alias("buyers"),
        pl.col("amount_fen").sum().alias("volume_fen"), pl.col("round").mean().alias("round_share"),
        pl.col("shape").mean().alias("shape_share"),
        pl.col("loop").sum().alias("loops"), pl.col("amount_fen").filter("loop").sum().alias("loop_fen"),
        pl.col("customer_id").filter("loop").n_unique().alias("loop_buyers"),
        pl.col("customer_id").filter("linked").n_unique().alias("linked_loop_buyers"),
        (pl.col("linked") & pl.col("round")).sum().alias("round_linked_loops"))
    m = (m.join(conc, on="merchant_id", how="left").join(dev_share, on="merchant_id", how="left")
         .join(ev, on="merchant_id", how="left")
         .with_columns(pl.col("concentrated_buyers", "shared_device", "linked_evidence", "other_evidence")
                       .fill_null(0.0),
                       pl.col("concentrated_loop_buyers").fill_null(0)))
    # a big merchant with a couple of coincidental loops among thousands of sales is not a cash-out shop: the
    # weak evidence counts in full only once loops reach LOOP_SHARE_FULL of its purchases or of its volume
    share = (pl.max_horizontal(pl.col("loops") / pl.col("purchases"), pl.col("loop_fen") / pl.col("volume_fen"))
             / LOOP_SHARE_FULL).clip(0.0, 1.0)
    # most of the shop's turnover came straight back to its buyers (few looping buyers carrying the volume)
    carried = 0.5 * (pl.col("loop_fen") >= LOOP_VOLUME_MOST * pl.col("volume_fen")).cast(pl.Float64)
    evidence = pl.col("linked_evidence") + share * (pl.col("other_evidence") + carried
                                                    + 3.0 * pl.col("shared_device"))
    return m.with_columns(evidence.alias("evidence"), (1.0 - 0.6 ** evidence).alias("score")).sort(
        "score", descending=True)


def customer_cash_out(events: pl.DataFrame, merchants: pl.DataFrame) -> pl.DataFrame:
    """Per credit-line customer: loop purchases, round purchases, spend at high-score merchants, and a score."""
    p = purchase_loops(events).with_columns(round_or_below_limit().alias("round"))
    p = p.join(merchants.select("merchant_id", pl.col("score").alias("m_score")), on="merchant_id", how="left")
    c = p.group_by("customer_id").agg(
        pl.len().alias("purchases"), pl.col("loop").sum().alias("loops"),
        (pl.col("loop") & pl.col("round")).sum().alias("round_loops"),
        (pl.col("amount_fen") * pl.col("m_score").fill_null(0)).sum().alias("risk_weighted_fen"),
        pl.col("amount_fen").sum().alias("spend_fen"), pl.col("m_score").max().alias("max_merchant_score"))
    return c.with_columns(
        (0.6 * (pl.col("loops") / (pl.col("loops") + 1.0)) + 0.4 * (pl.col("risk_weighted_fen")
                                                                     / pl.col("spend_fen")).fill_nan(0))
        .alias("score"))

