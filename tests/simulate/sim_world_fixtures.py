"""Shared small worlds for the simulate tests (2 000 customers); import the fixtures into a test module."""

from __future__ import annotations

import pytest

from fengkong.events import pii
from fengkong.simulate import SimConfig, simulate_world

KEY = b"simulate-test-key-0123456789abcdef"


@pytest.fixture(scope="session")
def tokenizer() -> pii.Tokenizer:
    return pii.Tokenizer(KEY)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory, tokenizer):
    """(directory, manifest, config) of a 2 000-customer, 3-month world."""
    cfg = SimConfig(customers=2000, months=3, seed=11)
    out = tmp_path_factory.mktemp("world")
    manifest = simulate_world(out, cfg, tokenizer=tokenizer)
    return out, manifest, cfg
