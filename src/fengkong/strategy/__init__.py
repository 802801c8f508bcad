"""Strategies: the YAML format, the typed expression language, and its two compilations.

``load_strategy(path)`` type-checks a file against the event schema and feature declarations and
compiles it; ``Strategy.evaluate`` decides one event, ``Strategy.evaluate_frame`` a whole frame.
"""

from pathlib import Path

from fengkong.strategy.compiled import Evaluation, Strategy, load_strategy, strategy_from_text
from fengkong.strategy.errors import NodeError, StrategyError
from fengkong.strategy.functions import register_function

#: The reference strategies shipped with the package (``fengkong strategy examples`` copies them).
SHIPPED = Path(__file__).resolve().parents[1] / "strategies"

__all__ = ["SHIPPED", "Evaluation", "NodeError", "Strategy", "StrategyError", "load_strategy", "register_function",
           "strategy_from_text"]
