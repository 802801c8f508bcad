"""The fraud section of ``fengkong demo``: patterns caught against ground truth, the largest ring."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def stage_fraud(out: Path, console: Any, world: Any = None) -> None:
    """Fraud: patterns caught against ground truth, the largest ring, identity theft stopped (``world``: the
    demo's shared events and features, read and backfilled once)."""
    from rich.text import Text

    from fengkong.fraud.evaluate import evaluate_world, render_table
    from fengkong.fraud.report import demo_text

    wdir = out / "world"
    events = world.events if world is not None else None
    features = world.features if world is not None else None
    console.print(Text(render_table(evaluate_world(wdir, features, events=events))), soft_wrap=True)
    console.print(Text(demo_text(str(wdir), events=events, features=features)), soft_wrap=True)
