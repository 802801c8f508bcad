"""Beside a SQLite feature state the complaints and collections providers log what they fold: a new process
rebuilds the state, two processes sharing the file converge, a re-delivered event is folded once."""

from __future__ import annotations

import datetime as dt

from fengkong.collections.provider import open_online as open_collections
from fengkong.complaints.provider import open_online as open_complaints
from fengkong.events import TZ
from fengkong.features.providers import ProviderContext

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
TEXT = ("本人因突发重大疾病住院治疗，目前无力偿还贵司贷款，贵司催收人员频繁电话骚扰本人及通讯录联系人，严重影响本人及家人"
        "正常生活。现依据相关规定，要求贵司立即停止催收，减免全部罚息和违约金，并将剩余本金分60期偿还。")


def _complaint(i: int, **kw) -> dict:
    return {"event_id": f"CP{i}", "event_type": "complaint", "ts": T0 + dt.timedelta(hours=i),
            "customer_id": f"C{i}", "loan_id": f"L{i}", "channel": "app", "text": TEXT, **kw}


def test_complaint_state_survives_a_restart_and_is_shared(tmp_path):
    ctx = ProviderContext(state=str(tmp_path / "state.db"))
    a = open_complaints(ctx)
    a.read_update(_complaint(0))
    a.read_update(_complaint(1))
    a.read_update(_complaint(1))  # re-delivery
    b = open_complaints(ctx)  # another process (or a restart): rebuilt from the log
    assert b.read_update(_complaint(2))["cp_text_dup_customers"] == 2
    assert a.read(_complaint(3))["cp_text_dup_customers"] == 3  # a catches up with b's complaint
    assert a.read(_complaint(3))["cp_group"] == "CP0"
    mem = open_complaints(ProviderContext())
    assert mem.read(_complaint(3))["cp_text_dup_customers"] == 0
    for x in (a, b, mem):
        x.close()


def test_not_me_freeze_is_seen_by_another_process(tmp_path):
    ctx = ProviderContext(state=str(tmp_path / "state.db"))
    a, b = open_collections(ctx), open_collections(ctx)
    a.read_update(_complaint(0, claims_not_me=True))
    contact = {"event_id": "CC1", "event_type": "collection_contact", "ts": T0 + dt.timedelta(days=1),
               "customer_id": "C0", "loan_id": "L0", "channel": "call", "target": "debtor", "collector_id": "K1"}
    assert "LOAN_FROZEN" in b.read(contact)["cc_breaches"]
    assert "LOAN_FROZEN" in open_collections(ctx).read(contact)["cc_breaches"]
    a.close()
    b.close()
