"""Tracing parameters of the post-loan pack (DOMAIN §3.3 defaults), shared by the online and offline tracers."""

from __future__ import annotations

from dataclasses import dataclass

DAY_US = 86_400_000_000


@dataclass(frozen=True)
class TraceConfig:
    """Windows and limits of fund-flow tracing.

    ``horizon_days``: outflows later than this after the disbursement are not traced to the loan (the
    longest monitoring window of §3.3, T+90). ``max_hops``: how far money is followed through accounts
    the lender sees. ``entrusted_threshold_fen``: above it a consumption loan must be paid by entrusted
    payment (个人贷款管理办法: self payment only up to 300 000 yuan); splitting is checked against it.
    ``pot_order``: see :func:`fengkong.postloan.pots.draw`. The other windows are the feature windows the transfer strategy's rules use.
    """

    horizon_days: int = 90
    max_hops: int = 8
    in_out_hours: int = 24
    cumulative_days: int = 30
    debt_days: int = 7
    split_days: int = 7
    entrusted_threshold_fen: int = 30_000_000
    #: counterparty types whose receiving account the lender sees (money is followed into them)
    followed_types: tuple[str, ...] = ("own_account",)
    #: classes that do not count as money "passing through" in the in-and-out rule
    in_out_exempt: tuple[str, ...] = ("CONSUMPTION", "OWN_ACCOUNT")
    #: which loan's pot an outflow draws on when one account holds several loans' money (``pots.ORDERS``)
    pot_order: str = "newest_first"

    def __post_init__(self) -> None:
        from fengkong.postloan.pots import ORDERS

        if self.pot_order not in ORDERS:
            raise ValueError(f"pot_order {self.pot_order!r}: expected one of {', '.join(ORDERS)}")


DEFAULT = TraceConfig()
