"""The one settings object (every environment variable fengkong reads) and the one business time zone.

The edge builds it — ``fengkong`` (:func:`fengkong.cli.main`), ``fengkong serve``, or a notebook through
``fk.configure`` — with :meth:`Settings.from_env` and installs it with :func:`configure`; the modules below take
a ``settings`` argument and fall back to :func:`current`. Without an installed object :func:`current` reads the
environment at the call (library use, tests). Outside this module only the edges read the environment:
``fengkong serve`` hands its validated service settings to the worker processes through
``FENGKONG_SERVICE_SETTINGS`` (``service/settings.py``, ``service/cli.py``), and a Spark session sets
``PYSPARK_PYTHON`` for its executors (``spark/session.py``); ``tests/test_settings.py`` fails on any other read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fengkong.errors import ConfigurationError

#: The business calendar: every event time is stored, and every business date is taken, in this zone.
BUSINESS_TZ_NAME = "Asia/Shanghai"
BUSINESS_TZ = ZoneInfo(BUSINESS_TZ_NAME)
#: The same zone as a fixed offset (China has no daylight saving time) for ISO strings and SQL bounds.
BUSINESS_OFFSET = dt.timezone(dt.timedelta(hours=8))


def business_now() -> dt.datetime:
    """The current time in the business time zone."""
    return dt.datetime.now(BUSINESS_TZ)


def business_today() -> dt.date:
    """Today's business date (Asia/Shanghai), whatever the machine's own time zone."""
    return business_now().date()


#: Setting → the environment variable it is read from (error messages name the variable).
ENV: dict[str, str] = {
    "db": "FENGKONG_DB",
    "state": "FENGKONG_STATE",
    "redis": "FENGKONG_REDIS",
    "streams": "FENGKONG_STREAMS",
    "pii_key": "FENGKONG_PII_KEY",
    "pii_key_file": "FENGKONG_PII_KEY_FILE",
    "audit_key": "FENGKONG_AUDIT_KEY",
    "audit_checkpoint_every": "FENGKONG_AUDIT_CHECKPOINT_EVERY",
    "pricing_config": "FENGKONG_PRICING_CONFIG",
    "service_config": "FENGKONG_CONFIG",
    "four_eyes": "FENGKONG_FOUR_EYES",
    "password": "FENGKONG_PASSWORD",
}
_TRUE = ("1", "true", "yes", "on")
_INTEGERS = frozenset({"audit_checkpoint_every"})


def _integer(var: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{var} must be a whole number, not {raw.strip()!r}") from None
    if value < 0:
        raise ConfigurationError(f"{var} must be 0 or more, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """What the deployment configures: store URL, feature state, keys, configuration files, policies.

    A value left None means "not configured" (each user has its default: ./fengkong.db, the shipped pricing
    rules…). Keys are held as given and never printed (``repr`` masks them)."""

    db: str | None = None
    state: str | None = None
    redis: str | None = None
    streams: str | None = None
    pii_key: str | None = dataclasses.field(default=None, repr=False)
    pii_key_file: str | None = None
    audit_key: str | None = dataclasses.field(default=None, repr=False)
    audit_checkpoint_every: int | None = None
    pricing_config: str | None = None
    service_config: str | None = None
    four_eyes: bool = False
    password: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``environ`` (default ``os.environ``); blank variables count as not set."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, var in ENV.items():
            raw = env.get(var)
            if raw is None or not raw.strip():
                continue
            if name == "four_eyes":
                values[name] = raw.strip().lower() in _TRUE
            elif name in _INTEGERS:
                values[name] = _integer(var, raw)
            else:
                values[name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        """A copy with ``changes`` (None values ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    @staticmethod
    def env_name(name: str) -> str:
        """The environment variable of a setting (``db`` → ``FENGKONG_DB``)."""
        return ENV[name]


_installed: Settings | None = None


def configure(settings: Settings | None) -> Settings | None:
    """Install the settings the edge built (None: back to reading the environment); returns the previous."""
    global _installed
    previous, _installed = _installed, settings
    return previous


def current() -> Settings:
    """The installed settings, else those of the environment now."""
    return _installed if _installed is not None else Settings.from_env()
