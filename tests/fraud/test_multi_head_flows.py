"""Multi-head borrowing from the account flows: distinct other lenders paying in / paid within 30 days."""

from __future__ import annotations

import datetime as dt

from fengkong.events import TZ, validate_event
from fengkong.fraud.graph import AssociationGraph

T = dt.datetime(2026, 3, 1, 10, tzinfo=TZ)


def tr(eid, cid, day, lender, direction="in", category="lender"):
    return validate_event(
        dict(
            event_type="transfer",
            event_id=eid,
            ts=T + dt.timedelta(days=day),
            customer_id=cid,
            direction=direction,
            counterparty_id=lender,
            counterparty_type="financial",
            counterparty_category=category,
            amount_fen=500_000,
        )
    )


def app(eid, cid, day):
    return validate_event(
        dict(
            event_type="application",
            event_id=eid,
            ts=T + dt.timedelta(days=day),
            customer_id=cid,
            product="cash_loan",
            amount_fen=100_000,
            term_months=12,
        )
    )


def test_distinct_lenders_in_the_window():
    g = AssociationGraph()
    for i, (day, lender) in enumerate([(0, "LA"), (10, "LB"), (12, "LB"), (25, "LC")]):
        g.update(tr(f"t{i}", "c1", day, lender))
    g.update(tr("o1", "c1", 20, "CARD", direction="out"))
    g.update(tr("m1", "c1", 20, "SHOP", category="everyday_retail"))  # not a lender: not counted
    f = g.read(app("a1", "c1", 28))
    assert (f["graph_lenders_in_30d"], f["graph_lenders_out_30d"]) == (3, 1)
    f = g.read(app("a2", "c1", 41))  # LA (day 0) fell out of the 30-day window, LB's day-12 loan did not
    assert (f["graph_lenders_in_30d"], f["graph_lenders_out_30d"]) == (2, 1)
    f = g.read(app("a4", "c1", 51))  # only LC (day 25) is left; the card repayment (day 20) is out too
    assert (f["graph_lenders_in_30d"], f["graph_lenders_out_30d"]) == (1, 0)
    assert g.read(app("a3", "c2", 28))["graph_lenders_in_30d"] == 0  # another customer
