"""The use taxonomy: evidence order, look-alike guards, unknown reported, scalar = vectorised, bad files."""

from __future__ import annotations

import polars as pl
import pytest

from fengkong.postloan.taxonomy import TaxonomyError, load_taxonomy

CASES = [
    # (type, category, name, expected)
    ("own_account", None, None, "OWN_ACCOUNT"),
    ("individual", "person", None, "PERSON"),
    ("cash", "cash_withdrawal", None, "CASH"),
    ("company", None, "深圳万科置业有限公司", "HOUSING"),
    ("company", None, "某市商品房预售资金监管账户", "HOUSING"),
    ("financial", None, "华泰证券股份有限公司营业部", "SECURITIES"),
    ("financial", None, "永安期货经纪有限公司", "FUTURES"),
    ("financial", None, "中信信托有限责任公司", "FUNDS_WEALTH"),
    ("financial", None, "红杉股权投资合伙企业", "EQUITY_INVEST"),
    ("financial", None, "某某网络小额贷款有限公司", "DEBT_REPAYMENT"),
    ("financial", None, "招商银行信用卡中心", "DEBT_REPAYMENT"),
    ("merchant", "public_service", "成都恒信物业服务有限公司", "CONSUMPTION"),  # 物业 is not 置业
    ("merchant", "furniture", "北京宜家家居有限公司", "CONSUMPTION"),
    ("company", None, "中国扶贫基金会", "CONSUMPTION"),  # a foundation, not a fund
    ("merchant", "real_estate", "某某物业服务有限公司", "HOUSING"),  # a prohibited category wins over a guard
    ("merchant", "securities", None, "SECURITIES"),
    ("financial", None, None, "UNKNOWN"),
    ("company", None, "某某科技有限公司", "UNKNOWN"),
    (None, None, None, "UNKNOWN"),
]


def test_classes_and_vectorised_twin():
    tax = load_taxonomy()
    for t, c, n, want in CASES:
        assert tax.classify(t, c, n) == want, (t, c, n)
    f = pl.DataFrame([{"counterparty_type": t, "counterparty_category": c, "counterparty_name": n} for t, c, n, _ in CASES],
                     schema={"counterparty_type": pl.Utf8, "counterparty_category": pl.Utf8, "counterparty_name": pl.Utf8})
    assert tax.classify_frame(f)["use_class"].to_list() == [w for *_, w in CASES]
    # missing columns count as missing
    only_type = tax.classify_frame(pl.DataFrame({"counterparty_type": ["individual", "financial"]}))
    assert only_type["use_class"].to_list() == ["PERSON", "UNKNOWN"] and only_type.columns == ["counterparty_type", "use_class"]


def test_account_type_evidence():
    tax = load_taxonomy()
    assert tax.classify("financial", None, None, "securities_settlement") == "SECURITIES"
    assert tax.classify("company", "furniture", "某家具店", "property_escrow") == "HOUSING"


def test_versioned_and_bad_files_named(tmp_path):
    tax = load_taxonomy()
    assert tax.ref.startswith("fengkong_use_taxonomy@") and "HOUSING" in tax.prohibited and "UNKNOWN" not in tax.prohibited
    bad = tmp_path / "t.yaml"
    bad.write_text("name: x\nversion: '1'\nclasses: {UNKNOWN: {prohibited: false}}\nkeywords:\n"
                   "  - {class: NOPE, any: [a]}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"keywords\[0\]"):
        load_taxonomy(bad)
    bad.write_text("name: x\nversion: '1'\nclasses: {UNKNOWN: {prohibited: false}}\nkeywords: []\n"
                   "merchant_category: {real_estate: HOUSE}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"merchant_category\.real_estate"):
        load_taxonomy(bad)
