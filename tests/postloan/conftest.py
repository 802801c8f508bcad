"""Fixtures of the post-loan tests."""

from __future__ import annotations

import pytest
from pl_worlds import make_world


@pytest.fixture(scope="session")
def pl_world(tmp_path_factory):
    """A 3 000-customer world where half the misused loans move the money through two own accounts."""
    return make_world(tmp_path_factory.mktemp("plworld"), fund_misuse_routed_share=0.5, fund_misuse_hops=3)
