"""Feature providers: a pack's features reach strategies (type check), decisions (online) and backtests."""

from __future__ import annotations

import datetime as dt
import types

import polars as pl
import pytest

from fengkong.features import load_features
from fengkong.features import providers as pv
from fengkong.features.online import OnlineFeatures
from fengkong.features.stores import MemoryStore

T = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


class _Seen:
    """Online: has this device been seen before (by this provider)?"""

    def __init__(self) -> None:
        self.devices: set[str] = set()
        self.closed = False

    def read_update(self, e):
        out = {"px_device_seen": e.get("device_id") in self.devices}
        self.devices.add(e.get("device_id"))
        return out

    def close(self) -> None:
        self.closed = True


def _backfill(events: pl.DataFrame, ctx) -> pl.DataFrame:
    ev = events.sort("ts", "event_id")
    return ev.select("event_id", (pl.int_range(pl.len()).over("device_id") > 0).alias("px_device_seen"))


FAKE = types.SimpleNamespace(__name__="fake_pack", FEATURE_KINDS={"px_device_seen": "bool"},
                             open_online=lambda ctx: _Seen(), backfill=_backfill)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(pv, "provider_modules", lambda: (FAKE,))


def _apps(n: int) -> list[dict]:
    return [{"event_id": f"a{i}", "event_type": "application", "ts": T + dt.timedelta(minutes=i),
             "customer_id": f"c{i}", "device_id": "d1" if i % 2 else f"d{i}", "id_token": f"id{i}",
             "product": "cash_loan", "amount_fen": 100_000, "term_months": 12}
            for i in range(n)]


def test_kinds_include_providers_and_clashes_are_errors(fake, monkeypatch):
    kinds = pv.combined_kinds(load_features().kinds)
    assert kinds["px_device_seen"] == "bool" and "app_cnt_device_1h" in kinds
    with pytest.raises(pv.ProviderError, match="clashes"):
        pv.combined_kinds({"px_device_seen": "int"})


def test_online_and_backfill_agree_and_reach_the_engine(fake):
    from fengkong.engine import Engine
    from fengkong.strategy import strategy_from_text

    fs = load_features()
    combined = pv.open_features(OnlineFeatures(fs, MemoryStore()), pv.ProviderContext())
    text = """
name: seen
version: "1"
event_type: application
nodes:
  - id: r
    type: ruleset
    rules:
      - {id: SEEN, when: "px_device_seen and app_cnt_device_1h >= 1", action: review, reason_code: SEEN,
         reason: seen}
flow:
  steps: [r]
  outcome:
    - {when: any_review, outcome: review}
    - {outcome: approve}
"""
    strategy = strategy_from_text(text)  # type-checks against the provider's kinds by default
    eng = Engine(features=combined, strategy=strategy)
    online = [eng.decide(e) for e in _apps(6)]
    assert [d.outcome for d in online] == ["approve", "approve", "approve", "review", "approve", "review"]
    from fengkong.events import EVENT_SCHEMA

    events = pl.DataFrame(_apps(6)).with_columns(pl.col("ts").dt.convert_time_zone("Asia/Shanghai"))
    events = events.select([pl.col(c) if c in events.columns else pl.lit(None, dtype=d).alias(c)
                            for c, d in EVENT_SCHEMA.items()]).cast(dict(EVENT_SCHEMA))
    table = pv.backfill_all(events, fs, pv.ProviderContext(), names={"px_device_seen"})
    got = dict(zip(table["event_id"], table["px_device_seen"], strict=True))
    assert [got[d.request_id] for d in online] == [d.features["px_device_seen"] for d in online]
    combined.close()
    assert combined.providers[0].closed
