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
