"""Pattern parameters change the world as documented; bad parameters are rejected naming the parameter."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from typer.testing import CliRunner

from fengkong.events import pii
from fengkong.simulate import SimConfig, SimConfigError, simulate_world

KEY = pii.Tokenizer(b"params-test-key-0123456789abcdefgh")


def _world(tmp_path, name, **kw):
    cfg = SimConfig(customers=2000, months=3, seed=5, **kw)
    out = tmp_path / name
    return out, simulate_world(out, cfg, tokenizer=KEY)


def _ring_apps(out):
    labels = pl.read_parquet(out / "labels.parquet").filter(
        (pl.col("pattern") == "debt_bearing_ring") & (pl.col("entity_type") == "application"))
    return pl.read_parquet(out / "application.parquet").join(labels, left_on="event_id", right_on="entity_id")


def test_ring_size_range_and_agent_code_share(tmp_path):
    out, _ = _world(tmp_path, "a", ring_size_min=8, ring_size_max=10, ring_agent_code_share=0.0,
                    ring_apps_min=3, ring_apps_max=3, ring_member_share=0.05)
    ring = _ring_apps(out)
    sizes = ring.group_by("group_id").agg(pl.col("customer_id").n_unique())["customer_id"]
    assert sizes.min() >= 8 and sizes.max() <= 10 and len(sizes) >= 2
    assert ring["agent_id"].null_count() == ring.height  # no ring carries the agent's code
    assert (ring.group_by("customer_id").len()["len"] == 3).all()
    out2, _ = _world(tmp_path, "b", ring_agent_code_share=1.0, ring_forged_share=1.0, ring_device_share=0.0)
    ring2 = _ring_apps(out2)
    assert ring2["agent_id"].null_count() == 0
    per_ring = ring2.group_by("group_id").agg(pl.col("agent_id").n_unique())
    assert (per_ring["agent_id"] == 1).all()
    assert ring2["doc_statement_edited"].all()


def test_attacker_device_reuse_switch(tmp_path):
    def theft_devices(out):
        labels = pl.read_parquet(out / "labels.parquet").filter(
            (pl.col("pattern") == "identity_theft") & (pl.col("entity_type") == "application"))
        apps = pl.read_parquet(out / "application.parquet").join(labels, left_on="event_id",
                                                                  right_on="entity_id")
        return apps.group_by("device_id").agg(pl.col("id_token").n_unique())["id_token"]
    out, _ = _world(tmp_path, "reuse", attacker_device_reuse=True, theft_rate=0.01)
    assert theft_devices(out).max() > 1
    out, _ = _world(tmp_path, "fresh", attacker_device_reuse=False, theft_rate=0.01)
    assert theft_devices(out).max() == 1


def test_rates_move_counts(tmp_path):
    _, lo = _world(tmp_path, "lo", theft_rate=0.002, fund_misuse_share=0.02, cash_out_merchants=2)
    _, hi = _world(tmp_path, "hi", theft_rate=0.02, fund_misuse_share=0.3, cash_out_merchants=7)
    assert hi["labels"]["identity_theft"]["application"] > 3 * lo["labels"]["identity_theft"]["application"]
    assert hi["labels"]["fund_misuse"]["loan"] > 3 * lo["labels"]["fund_misuse"]["loan"]
    assert lo["labels"]["cash_out_merchant"]["merchant"] <= 2 < hi["labels"]["cash_out_merchant"]["merchant"]


@pytest.mark.parametrize(("kw", "param"), [
    ({"customers": 10}, "customers"),
    ({"months": 1}, "months"),
    ({"ring_size_min": 20, "ring_size_max": 10}, "ring_size_min"),
    ({"ring_agent_code_share": 1.5}, "ring_agent_code_share"),
    ({"theft_rate": -0.1}, "theft_rate"),
    ({"cash_out_merchants": 0}, "cash_out_merchants"),
    ({"purchases_per_month": 0}, "purchases_per_month"),
    ({"attacker_device_reuse": "yes"}, "attacker_device_reuse"),
    ({"splitting_payments_min": 2}, "splitting_payments_min"),
    ({"splitting_payments_min": 6, "splitting_payments_max": 4}, "splitting_payments_min"),
    ({"splitting_gap_hours_max": 100, "splitting_days": 3}, "splitting_days"),
])
def test_bad_parameters_are_rejected_by_name(kw, param, tmp_path):
    with pytest.raises(SimConfigError) as exc:
        simulate_world(tmp_path / "x", dataclasses.replace(SimConfig(), **kw), tokenizer=KEY)
    assert exc.value.param == param and f"'{param}'" in str(exc.value)
    assert not (tmp_path / "x").exists()


def test_cli_writes_a_world_and_rejects_bad_parameters(tmp_path):
    import json

    from fengkong.cli import _register_all, app

    _register_all()
    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(app, ["simulate", "--customers", "1000", "--seed", "3", "--out", str(out), "--json",
                              "--ring-size-max", "12", "--param", "genuine_complaint_rate=0.01"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(res.stdout.strip().splitlines()[-1])
    assert manifest["parameters"]["ring_size_max"] == 12 and manifest["parameters"]["genuine_complaint_rate"] == 0.01
    assert (out / "manifest.json").exists()
    bad = runner.invoke(app, ["simulate", "--customers", "1000", "--out", str(tmp_path / "bad"),
                              "--ring-forged-share", "2"])
    assert bad.exit_code == 2 and "ring_forged_share" in bad.output
    bad = runner.invoke(app, ["simulate", "--out", str(tmp_path / "bad"), "--param", "no_such=1"])
    assert bad.exit_code == 2 and "no_such" in bad.output
