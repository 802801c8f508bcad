"""Online association graph: cluster stats, idempotence, and agreement with the offline build."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from fraud_stream_gen import random_stream

from fengkong.events import TZ, validate_event
from fengkong.fraud.graph import AssociationGraph
from fengkong.fraud.offline import build_graph

T = dt.datetime(2026, 3, 1, 10, tzinfo=TZ)


def app(eid, cid, ts=T, **kw):
    return validate_event(dict(event_type="application", event_id=eid, ts=ts, customer_id=cid,
                               product="cash_loan", amount_fen=100_000, term_months=12, **kw))


def test_shared_device_joins_clusters_and_counts_recent_apps():
    g = AssociationGraph()
    g.update(app("e1", "a", device_id="d1", phone_token="p1", contact_tokens=["k1"]))
    g.update(app("e2", "b", ts=T + dt.timedelta(days=1), device_id="d2", phone_token="p2"))
    f = g.read(app("e3", "c", ts=T + dt.timedelta(days=2), device_id="d1", phone_token="p2", contact_tokens=["k1"]))
    assert f["graph_cluster_applicants"] == 3  # a through device d1, b through phone p2, plus c itself
    assert f["graph_contact_applicants"] == 1 and f["graph_phone_new_to_applicant"] is True
    assert f["graph_cluster_apps_7d"] == 2
    assert f["graph_device_identities"] == 1
    assert f["graph_device_new_to_applicant"] is True
    assert len(g) == 7  # read added nothing: a, b, d1, d2, p1, p2, k1
    g.update(app("e3", "c", ts=T + dt.timedelta(days=2), device_id="d1", phone_token="p2", contact_tokens=["k1"]))
    assert g.cluster("c:a") == {"applicants": 3, "elements": 4, "apps_7d": 0, "defaulted": 0,
                                "blacklisted": 0, "risky": 0}
    later = T + dt.timedelta(days=8, hours=1)
    assert g.cluster("c:a", as_of=later)["apps_7d"] == 1  # only e3 (day +2) is within 7 days of day +8


def test_event_applied_once():
    g = AssociationGraph()
    e = app("e1", "a", device_id="d1")
    assert g.update(e) is True
    assert g.update(e) is False
    assert g.node_stats("dv:d1") == (1, 1)
    assert g.cluster("c:a", as_of=T)["apps_7d"] == 1


def test_hub_cap_stops_merging_but_keeps_counting():
    g = AssociationGraph(caps={"ip": 2})
    for i in range(4):
        g.update(app(f"e{i}", f"c{i}", ip="1.1.1.1"))
    assert g.cluster("c:c0")["applicants"] == 2
    assert g.cluster("c:c3")["applicants"] == 1
    assert g.node_stats("ip:1.1.1.1") == (4, 4)
    with pytest.raises(ValueError, match="unknown element kind"):
        AssociationGraph(caps={"nope": 3})


def test_defaults_and_flags_follow_merges():
    g = AssociationGraph()
    g.update(app("e1", "a", device_id="d1"))
    g.update(validate_event(dict(event_type="repayment", event_id="r1", ts=T, customer_id="a", loan_id="L",
                                 installment_no=1, due_date=T.date(), due_fen=1, paid_fen=0, dpd=45)))
    g.flag("dv:d9", "risky")
    f = g.read(app("e2", "b", device_id="d1", phone_token="p", contact_tokens=[]))
    assert f["graph_cluster_defaulted"] == 1 and f["graph_cluster_risky_elements"] == 0
    g.update(app("e3", "b", device_id="d9"))
    g.update(app("e4", "a", phone_token="px", device_id="d9"))
    assert g.cluster("c:b")["defaulted"] == 1 and g.cluster("c:b")["risky"] == 1
    assert g.read(app("e5", "z", device_id="d9"))["graph_element_risky"] is True


@pytest.mark.parametrize("seed", [3, 11])
def test_offline_build_agrees_with_online_replay(seed):
    stream, frame = random_stream(400, seed=seed)
    g = AssociationGraph()
    for ev in stream:
        g.update(ev)
    off = build_graph(frame)
    online = g.component_labels()
    nodes = off.nodes
    assert set(online) == set(nodes["key"].to_list())
    # same partition: canonical label (smallest key) per component must match
    canon = nodes.with_columns(pl.col("key").min().over("component").alias("label"))
    assert dict(zip(canon["key"], canon["label"], strict=True)) == online
    as_of = frame["ts"].max()
    stats = nodes.join(off.clusters, on="component")
    for row in stats.filter(pl.col("is_applicant")).iter_rows(named=True):
        on = g.cluster(row["key"], as_of=as_of)
        assert (on["applicants"], on["elements"], on["apps_7d"], on["defaulted"]) == (
            row["applicants"], row["elements"], row["apps_7d"], row["defaulted"]), row["key"]
        assert g.node_stats(row["key"]) == (row["degree"], row["distinct"])
    big = off.clusters["applicants"].max()
    assert big > 1 and off.clusters.height > 50  # the stream links people but not into a single blob
