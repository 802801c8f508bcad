"""risk_price / apr_irr are usable in strategy expressions, online and in the vectorised backtest."""

import datetime as dt

import polars as pl
import pytest

from fengkong.pricing import apr_irr, risk_price_rate
from fengkong.strategy.errors import StrategyError

TEXT = """
name: priced
version: 1
event_type: application
nodes:
  - id: price
    type: assign
    values:
      apr: "risk_price(pd_in, amount_fen / 100, term_months, ts)"
      cost: "apr_irr(amount_fen / 100, term_months, 'fee_per_period', 0.0, 0.006)"
flow:
  outcome:
    - {when: "is_null(apr)", outcome: reject, reason_code: PRICE_ABOVE_CAP}
    - {outcome: approve}
  outputs: {apr: apr, cost: cost}
"""
TS = dt.datetime(2026, 2, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _strategy():
    from fengkong.strategy.compiled import Strategy
    from fengkong.strategy.spec import parse_spec

    return Strategy(parse_spec(TEXT, "priced.yaml", features={"pd_in": "float"}))


def test_risk_price_in_a_strategy_matches_the_pricing_function_and_declines_above_cap():
    s = _strategy()
    low = s.evaluate({"amount_fen": 1_000_000, "term_months": 12, "ts": TS}, features={"pd_in": 0.02})
    assert low.outcome == "approve"
    assert low.outputs["apr"] == pytest.approx(risk_price_rate(0.02, 10000.0, 12, start="2026-02-01"))
    assert low.outputs["cost"] == pytest.approx(apr_irr(10000.0, 12, method="fee_per_period", fee_rate=0.006))
    assert round(low.outputs["cost"] * 100, 2) == 13.03
    high = s.evaluate({"amount_fen": 1_000_000, "term_months": 12, "ts": TS}, features={"pd_in": 0.6})
    assert high.outcome == "reject" and "PRICE_ABOVE_CAP" in high.reason_codes


def test_vectorised_backtest_gives_the_same_prices():
    s = _strategy()
    frame = pl.DataFrame({"event_id": ["a", "b"], "amount_fen": [1_000_000, 500_000], "term_months": [12, 6],
                          "ts": [TS, TS], "__f.pd_in": [0.02, 0.6]})
    out = s.evaluate_frame(frame)
    assert out["outcome"].to_list() == ["approve", "reject"]


def test_unknown_function_is_still_a_located_error():
    with pytest.raises(StrategyError, match=r"priced\.yaml:9:13: unknown function 'risk_prize'"):
        from fengkong.strategy.spec import parse_spec

        parse_spec(TEXT.replace("risk_price(", "risk_prize("), "priced.yaml", features={"pd_in": "float"})


def test_bad_input_raises_instead_of_looking_like_a_decline():
    from fengkong.pricing import PricingError
    from fengkong.pricing.strategy_functions import risk_price_py

    with pytest.raises(PricingError) as ei:
        risk_price_py(0.02, 10000.0, 12, dt.date(2010, 1, 1))    # before every configured cap rule
    assert ei.value.field == "date"
    with pytest.raises(PricingError) as ei:
        risk_price_py(0.02, -10000.0, 12, TS)
    assert ei.value.field == "principal"
    with pytest.raises(PricingError) as ei:
        risk_price_py(1.5, 10000.0, 12, TS)
    assert ei.value.field == "pd"
    assert risk_price_py(0.6, 10000.0, 12, TS) is None              # a real decline is still null


def test_a_node_error_reaches_the_engine_not_a_silent_decline():
    from fengkong.strategy.errors import NodeError

    s = _strategy()
    old = dt.datetime(2010, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with pytest.raises(NodeError, match="date"):
        s.evaluate({"amount_fen": 1_000_000, "term_months": 12, "ts": old}, features={"pd_in": 0.02})
    with pytest.raises(NodeError, match="principal"):
        s.evaluate({"amount_fen": -1_000_000, "term_months": 12, "ts": TS}, features={"pd_in": 0.02})


def test_risk_price_product_takes_the_fee_structure():
    from fengkong.strategy.compiled import Strategy
    from fengkong.strategy.spec import parse_spec

    text = TEXT.replace('"risk_price(pd_in, amount_fen / 100, term_months, ts)"',
                        '"risk_price_product(pd_in, amount_fen / 100, term_months, ts, \'fee_per_period\', 0.003)"')
    s = Strategy(parse_spec(text, "priced.yaml", features={"pd_in": "float"}))
    got = s.evaluate({"amount_fen": 1_000_000, "term_months": 12, "ts": TS}, features={"pd_in": 0.02})
    plain = risk_price_rate(0.02, 10000.0, 12, start="2026-02-01")
    with_fee = risk_price_rate(0.02, 10000.0, 12, method="fee_per_period", fee_rate=0.003, start="2026-02-01")
    assert got.outputs["apr"] == pytest.approx(with_fee)
    assert with_fee < plain                          # the fee carries part of the required cost
    # fee_total: the total fee is fee_rate × term, as in apr_irr
    total = risk_price_rate(0.02, 10000.0, 12, method="fee_total", fee_rate=0.003, start="2026-02-01")
    assert total == pytest.approx(with_fee, abs=0.01) and total < plain
    frame = pl.DataFrame({"event_id": ["a"], "amount_fen": [1_000_000], "term_months": [12], "ts": [TS],
                          "__f.pd_in": [0.02]})
    assert s.evaluate_frame(frame)["outcome"].to_list() == ["approve"]


def test_business_date_of_a_utc_timestamp_is_shanghai():
    from fengkong.pricing.strategy_functions import _day

    assert _day(dt.datetime(2026, 1, 31, 20, tzinfo=dt.UTC)) == dt.date(2026, 2, 1)
