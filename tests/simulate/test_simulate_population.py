"""The ``hard`` population: households, large employers, migrants, landlords, back book and look-alikes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from fengkong.events import TZ, pii
from fengkong.simulate import SimConfig, SimConfigError, simulate_world
from fengkong.simulate import structure as S
from fengkong.simulate.state import draw_people

KEY = pii.Tokenizer(b"population-test-key-0123456789abcd")


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    cfg = SimConfig.population("hard", customers=3000, seed=23)
    out = tmp_path_factory.mktemp("hard")
    return out, simulate_world(out, cfg, tokenizer=KEY), cfg


def test_default_preset_is_the_default_config_and_structure_is_off():
    assert SimConfig.population("default") == SimConfig()
    assert not S.active(SimConfig())
    _, people, _ = draw_people(SimConfig(customers=500, seed=3))
    assert people.structure is None
    with pytest.raises(SimConfigError, match="population"):
        SimConfig.population("nope")
    with pytest.raises(SimConfigError, match="back_book_months"):
        SimConfig(months=5, back_book_months=3).validate()


def test_households_share_home_and_contacts(hard):
    out, _, _ = hard
    apps = pl.read_parquet(out / "application.parquet")
    # distinct customers per home IP: households put 2+ customers behind one IP
    per_ip = apps.group_by("ip").agg(pl.col("customer_id").n_unique().alias("k"))
    assert per_ip.filter(pl.col("k") >= 2).height >= 200
    # members list each other: a customer's own phone appears among another customer's contacts
    own = apps.select("customer_id", "phone_token").unique()
    listed = apps.select("customer_id", pl.col("contact_tokens").alias("ct")).explode("ct")
    cross = listed.join(own, left_on="ct", right_on="phone_token", suffix="_o").filter(
        pl.col("customer_id") != pl.col("customer_id_o")
    )
    assert cross["customer_id"].n_unique() >= 0.3 * apps["customer_id"].n_unique()


def test_large_employers_landlords_and_family_payees(hard):
    out, _, _ = hard
    apps = pl.read_parquet(out / "application.parquet")
    staff = (
        apps.group_by("employer_id")
        .agg(pl.col("customer_id").n_unique().alias("k"))
        .sort("k", descending=True)
    )
    assert staff["k"][1] >= 150  # several employers with hundreds of staff among 3 000 customers
    tr = pl.read_parquet(out / "transfer.parquet").filter(
        (pl.col("direction") == "out") & (pl.col("counterparty_type") == "individual")
    )
    payers = tr.group_by("counterparty_id").agg(pl.col("customer_id").n_unique().alias("k"))
    assert payers.filter(pl.col("k") >= 15).height >= 10  # landlords paid by many tenants


def test_migrants_keep_the_id_region(hard):
    _, _, cfg = hard
    _, people, _ = draw_people(cfg)
    base = dataclasses.replace(cfg, migrant_share=0.0)
    _, p0, _ = draw_people(base)
    moved = people.region != p0.region
    assert 0.15 < moved.mean() < 0.6
    assert people.pii["id"] == p0.pii["id"]  # the ID numbers (region of birth) did not move


def test_back_book_holds_no_planted_pattern_and_lookalikes_are_labelled_good(hard):
    out, manifest, _ = hard
    labels = pl.read_parquet(out / "labels.parquet")
    apps = pl.read_parquet(out / "application.parquet")
    bb_end = dt.datetime(2026, 9, 1, tzinfo=TZ)  # 2026-01-01 + 8 months
    planted = labels.filter(
        pl.col("pattern").is_in(["debt_bearing_ring", "identity_theft"])
        & (pl.col("entity_type") == "application")
    )
    first = apps.join(planted, left_on="event_id", right_on="entity_id")["ts"].min()
    assert first >= bb_end
    assert apps.filter(pl.col("ts") < bb_end).height > 0.5 * apps.height  # ordinary business in the back book
    hn = labels.filter(pl.col("pattern") == "hard_negative")
    assert set(hn["entity_type"]) == {"customer"}
    assert {"ring_employer", "ring_contact", "phone_changed", "new_card", "income_overstated"} <= set(
        hn["detail"]
    )
    # a look-alike sharing a ring's employer declares the same employer as ring members
    ring = labels.filter((pl.col("pattern") == "debt_bearing_ring") & (pl.col("entity_type") == "customer"))
    ring_emp = set(
        apps.filter(pl.col("customer_id").is_in(ring["entity_id"].implode()))["employer_id"].drop_nulls()
    )
    la = hn.filter(pl.col("detail") == "ring_employer")["entity_id"]
    la_emp = set(apps.filter(pl.col("customer_id").is_in(la.implode()))["employer_id"].drop_nulls())
    assert la_emp & ring_emp
    # changed phones: the same customer applies with two phones
    ch = hn.filter(pl.col("detail") == "phone_changed")["entity_id"]
    two = (
        apps.filter(pl.col("customer_id").is_in(ch.implode()))
        .group_by("customer_id")
        .agg(pl.col("phone_token").n_unique().alias("k"))
    )
    assert (two["k"] >= 2).all() and two.height >= 10
    assert manifest["parameters"]["back_book_months"] == 8


def test_multi_head_borrowers_show_other_lenders_in_their_account(hard):
    out, _, _ = hard
    labels = pl.read_parquet(out / "labels.parquet")
    mh = labels.filter((pl.col("pattern") == "multi_head") & (pl.col("entity_type") == "customer"))[
        "entity_id"
    ]
    tr = pl.read_parquet(out / "transfer.parquet").filter(pl.col("counterparty_category") == "lender")
    lenders_in = (
        tr.filter(pl.col("direction") == "in")
        .group_by("customer_id")
        .agg(pl.col("counterparty_id").n_unique().alias("k"))
    )
    got = lenders_in.filter(pl.col("customer_id").is_in(mh.implode()))
    assert got.height >= 0.9 * len(mh) and (got["k"] >= 2).mean() > 0.9
    assert lenders_in.filter(~pl.col("customer_id").is_in(mh.implode())).height == 0
    # card repayers (good): one lender, every month
    rep = tr.filter((pl.col("direction") == "out") & ~pl.col("customer_id").is_in(mh.implode()))
    per = rep.group_by("customer_id").agg(
        pl.col("counterparty_id").n_unique().alias("k"), pl.len().alias("n")
    )
    assert per.height >= 300 and (per["k"] == 1).all() and per["n"].median() >= 5
