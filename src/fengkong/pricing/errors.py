"""The one error type of the pricing pack: a bad input, always naming the field."""

from __future__ import annotations

from fengkong.errors import InputError


class PricingError(InputError, ValueError):
    """Bad pricing input or configuration; ``field`` names what to fix."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"field '{field}': {reason}")
