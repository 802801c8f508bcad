"""Small simulated worlds for the post-loan tests (``make_world``; the ``pl_world`` fixture is in conftest)."""

from __future__ import annotations

from fengkong.events import pii
from fengkong.simulate import SimConfig, simulate_world

KEY = b"postloan-test-key-0123456789abcdef"


def make_world(path, **params):
    """A 3-month world of ``customers`` (default 3 000) with a seed these tests own."""
    cfg = SimConfig(**{"customers": 3000, "months": 3, "seed": 4242, **params})
    simulate_world(path, cfg, tokenizer=pii.Tokenizer(KEY))
    return path
