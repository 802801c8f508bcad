"""The fraud section of ``fengkong demo``: patterns caught against ground truth, the largest ring."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def stage_fraud(out: Path, console: Any) -> None:
    """Fraud: patterns caught against ground truth, the largest ring, identity theft stopped."""
    from rich.text import Text

    from fengkong.fraud.evaluate import evaluate_world, render_table
    from fengkong.fraud.report import demo_text

    world = out / "world"
    console.print(Text(render_table(evaluate_world(world))), soft_wrap=True)
    console.print(Text(demo_text(str(world))), soft_wrap=True)
