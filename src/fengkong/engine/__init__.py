"""The decision engine: event → features → strategy → Decision, recorded in the audit log.

``Engine.decide(event)`` is idempotent by event id (the stored decision is returned, feature state
is not updated twice), falls back to the strategy's configured outcome when a node or a store fails,
and commits the decision before returning it.
"""

from fengkong.engine.core import Engine, NoStrategyError, bucket_of
from fengkong.engine.decision import Decision

__all__ = ["Decision", "Engine", "NoStrategyError", "bucket_of", "demo_story"]


def __getattr__(name: str):  # demo_story imports the feature engine: load it only when asked
    if name == "demo_story":
        from fengkong.engine.story import demo_story

        return demo_story
    raise AttributeError(name)
