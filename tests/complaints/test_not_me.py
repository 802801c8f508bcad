"""The "not me" path: frozen in the same event, 0 contacts allowed afterwards, case open → resolved, audited."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fengkong.collections.policy import Registry
from fengkong.collections.provider import STRATEGY as CONTACT_STRATEGY
from fengkong.collections.provider import CollectionFeatures
from fengkong.engine import Engine
from fengkong.events import TZ
from fengkong.features.providers import CombinedFeatures, combined_kinds
from fengkong.strategy.compiled import load_strategy

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


def _contact(i: int, ts: dt.datetime, loan: str = "LN1", **kw) -> dict:
    return {"event_id": f"CC{i}", "event_type": "collection_contact", "ts": ts, "customer_id": "C1",
            "loan_id": loan, "channel": "call", "target": "debtor", "collector_id": "IN-001",
            "caller_number_token": "tokA", "target_token": "tokD", **kw}


def _engine() -> tuple[Engine, CollectionFeatures]:
    reg = Registry()
    reg.register("IN-001", ["tokA"])
    cf = CollectionFeatures(reg)
    kinds = combined_kinds()
    feats = CombinedFeatures(None, [cf], kinds)
    return Engine(features=feats, strategy=load_strategy(CONTACT_STRATEGY, features=kinds)), cf


def test_not_me_freezes_in_the_same_event_and_no_contact_is_allowed_afterwards():
    eng, cf = _engine()
    assert eng.decide(_contact(0, T0)).outcome == "allow"
    # the complaint is folded into the same feature state the contact strategy reads
    cf.read_update({"event_id": "CP1", "event_type": "complaint", "ts": T0 + dt.timedelta(hours=3),
                    "customer_id": "C1", "loan_id": "LN1", "claims_not_me": True, "channel": "app", "text": "不是我"})
    assert "LN1" in cf.policy.frozen
    outs = [eng.decide(_contact(i, T0 + dt.timedelta(days=i, hours=1), channel=ch))
            for i, ch in zip(range(1, 40), ["call", "sms", "app_push", "letter", "visit"] * 8, strict=False)]
    assert {d.outcome for d in outs} == {"reject"}
    assert all("LOAN_FROZEN" in d.reason_codes for d in outs)
    # another loan of the same debtor is not frozen
    assert eng.decide(_contact(99, T0 + dt.timedelta(days=60, hours=1), loan="LN2")).outcome == "allow"


@pytest.fixture()
def store(tmp_path):
    from fengkong.store import open_store

    st = open_store(f"sqlite:///{tmp_path / 'fk.db'}")
    yield st
    st.close()


def _world_events() -> pl.DataFrame:
    from fengkong.events import to_union

    app = pl.DataFrame([
        {"event_id": "AP0", "event_type": "application", "ts": T0 - dt.timedelta(days=200), "customer_id": "C1",
         "id_token": "idV", "phone_token": "phV", "device_id": "devV", "province": "四川", "product": "cash_loan",
         "amount_fen": 100000, "term_months": 12},
        {"event_id": "AP1", "event_type": "application", "ts": T0 - dt.timedelta(days=40), "customer_id": "C1",
         "id_token": "idV", "phone_token": "phX", "device_id": "devX", "province": "四川", "product": "cash_loan",
         "amount_fen": 900000, "term_months": 12},
    ]).with_columns(pl.col("ts").dt.convert_time_zone("Asia/Shanghai"))
    dis = pl.DataFrame([{"event_id": "DS1", "event_type": "disbursement", "ts": T0 - dt.timedelta(days=39),
                         "customer_id": "C1", "loan_id": "LN1", "application_id": "AP1", "amount_fen": 900000,
                         "term_months": 12, "payment_mode": "self", "card_token": "accX"}]).with_columns(
        pl.col("ts").dt.convert_time_zone("Asia/Shanghai"))
    return pl.concat([to_union(app), to_union(dis)])


def test_not_me_case_open_to_resolved_audited(store, tmp_path):
    from fengkong.complaints.notme import open_not_me, resolve_not_me
    from fengkong.fraud.locks import IdentityLocks

    locks = IdentityLocks(tmp_path / "fraud.sqlite", lists=store.lists)
    ev = _world_events()
    r = open_not_me(store, locks, ev, loan_ids=["LN1"], customer_id="C1", ref="CP1", at=T0)
    snap = store.lists.snapshot()
    assert "LN1" in snap["collection_freeze"] and "accX" in snap["risky_account"]
    assert "devX" in snap["risky_device"] and "devV" not in snap.get("risky_device", ())
    assert locks.is_locked("idV")
    diff = r["applications"][0]["differs_from_history"]
    assert diff["device_id_new"] is True and diff["phone_token_new"] is True and diff["province_new"] is False
    # idempotent on the claim
    assert open_not_me(store, locks, ev, loan_ids=["LN1"], customer_id="C1", ref="CP1", at=T0)["case_id"] == r["case_id"]
    # the contact strategy refuses on the store list too (a process that never saw the complaint)
    eng, _ = _engine()
    eng.set_lists(store.lists.snapshot())
    assert eng.decide(_contact(5, T0 + dt.timedelta(days=1))).reason_codes[:1] == ["LOAN_FROZEN"]
    out = resolve_not_me(store, locks, r["case_id"], "reviewer1", confirmed=True, note="device never seen")
    assert out["loss_category"] == "fraud_loss" and out["credit_report_correction"]["deadline"] == "2026-03-22"
    c = store.cases.get(r["case_id"])
    assert c.status == "closed" and c.decision == "confirm_fraud" and c.queue == "identity"
    acts = [e["action"] for e in store.admin.entries(limit=20)]
    assert {"not_me.freeze", "not_me.opened", "not_me.confirmed"} <= set(acts)
    assert store.admin.verify().ok


def test_not_me_rejected_resumes_collection(store, tmp_path):
    from fengkong.collections.policy import ContactState
    from fengkong.complaints.notme import NotMeError, open_not_me, resolve_not_me
    from fengkong.fraud.locks import IdentityLocks

    locks = IdentityLocks(tmp_path / "fraud.sqlite", lists=store.lists)
    ev = _world_events()
    with pytest.raises(NotMeError, match="loan_ids"):
        open_not_me(store, locks, ev, loan_ids=[], customer_id="C1", ref="X")
    r = open_not_me(store, locks, ev, loan_ids=["LN1"], customer_id="C1", ref="CP2", at=T0)
    online = ContactState(frozen=["LN1"])
    resolve_not_me(store, locks, r["case_id"], "reviewer1", confirmed=False, note="customer's own device",
                   collection=online)
    assert "LN1" not in store.lists.snapshot().get("collection_freeze", ())
    assert "LN1" not in online.frozen and not locks.is_locked("idV")
    assert store.cases.get(r["case_id"]).decision == "false_positive"
