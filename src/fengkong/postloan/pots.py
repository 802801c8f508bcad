"""How one outflow draws on several loans' pots held by one account (shared by the online and offline tracers)."""

from __future__ import annotations

#: The orders a risk team may choose (``TraceConfig.pot_order``); docs/postloan.md §1 gives the measured effect.
ORDERS = ("newest_first", "oldest_first", "pro_rata")


def draw(balances: list[int], amount: int, order: str = "newest_first") -> list[int]:
    """The loan money (fen) each pot gives to an outflow of ``amount`` fen. ``balances`` are the pots'
    undrawn loan money, oldest loan first; what the pots cannot cover is the holder's own funds.

    ``newest_first``: the latest loan's money first, then each older loan's; ``oldest_first``: the reverse;
    ``pro_rata``: in proportion to the balances, the fen left by rounding to the largest remainders (the older
    loan on a tie)."""
    n = len(balances)
    if order == "pro_rata":
        total = sum(balances)
        if total <= amount:
            return list(balances)
        raw = [b * amount for b in balances]
        out = [r // total for r in raw]
        for i in sorted(range(n), key=lambda i: (-(raw[i] % total), i))[:amount - sum(out)]:
            out[i] += 1
        return out
    if order not in ORDERS:
        raise ValueError(f"pot_order {order!r}: expected one of {', '.join(ORDERS)}")
    out, left = [0] * n, amount
    for i in (range(n - 1, -1, -1) if order == "newest_first" else range(n)):
        out[i] = min(balances[i], left)
        left -= out[i]
    return out


def primary(parts: list[int]) -> int:
    """The pot an outflow is reported under: the one that gave most of its loan money (the older loan on a
    tie), whatever the order; -1 when no pot gave anything (the caller then names the newest loan whose pot
    is within the horizon)."""
    given = [i for i, x in enumerate(parts) if x > 0]
    return max(given, key=lambda i: (parts[i], -i)) if given else -1
