"""The expression language's value types: which are numeric, which compare, and what two types unify to."""

from __future__ import annotations

NUMERIC = ("int", "float")


def comparable(a: str, b: str) -> bool:
    """Whether values of types ``a`` and ``b`` may be compared (numbers with numbers; null with anything)."""
    if "null" in (a, b):
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    return a == b


def unify(a: str, b: str) -> str | None:
    """The one type both ``a`` and ``b`` fit (null gives the other; int with float is float), else None."""
    if a == "null":
        return b
    if b == "null":
        return a
    if a == b:
        return a
    if a in NUMERIC and b in NUMERIC:
        return "float"
    return None
