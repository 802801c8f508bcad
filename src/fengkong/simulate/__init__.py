"""The synthetic credit world: a seeded 花呗-like business with planted fraud/abuse patterns and ground truth.

``simulate_world(out_dir, SimConfig(...))`` writes every event type, outcomes, labels and a manifest.
"""

from fengkong.simulate.config import SimConfig, SimConfigError
from fengkong.simulate.world import PATTERNS, plaintext_identities, simulate_world

__all__ = ["PATTERNS", "SimConfig", "SimConfigError", "plaintext_identities", "simulate_world"]
