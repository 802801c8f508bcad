"""The audit-chain key: ``$FENGKONG_AUDIT_KEY``, else derived from the tokenisation key (never stored in the DB).

Both come from the one settings object (:mod:`fengkong.settings`), built at the edge and passed down."""

from __future__ import annotations

import hashlib
import hmac

from fengkong.errors import ConfigurationError
from fengkong.settings import ENV, Settings, current

KEY_ENV = ENV["audit_key"]
#: HMAC label deriving the audit key from the tokenisation key (a different key for a different purpose).
DERIVE_LABEL = b"fengkong/audit-chain/v1"


class AuditKeyError(ConfigurationError, RuntimeError):
    """No usable audit-chain key (the message names the cause)."""


def derive(tokenisation_key: bytes) -> bytes:
    """The audit key derived from a tokenisation key: HMAC-SHA256(key, "fengkong/audit-chain/v1")."""
    return hmac.new(tokenisation_key, DERIVE_LABEL, hashlib.sha256).digest()


def audit_key(settings: Settings | None = None) -> bytes:
    """The key: ``$FENGKONG_AUDIT_KEY`` (64+ hex digits), else :func:`derive` of the tokenisation key, both
    from ``settings`` (default :func:`fengkong.settings.current`)."""
    cfg = settings or current()
    env = cfg.audit_key
    if env is not None and env.strip():
        from fengkong.events.pii import PiiKeyError, parse_hex_key

        try:
            return parse_hex_key(env, KEY_ENV)
        except PiiKeyError as exc:
            raise AuditKeyError(str(exc)) from None
    from fengkong.events.pii import PiiKeyError, load_key

    try:
        base = load_key(settings=cfg)
    except PiiKeyError as exc:
        raise AuditKeyError(f"no audit key: set {KEY_ENV} (64 hex digits) or a tokenisation key ({exc})") from None
    return derive(base)


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key (tells "another key" from "edited")."""
    return hmac.new(key, b"fengkong/key-id", hashlib.sha256).hexdigest()[:16]
