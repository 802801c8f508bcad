"""Every file of a simulated world has exactly the event schema, validates cleanly, and labels are planted."""

from __future__ import annotations

import json

import polars as pl
from sim_world_fixtures import small_world, tokenizer  # noqa: F401

from fengkong.events import EVENT_TYPES, PROHIBITED_CATEGORIES, schema_of
from fengkong.events import files as eventio
from fengkong.simulate import PATTERNS


def test_each_event_file_has_exact_schema_and_zero_errors(small_world):  # noqa: F811
    out, manifest, _ = small_world
    for et in EVENT_TYPES:
        path = out / f"{et}.parquet"
        raw = pl.read_parquet(path)
        assert list(raw.schema.items()) == list(schema_of(et).items()), et
        res = eventio.read_events(path)
        assert res.errors == [], (et, res.errors[:3])
        assert res.frame.height == raw.height == manifest["rows"][f"{et}.parquet"] > 0
        assert raw["event_id"].n_unique() == raw.height
        assert raw.equals(raw.sort(["ts", "event_id"])), f"{et} not sorted by ts, event_id"
    world = eventio.read_world(out)
    assert world.height == manifest["events"]
    assert manifest["events"] / manifest["parameters"]["customers"] >= 15


def test_every_pattern_is_planted_and_label_ids_exist(small_world):  # noqa: F811
    out, manifest, _ = small_world
    labels = pl.read_parquet(out / "labels.parquet")
    assert labels.columns == ["pattern", "entity_type", "entity_id", "group_id", "detail"]
    counts = labels.group_by("pattern").len()
    got = dict(counts.iter_rows())
    for p in PATTERNS:
        assert got.get(p, 0) > 0, p
    assert set(got) == set(PATTERNS)
    ids = {et: set(pl.read_parquet(out / f"{et}.parquet")["event_id"].to_list()) for et in EVENT_TYPES}
    loans = set(pl.read_parquet(out / "disbursement.parquet")["loan_id"].to_list())
    customers = set(pl.read_parquet(out / "customer.parquet")["customer_id"].to_list())
    merchants = set(pl.read_parquet(out / "purchase.parquet")["merchant_id"].to_list())
    for et, eid in labels.select("entity_type", "entity_id").iter_rows():
        pool = {"loan": loans, "customer": customers, "merchant": merchants}.get(et) or ids[et]
        assert eid in pool, (et, eid)
    assert manifest["labels"]["identity_theft"]["application"] > 0


def test_outcomes_follow_the_repayment_events(small_world):  # noqa: F811
    out, _, _ = small_world
    oc = pl.read_parquet(out / "outcomes.parquet")
    apps = pl.read_parquet(out / "application.parquet")
    assert oc.height == apps.height and set(oc["application_id"]) == set(apps["event_id"])
    rep = pl.read_parquet(out / "repayment.parquet").with_columns(
        pl.col("loan_id").str.split("-B").list.first().alias("base"))
    worst = rep.group_by("base").agg(pl.col("dpd").max())
    j = oc.join(worst, left_on="loan_id", right_on="base", how="left")
    assert j.filter(pl.col("bad") != (pl.col("dpd").fill_null(0) >= 30)).height == 0
    assert j.filter(pl.col("fpd30") & ~pl.col("bad")).height == 0
    assert oc.filter(pl.col("bad") & ~pl.col("observed")).height == 0  # bad needs 30 days after a due date
    assert 0 < oc["bad"].sum() < oc["observed"].sum()
    # cash loans always disbursed (the learning period approves everything)
    cash = apps.filter(pl.col("product") == "cash_loan")["event_id"]
    dis = pl.read_parquet(out / "disbursement.parquet")
    assert set(dis["application_id"]) == set(cash)


def test_planted_behaviours(small_world):  # noqa: F811
    out, _, cfg = small_world
    labels = pl.read_parquet(out / "labels.parquet")
    apps = pl.read_parquet(out / "application.parquet")
    # identity theft: attacker phone, far IP, never repaid, victim says "not me"
    th = apps.join(labels.filter((pl.col("pattern") == "identity_theft") & (pl.col("entity_type") == "application")),
                   left_on="event_id", right_on="entity_id")
    assert th["phone_name_match"].mean() < 0.5 and (th["ip_province"] != th["province"]).all()
    assert th["form_fill_seconds"].max() < apps["form_fill_seconds"].median()
    comp = pl.read_parquet(out / "complaint.parquet")
    nm = comp.join(labels.filter(pl.col("entity_type") == "complaint"), left_on="event_id", right_on="entity_id")
    victims = nm.filter(pl.col("pattern") == "identity_theft")
    assert victims["claims_not_me"].all() and victims["demands"].list.contains("not_me").all()
    # organised complaints: one rep phone (when given; no rotation by default) and one demand set per agent,
    # mostly via the regulator
    org = nm.filter(pl.col("pattern") == "organised_complaint")
    per = org.group_by("group_id").agg(pl.col("rep_phone_token").drop_nulls().n_unique(), pl.col("demands").n_unique())
    assert (per["rep_phone_token"] == 1).all() and (per["demands"] == 1).all()
    assert (org["channel"] == "regulator_12378").mean() > 0.5
    assert comp.filter(pl.col("rep_phone_token").is_null())["text"].n_unique() > 10  # genuine ones vary
    # rings: 2–3 applications per member, shared devices, back-paid housing fund, money to the agent
    ring = apps.join(labels.filter((pl.col("pattern") == "debt_bearing_ring") & (pl.col("entity_type") == "application")),
                     left_on="event_id", right_on="entity_id")
    per_member = ring.group_by("customer_id").len()["len"]
    assert per_member.min() >= cfg.ring_apps_min and per_member.max() <= cfg.ring_apps_max
    assert (ring["housing_fund_backpaid_months"] > 0).all() and ring["bureau_thin_file"].all()
    dev = ring.group_by("device_id").agg(pl.col("customer_id").n_unique())
    assert dev["customer_id"].max() > 1
    # fund misuse: prohibited categories within 1–30 days of the disbursement
    tr = pl.read_parquet(out / "transfer.parquet")
    dis = pl.read_parquet(out / "disbursement.parquet").select("loan_id", pl.col("ts").alias("dts"))
    fm = tr.join(labels.filter((pl.col("pattern") == "fund_misuse") & (pl.col("entity_type") == "transfer")),
                 left_on="event_id", right_on="entity_id").join(dis, on="loan_id")
    assert fm["counterparty_category"].is_in(list(PROHIBITED_CATEGORIES)).all()
    days = (fm["ts"] - fm["dts"]).dt.total_days()
    assert days.min() >= 0 and days.max() <= 30
    assert fm["counterparty_name"].str.contains("置业|房地产|房产|证券|基金|期货|财富|小额贷款|消费金融|融资担保|数字资产|娱乐|贸易|供应链").all()
    # cash-out: money returned within 24 h at 90–97 % of the purchase
    pu = pl.read_parquet(out / "purchase.parquet")
    co = labels.filter(pl.col("pattern") == "cash_out")
    cp = pu.join(co.filter(pl.col("entity_type") == "purchase"), left_on="event_id", right_on="entity_id")
    back = tr.join(co.filter(pl.col("entity_type") == "transfer"), left_on="event_id", right_on="entity_id")
    assert (back["direction"] == "in").all()
    assert cp.height == back.height
    assert ((cp["amount_fen"] % 100000 == 0) | (cp["amount_fen"] % 100000 >= 99000)).mean() > 0.5
    # names of counterparties are business names, never empty for merchants
    assert tr.filter(pl.col("counterparty_type") == "merchant")["counterparty_name"].null_count() == 0


def test_manifest_is_reproducible_metadata_only(small_world):  # noqa: F811
    out, manifest, cfg = small_world
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(text) == manifest
    assert str(out) not in text and "/tmp" not in text
    assert manifest["seed"] == cfg.seed and manifest["parameters"]["customers"] == 2000
    assert set(manifest["rows"]) == {f"{et}.parquet" for et in EVENT_TYPES} | {"labels.parquet", "outcomes.parquet",
                                                                                 "collectors.parquet"}


def test_fraudsters_use_the_same_formats_as_everyone(small_world):  # noqa: F811
    """Detection must rest on behaviour: labelled rows share every id/amount format with ordinary rows."""
    out, _, _ = small_world
    labels = pl.read_parquet(out / "labels.parquet")
    apps = pl.read_parquet(out / "application.parquet")
    bad_apps = labels.filter(pl.col("entity_type") == "application")["entity_id"].to_list()
    shapes = {"device_id": r"[0-9a-f]{16}", "ip": r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
              "employer_id": r"91[0-9A-F]{16}", "agent_id": r"AG\d{6}", "customer_id": r"C\d{8}",
              "id_token": r"[0-9a-f]{24}", "phone_token": r"[0-9a-f]{24}", "card_token": r"[0-9a-f]{24}"}
    fraud = apps.filter(pl.col("event_id").is_in(bad_apps))
    normal = apps.filter(~pl.col("event_id").is_in(bad_apps))
    for col, rx in shapes.items():
        for part in (fraud, normal):
            vals = part[col].drop_nulls()
            assert vals.len() > 0, col
            assert vals.str.contains(f"^{rx}$").all(), col
    # loan amounts are round thousands for ordinary cash loans as well as for fraud
    cash = normal.filter(pl.col("product") == "cash_loan")
    fcash = fraud.filter(pl.col("product") == "cash_loan")
    assert (cash["amount_fen"] % 100000 == 0).all() and (fcash["amount_fen"] % 100000 == 0).all()
    assert set(fcash["term_months"].unique()) <= set(cash["term_months"].unique())
    # individual counterparties: one account format for mules, ring agents and ordinary payees
    tr = pl.read_parquet(out / "transfer.parquet").filter(pl.col("counterparty_type") == "individual")
    assert tr["counterparty_id"].str.contains(r"^A\d{11}$").all()
    # ordinary data also has the "suspicious-looking" values, so no single flag is a label
    assert (normal["agent_id"].is_not_null()).any() and normal["doc_statement_edited"].any()
    assert (normal["housing_fund_backpaid_months"] > 0).any() and (normal["phone_tenure_months"] == 0).any()
    tin = pl.read_parquet(out / "transfer.parquet").filter(pl.col("direction") == "in")
    co_back = labels.filter((pl.col("pattern") == "cash_out")
                            & (pl.col("entity_type") == "transfer"))["entity_id"].to_list()
    assert tin.filter(~pl.col("event_id").is_in(co_back)).height > tin.filter(pl.col("event_id").is_in(co_back)).height


def test_entrusted_contracts_state_the_payee_paid(small_world):  # noqa: F811
    from fengkong.postloan.payee import normalise_name

    out, _, _ = small_world
    d = pl.read_parquet(out / "disbursement.parquet")
    mm = set(pl.read_parquet(out / "labels.parquet").filter(pl.col("pattern") == "payee_mismatch")["entity_id"])
    e = d.filter(pl.col("payment_mode") == "entrusted")
    s = d.filter(pl.col("payment_mode") == "self")
    assert s.select("payee_name", "contract_payee_name", "contract_merchant_id").null_count().row(0) == (s.height,) * 3
    assert e["contract_payee_name"].null_count() == 0 and e["contract_merchant_id"].null_count() == 0
    worded = 0
    for r in e.iter_rows(named=True):
        same = (normalise_name(r["payee_name"]) == normalise_name(r["contract_payee_name"])
                and r["payee_merchant_id"] == r["contract_merchant_id"])
        assert same is (r["loan_id"] not in mm), r["loan_id"]  # names in other wording still match
        worded += r["loan_id"] not in mm and r["payee_name"] != r["contract_payee_name"]
    assert worded > 0 and len(mm) > 0
