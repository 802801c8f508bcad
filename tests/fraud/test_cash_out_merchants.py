"""Cash-out merchant score (DOMAIN.md §4.4): the behaviours it rests on, and recall / precision when the
simulator's cash-out parameters change (many colluding merchants, each serving one or two buyers)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fengkong.fraud.evaluate import MERCHANT_THRESHOLD
from fengkong.fraud.signals import merchant_scores
from fengkong.simulate import SimConfig, simulate_world

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _events(rows: list[dict]) -> pl.DataFrame:
    cols = {"event_id": pl.Utf8, "event_type": pl.Utf8, "ts": pl.Datetime("us", "Asia/Shanghai"),
            "customer_id": pl.Utf8, "merchant_id": pl.Utf8, "amount_fen": pl.Int64, "device_id": pl.Utf8,
            "is_refund": pl.Boolean, "direction": pl.Utf8, "counterparty_type": pl.Utf8,
            "counterparty_id": pl.Utf8, "product": pl.Utf8}
    full = [{c: r.get(c) for c in cols} | {"event_id": f"E{i}"} for i, r in enumerate(rows)]
    return pl.DataFrame(full, schema=cols)


def _shop(merchant: str, n: int, start: int = 0) -> list[dict]:
    """``n`` ordinary sales of 88.50 yuan to distinct buyers, one an hour."""
    return [{"event_type": "purchase", "ts": T0 + dt.timedelta(hours=start + i), "customer_id": f"C{merchant}{i}",
             "merchant_id": merchant, "amount_fen": 8_850, "device_id": f"D{merchant}{i}", "is_refund": False}
            for i in range(n)]


def _line(customer: str, fen: int) -> dict:
    return {"event_type": "application", "ts": T0 - dt.timedelta(days=30), "customer_id": customer,
            "product": "credit_line", "amount_fen": fen}


def _buy(customer: str, merchant: str, fen: int, hour: int) -> dict:
    return {"event_type": "purchase", "ts": T0 + dt.timedelta(hours=hour), "customer_id": customer,
            "merchant_id": merchant, "amount_fen": fen, "device_id": f"D{customer}", "is_refund": False}


def _back(customer: str, source: str, kind: str, fen: int, hour: float) -> dict:
    return {"event_type": "transfer", "ts": T0 + dt.timedelta(hours=hour), "customer_id": customer,
            "direction": "in", "counterparty_type": kind, "counterparty_id": source, "amount_fen": fen}


def _score(events: pl.DataFrame, merchant: str) -> float:
    return float(merchant_scores(events).filter(pl.col("merchant_id") == merchant)["score"][0])


def test_one_buyer_paid_back_by_the_merchant_for_a_maxed_line_is_listed():
    # a single buyer: 7 950 yuan on an 8 000-yuan line (not a round sum), 93 % back from the shop within 24 h
    ev = _events([*_shop("MX", 20), _line("CB", 800_000), _buy("CB", "MX", 795_000, 30),
                  _back("CB", "MX", "merchant", 739_000, 40)])
    assert _score(ev, "MX") >= MERCHANT_THRESHOLD
    # the same purchase without the money coming back is an ordinary big sale
    plain = ev.filter(pl.col("event_type") != "transfer")
    assert _score(plain, "MX") < MERCHANT_THRESHOLD


def test_a_friends_one_off_repayment_at_a_busy_shop_is_not_listed():
    # 300 sales; one buyer's 123.45-yuan dinner is paid back by a friend the same evening
    ev = _events([*_shop("MB", 300), _line("CF", 2_000_000), _buy("CF", "MB", 12_345, 5),
                  _back("CF", "AFRIEND", "individual", 10_000, 7)])
    assert _score(ev, "MB") < MERCHANT_THRESHOLD


def test_one_private_account_paying_back_several_buyers_links_the_loops():
    # a busy shop; two buyers who also spend 50 000 yuan elsewhere each get most of a 12 345-yuan purchase back
    rows = _shop("MP", 400)
    for k in range(2):
        c = f"CP{k}"
        rows += [_line(c, 5_000_000), _buy(c, "MP", 1_234_500, 50 + 30 * k), _buy(c, "MELSE", 5_000_000, 20),
                 _back(c, "AOWNER", "individual", 1_150_000, 60 + 30 * k)]
    ev = _events(rows)
    assert _score(ev, "MP") >= MERCHANT_THRESHOLD
    # two different friends instead of one owner account: chance, not a link
    ev2 = ev.with_columns(pl.when(pl.col("customer_id") == "CP1").then(pl.lit("AOTHER"))
                          .otherwise(pl.col("counterparty_id")).alias("counterparty_id"))
    assert _score(ev2, "MP") < MERCHANT_THRESHOLD


VARIANTS = {
    "twenty_merchants_no_shared_device": dict(seed=6203, cash_out_merchants=20, cash_out_device_share=0.0),
    "twelve_merchants_half_on_merchant_device": dict(seed=7319, cash_out_merchants=12, cash_out_device_share=0.5),
    "more_cash_out_customers_twenty_merchants": dict(seed=3141, cash_out_merchants=20, cash_out_device_share=0.0,
                                                     cash_out_share=0.02),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_merchant_recall_and_precision_hold_under_varied_cash_out(name, tmp_path):
    simulate_world(tmp_path, SimConfig(customers=3000, months=3, **VARIANTS[name]))
    from fengkong.events.files import read_world

    m = merchant_scores(read_world(tmp_path))
    bad = pl.read_parquet(tmp_path / "labels.parquet").filter(pl.col("pattern") == "cash_out_merchant")["entity_id"]
    flagged = m.filter(pl.col("score") >= MERCHANT_THRESHOLD)["merchant_id"]
    tp = int(flagged.is_in(bad.implode()).sum())
    assert tp / bad.n_unique() >= 0.9, (tp, bad.n_unique())
    assert tp / max(flagged.len(), 1) >= 0.9, (tp, flagged.len())
