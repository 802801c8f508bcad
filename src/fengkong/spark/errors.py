"""The one error the Spark backends raise for declarations they cannot execute."""


from fengkong.errors import InputError


class SparkUnsupportedError(InputError, RuntimeError):
    """A feature, provider or strategy construct has no Spark execution; the message names it."""
