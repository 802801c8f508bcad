"""fengkong: big-data risk control for consumer credit."""

__version__ = "0.1.0"
