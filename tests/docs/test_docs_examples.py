"""Every shell and Python example in docs/*.md runs as written and prints what the page says."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from .runner import blocks, printed_matches, run_page

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# pages whose examples need a live server run in their own test with it
OWN_RUNNER = {"service.md": "tests/service/test_docs.py"}
PAGES = sorted(p.name for p in DOCS.glob("*.md") if p.name not in OWN_RUNNER)


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_page_examples(name, tmp_path, monkeypatch):
    monkeypatch.setenv("FENGKONG_PII_KEY", secrets.token_hex(32))
    for d in ("src", "docs", "benchmarks"):
        (tmp_path / d).symlink_to(ROOT / d)
    ran, _ = run_page(DOCS / name, tmp_path)
    assert ran or not blocks((DOCS / name).read_text(encoding="utf-8"))


def test_own_runners_exist():
    for page, runner in OWN_RUNNER.items():
        assert (DOCS / page).exists() and (ROOT / runner).exists()


def test_the_comparison_can_fail():
    assert printed_matches("60 int\n", "60 int (app_cnt_ip_1h is in both, identical)")
    assert not printed_matches("62 int\n", "60 int (app_cnt_ip_1h is in both, identical)")
    assert printed_matches("(127783, 60)", "(127783, 60)")
    assert not printed_matches("(127783, 60)", "(127783, 58)")
    assert printed_matches("shape: (5, 3) …", "shape: …")
