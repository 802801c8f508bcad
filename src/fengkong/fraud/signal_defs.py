"""Declarations the online provider and the offline signals share: the identity-signal groups and thresholds."""

from __future__ import annotations

#: Identity-theft signals (DOMAIN.md §4.1) counted into ``idt_signal_count``.
IDT_SIGNALS = ("fr_liveness_fail", "fr_device_tampered", "fr_phone_not_owner", "fr_phone_new", "fr_ip_far",
               "fr_fast_form", "fr_night", "fr_device_shared", "fr_phone_new_to_applicant",
               "fr_device_new_to_applicant")

#: The signals about the person and the device itself; place, hour and device sharing are only context.
IDT_CORE = ("fr_liveness_fail", "fr_device_tampered", "fr_phone_not_owner", "fr_phone_new", "fr_fast_form",
            "fr_phone_new_to_applicant")

#: Declared monthly income (fen) above which a thin-file applicant's claim counts as "high".
HIGH_INCOME_FEN = 1_500_000
