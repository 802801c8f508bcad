"""Ring evidence from one-hop, time-windowed ego tests: rarity, not any sharing; online = offline replay."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from fraud_stream_gen import random_stream

from fengkong.events import TZ, validate_event
from fengkong.fraud.graph import AssociationGraph, binomial_tail, poisson_tail
from fengkong.fraud.provider import FraudFeatures
from fengkong.fraud.signals import application_features

T = dt.datetime(2026, 3, 1, 10, tzinfo=TZ)
EGO = ("graph_burst_elements", "graph_burst_peers", "graph_burst_multi_peers", "graph_bad_elements")


def app(eid, cid, day=0, **kw):
    return validate_event(
        dict(
            event_type="application",
            event_id=eid,
            ts=T + dt.timedelta(days=day, minutes=int(eid[1:]) % 600),
            customer_id=cid,
            product="cash_loan",
            amount_fen=100_000,
            term_months=12,
            **kw,
        )
    )


def default(eid, cid, day):
    return validate_event(
        dict(
            event_type="repayment",
            event_id=eid,
            ts=T + dt.timedelta(days=day),
            customer_id=cid,
            loan_id="L" + cid,
            installment_no=1,
            due_date=(T + dt.timedelta(days=day - 31)).date(),
            due_fen=1000,
            paid_fen=0,
            dpd=31,
        )
    )


def test_tails():
    assert poisson_tail(0, 1.0) == 1.0 and poisson_tail(6, 1.0) == pytest.approx(0.000594, rel=1e-2)
    assert binomial_tail(0, 10, 0.1) == 1.0 and binomial_tail(11, 10, 0.1) == 0.0
    assert binomial_tail(1, 10, 0.1) == pytest.approx(1 - 0.9**10)


def _background(g, n=2000, days=60):
    """Ordinary applicants with their own devices and phones, one employer each of 40 small ones (enough of them
    that eight people are far below the hub share of a 14-day window)."""
    for i in range(n):
        g.update(
            app(
                f"B{i}",
                f"b{i}",
                day=i * days // n,
                device_id=f"db{i}",
                phone_token=f"pb{i}",
                employer_id=f"E{i % 40}",
            )
        )


def test_a_device_used_by_many_identities_in_a_week_bursts_a_family_device_does_not():
    g = AssociationGraph()
    _background(g)
    for i in range(3):  # a household: three people on one tablet within days
        g.update(app(f"H{i}", f"h{i}", day=61 + i, device_id="family", phone_token=f"ph{i}"))
    fam = g.read(app("H9", "h9", day=64, device_id="family", phone_token="ph9"))
    assert fam["graph_device_identities"] == 3 and fam["graph_burst_elements"] == 0
    for i in range(8):  # an intermediary's phone: eight identities in a week, listing the agent's phone
        g.update(
            app(
                f"R{i}",
                f"r{i}",
                day=61 + i % 7,
                device_id="agent",
                phone_token=f"pr{i}",
                contact_tokens=["agentphone"],
            )
        )
    ring = g.read(
        app("R9", "r9", day=68, device_id="agent", phone_token="pr9", contact_tokens=["agentphone"])
    )
    assert ring["graph_burst_elements"] == 2 and ring["graph_burst_peers"] == 8
    # the same eight identities spread over a year are not a burst
    g2 = AssociationGraph()
    _background(g2, n=4000, days=400)
    for i in range(8):
        g2.update(app(f"R{i}", f"r{i}", day=45 * i, device_id="agent", phone_token=f"pr{i}"))
    assert (
        g2.read(app("R9", "r9", day=320, device_id="agent", phone_token="pr9"))["graph_burst_elements"] == 0
    )


def test_a_large_employer_with_history_is_no_evidence():
    g = AssociationGraph()
    _background(g, n=200, days=90)
    for i in range(300):  # 300 staff applying steadily over 90 days
        g.update(app(f"S{i}", f"s{i}", day=i * 90 // 300, employer_id="BIG", device_id=f"ds{i}"))
    f = g.read(app("S999", "s999", day=90, employer_id="BIG", device_id="ds999"))
    assert f["graph_employer_applicants"] == 300 and f["graph_burst_elements"] == 0


def test_bad_elements_are_rates_against_the_population_not_counts():
    g = AssociationGraph()
    _background(g, n=600, days=60)
    for i in range(0, 600, 20):  # 5 % of the population defaults
        g.update(default(f"X{i}", f"b{i}", day=61))
    # a landlord-sized group: 40 people on one card (not realistic, but the test is the count) with 2 defaults
    for i in range(40):
        g.update(app(f"C{i}", f"c{i}", day=62, card_token="shared"))
    for i in range(2):
        g.update(default(f"Y{i}", f"c{i}", day=63))
    assert g.read(app("C99", "c99", day=64, card_token="shared"))["graph_bad_elements"] == 0
    # an intermediary's device: 6 users, 4 defaulted
    for i in range(6):
        g.update(app(f"D{i}", f"d{i}", day=62, device_id="agentdev"))
    for i in range(4):
        g.update(default(f"Z{i}", f"d{i}", day=63))
    assert g.read(app("D99", "d99", day=64, device_id="agentdev"))["graph_bad_elements"] == 1
    # a shared employer or contact with defaulters is not evidence (colleagues, family)
    for i in range(6):
        g.update(app(f"F{i}", f"f{i}", day=62, employer_id="SHELL", contact_tokens=["mum"]))
    for i in range(4):
        g.update(default(f"W{i}", f"f{i}", day=63))
    assert (
        g.read(app("F99", "f99", day=64, employer_id="SHELL", contact_tokens=["mum"]))["graph_bad_elements"]
        == 0
    )


def _ring_stream():
    """Background applicants, then a ring on an intermediary's device listing its phone, moving the loans to its
    account; later members apply after the first ones defaulted."""
    ev = [
        app(f"B{i}", f"b{i}", day=i * 60 // 2000, device_id=f"db{i}", phone_token=f"pb{i}")
        for i in range(2000)
    ]
    for i in range(12):
        ev.append(
            app(
                f"R{i}",
                f"r{i}",
                day=61 + i % 5,
                device_id="agent" if i % 2 else f"own{i}",
                phone_token=f"pr{i}",
                contact_tokens=["agentphone"],
            )
        )
        ev.append(
            validate_event(
                dict(
                    event_type="transfer",
                    event_id=f"T{i}",
                    customer_id=f"r{i}",
                    ts=T + dt.timedelta(days=61 + i % 5, hours=3),
                    direction="out",
                    counterparty_id="agentacct",
                    counterparty_type="individual",
                    amount_fen=9000,
                )
            )
        )
        ev.append(default(f"Z{i}", f"r{i}", day=100))
        ev.append(
            app(
                f"S{i}",
                f"r{i}",
                day=66 + i % 5,
                device_id="agent" if i % 2 else f"own{i}",
                phone_token=f"pr{i}",
                contact_tokens=["agentphone"],
            )
        )
    ev += [app(f"L{i}", f"l{i}", day=101 + i, device_id="agent", phone_token=f"pl{i}") for i in range(3)]
    return ev


@pytest.mark.parametrize("seed", [5, 17, None])
def test_online_provider_equals_offline_backfill(seed):
    """The decision path (FraudFeatures.read_update, event by event) and the backfill (application_features
    over the whole frame) give the same ego evidence for every application."""
    if seed is None:
        stream = _ring_stream()
        frame = pl.DataFrame(stream, infer_schema_length=None)
    else:
        stream, frame = random_stream(600, seed=seed)
    ff = FraudFeatures()
    online = {}
    for ev in sorted(stream, key=lambda e: (e["ts"], e["event_id"])):
        if ev["event_type"] == "application":
            f = ff.read_update(ev)
            online[ev["event_id"]] = tuple(f[k] for k in EGO)
        else:
            ff.update(ev)
    off = application_features(frame).select("event_id", *EGO)
    got = {r[0]: tuple(r[1:]) for r in off.iter_rows()}
    assert got == online
    assert any(v[0] for v in online.values())  # bursts to compare
    if seed is None:  # every feature takes non-zero values in the ring stream
        assert all(any(v[j] for v in online.values()) for j in range(len(EGO)))
        # a member on their own device bursts at the second application through the intermediary's phone in the
        # contacts and the account the first loan went to (same people behind both); late device users see defaults
        assert online["S0"][0] == 2 and online["S0"][2] == 11 and online["R0"][0] == 0
        assert online["L2"][3] == 1 and online["B1999"] == (0, 0, 0, 0)
