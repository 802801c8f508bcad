"""The one error the Spark backends raise for declarations they cannot execute."""


class SparkUnsupportedError(RuntimeError):
    """A feature, provider or strategy construct has no Spark execution; the message names it."""
