"""The fraud pack is a registered feature provider: its graph features reach `fengkong decide` and the graph
persists across CLI invocations beside a SQLite feature state (idempotent by event_id)."""

import datetime as dt
import json

from typer.testing import CliRunner

from fengkong import cli
from fengkong.events import TZ
from fengkong.features.providers import ProviderContext, combined_kinds, provider_modules

APP = {"event_type": "application", "ts": "2026-02-01T10:00:00+08:00", "id_token": "tok_id_A",
       "phone_token": "tok_ph_A", "device_id": "dev-shared", "product": "cash_loan", "amount_fen": 500_000,
       "term_months": 12, "declared_income_fen": 1_200_000, "bureau_score": 700}


def _ev(eid, cid, **kw):
    return dict(APP, event_id=eid, customer_id=cid, **kw)


def test_registered_and_kinds():
    import fengkong.fraud.provider as fp

    assert fp in provider_modules()
    kinds = combined_kinds()
    for k in ("graph_cluster_applicants", "graph_cluster_apps_7d", "graph_device_new_to_applicant",
              "idt_core_count", "fr_packaged_docs"):
        assert k in kinds


def test_graph_persists_across_opens_and_is_idempotent(tmp_path):
    from fengkong.events import validate_event
    from fengkong.fraud.provider import graph_log_path, open_online

    ctx = ProviderContext(state=str(tmp_path / "state.db"))
    f = open_online(ctx)
    assert f.read_update(validate_event(_ev("A1", "C1")))["graph_device_identities"] == 0
    f.close()
    f = open_online(ctx)  # a new process: the graph is replayed from the log
    assert f.graph.n_applicants == 1
    f.read_update(validate_event(_ev("A1", "C1")))  # re-delivery changes nothing
    out = f.read_update(validate_event(_ev("B1", "C2", id_token="tok_id_B", phone_token="tok_ph_B",
                                            ts=dt.datetime(2026, 2, 2, 9, tzinfo=TZ).isoformat())))
    assert out["graph_device_identities"] == 1 and out["graph_cluster_applicants"] == 2
    assert out["graph_cluster_apps_7d"] == 1
    f.close()
    import sqlite3

    n = sqlite3.connect(graph_log_path(ctx.state)).execute("SELECT count(*) FROM graph_event").fetchone()[0]
    assert n == 2
    mem = open_online(ProviderContext(state="memory"))
    assert mem.graph.n_applicants == 0 and graph_log_path("memory") is None


def test_own_appends_are_not_read_back_but_another_writers_are(tmp_path):
    from fengkong.events import validate_event
    from fengkong.fraud.provider import open_online

    ctx = ProviderContext(state=str(tmp_path / "state.db"))
    a, b = open_online(ctx), open_online(ctx)
    a.read_update(validate_event(_ev("A1", "C1")))
    assert a.log.catch_up(a.graph) == 0  # its own event was applied directly, not replayed from the file
    out = b.read_update(validate_event(_ev("B1", "C2", id_token="tok_id_B", phone_token="tok_ph_B",
                                            ts=dt.datetime(2026, 2, 2, 9, tzinfo=TZ).isoformat())))
    assert out["graph_device_identities"] == 1  # b caught up with a's link before reading
    assert a.log.catch_up(a.graph) == 1 and a.graph.n_applicants == 2
    a.close()
    b.close()


def test_graph_batch_commits_together_and_an_error_rebuilds_the_graph_from_the_log(tmp_path):
    import sqlite3

    import pytest

    from fengkong.events import validate_event
    from fengkong.fraud.provider import graph_log_path, open_online

    ctx = ProviderContext(state=str(tmp_path / "state.db"))
    f = open_online(ctx)
    f.read_update(validate_event(_ev("A1", "C1")))
    with f.batch():
        f.read_update(validate_event(_ev("A2", "C2", id_token="tok_id_2", phone_token="tok_ph_2")))
        other = sqlite3.connect(graph_log_path(ctx.state))
        assert other.execute("SELECT count(*) FROM graph_event").fetchone()[0] == 1  # not durable yet
        other.close()
    assert f.graph.n_applicants == 2
    with pytest.raises(RuntimeError), f.batch():
        f.read_update(validate_event(_ev("A3", "C3", id_token="tok_id_3", phone_token="tok_ph_3")))
        raise RuntimeError("the group failed before its commit")
    assert f.graph.n_applicants == 2  # A3 is neither logged nor in the graph
    out = f.read_update(validate_event(_ev("B1", "C4", id_token="tok_id_B", phone_token="tok_ph_B")))
    assert out["graph_device_identities"] == 2
    f.close()
    n = sqlite3.connect(graph_log_path(ctx.state)).execute("SELECT count(*) FROM graph_event").fetchone()[0]
    assert n == 3


def test_graph_features_reach_fengkong_decide(tmp_path):
    cli._register_all()
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'store.db'}"
    state = str(tmp_path / "state.db")
    from fengkong.strategies import __path__ as sdir

    outs = []
    for eid, cid, tok in (("D1", "C1", "tok_id_1"), ("D2", "C2", "tok_id_2")):  # two separate invocations
        p = tmp_path / f"{eid}.json"
        p.write_text(json.dumps(_ev(eid, cid, id_token=tok)))
        r = runner.invoke(cli.app, ["decide", str(p), "--db", store, "--state", state, "--json",
                                    "--strategy", f"{sdir[0]}/application.yaml"])
        assert r.exit_code == 0, r.output
        outs.append(json.loads(r.output.strip().splitlines()[-1]))
    assert outs[0]["features"]["graph_device_identities"] == 0
    assert outs[1]["features"]["graph_device_identities"] == 1
    # the second process sees the first one's application through the persisted graph (device shared once:
    # no burst, no bad element — one other applicant on a device is not unusual)
    assert outs[1]["features"]["graph_burst_multi_peers"] == 0 and outs[1]["features"]["graph_bad_elements"] == 0
    assert "tok_id_1" not in json.dumps(outs[1]["features"])


def test_a_log_row_written_as_json_text_by_an_older_version_is_replayed(tmp_path):
    import sqlite3

    from fengkong.events import validate_event
    from fengkong.fraud.provider import GRAPH_FIELDS, graph_log_path, open_online

    ctx = ProviderContext(state=str(tmp_path / "state.db"))
    open_online(ctx).close()  # creates the log file
    old = validate_event(_ev("A1", "C1"))
    payload = {k: v for k, v in old.items() if k in GRAPH_FIELDS and v is not None}
    payload["ts"] = old["ts"].isoformat()
    with sqlite3.connect(graph_log_path(ctx.state)) as db:  # the row as earlier versions wrote it
        db.execute("INSERT INTO graph_event (event_id, payload) VALUES (?, ?)",
                   ("A1", json.dumps(payload, ensure_ascii=False, default=str)))
    f = open_online(ctx)
    assert f.graph.n_applicants == 1
    f.read_update(validate_event(_ev("B1", "C2", id_token="tok_id_B", phone_token="tok_ph_B")))
    f.close()
    g = open_online(ctx)  # both rows (old text, new) replay to the same graph
    out = g.read(validate_event(_ev("C1", "C3", id_token="tok_id_C", phone_token="tok_ph_C")))
    assert g.graph.n_applicants == 2 and out["graph_device_identities"] == 2
    rows = sqlite3.connect(graph_log_path(ctx.state)).execute("SELECT typeof(payload) FROM graph_event").fetchall()
    assert rows == [("text",), ("text",)]
    g.close()
