"""Service configuration: a TOML file plus environment variables, validated at start with one error per problem.

Precedence: command-line options > environment (``FENGKONG_DB``, ``FENGKONG_REDIS``, ``FENGKONG_STATE``,
``FENGKONG_PII_KEY`` / ``FENGKONG_PII_KEY_FILE``) > the file (``--config`` or ``$FENGKONG_CONFIG``) > defaults.
Zero configuration is the embedded mode: one process, SQLite store, SQLite feature state in the working
directory. Several workers or hosts need PostgreSQL + Redis; anything else is refused.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengkong.errors import ConfigurationError
from fengkong.settings import current

ENV_SETTINGS = "FENGKONG_SERVICE_SETTINGS"  # JSON handed from `fengkong serve` to its worker processes


class SettingsError(ConfigurationError, ValueError):
    """The configuration is unusable; ``problems`` lists every problem found (one line each)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid service configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass
class Settings:
    """Everything ``fengkong serve`` / ``fengkong consume`` need (the PII key itself is never held here)."""

    db: str | None = None                 #: store URL (SQLAlchemy); default ./fengkong.db
    redis: str | None = None              #: Redis URL for the shared feature state
    state: str | None = None              #: feature state: SQLite path or "memory" (embedded mode only)
    redis_prefix: str = "fk:"             #: key prefix of the feature state in Redis
    pii_key_file: str | None = None       #: file holding the hex tokenisation key
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    replicas: int = 1                     #: how many hosts run this service (declared; > 1 needs shared state)
    max_body_bytes: int = 1_048_576       #: larger request bodies get a 413
    max_batch: int = 100                  #: events per POST /v1/decisions/batch
    request_timeout_s: float = 2.0        #: a decision not done by then is answered 503 (retry with the same id)
    four_eyes: bool = True                #: a champion change needs a second deployer's approval
    refresh_seconds: float = 5.0          #: how often each worker re-reads routing and lists
    key_cache_seconds: float = 5.0        #: how long a checked API key is trusted before it is re-read
    data_dir: str | None = None           #: backtests may read event directories under here only
    lock_registry: str | None = None      #: identity-lock registry (SQLite) of the fraud pack
    engine_inline: bool = False           #: decide on the event loop itself (no engine thread, no time bound)
    world: str | None = None              #: world directory the console's ring, timeline and compliance pages read
    baseline: str | None = None           #: training sample for the console's drift: model directory or Parquet
    console: bool = True                  #: serve the web console at /console
    log_level: str = "info"
    access_log: bool = True
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ derived

    @property
    def store_url(self) -> str:
        from fengkong.store import resolve_url

        return resolve_url(self.db)

    @property
    def state_url(self) -> str:
        from fengkong.runtime import resolve_state

        return self.redis or resolve_state(self.state)

    @property
    def shared(self) -> bool:
        """True when more than one process decides against this store (workers or replicas > 1)."""
        return self.workers > 1 or self.replicas > 1

    @property
    def embedded(self) -> bool:
        return self.store_url.startswith("sqlite") and not self.state_url.startswith(("redis", "unix"))

    def describe(self) -> str:
        """The start-up line saying which mode this is."""
        from fengkong.store import safe_url

        if self.embedded:
            return (f"embedded mode: one process, SQLite store {safe_url(self.store_url)}, local durable feature "
                    f"state {self.state_url}. For several workers or hosts configure PostgreSQL (FENGKONG_DB) "
                    f"and Redis (FENGKONG_REDIS).")
        return (f"shared mode: {self.workers} worker(s) × {self.replicas} host(s), store {safe_url(self.store_url)}, "
                f"feature state {_safe_redis(self.state_url)}")

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in dataclasses.asdict(self).items() if k != "extra"})

    # ------------------------------------------------------------ validation

    def validate(self) -> Settings:
        """Raise :class:`SettingsError` listing every problem; returns self when the configuration is usable."""
        p: list[str] = []
        for k in self.extra:
            p.append(f"{k}: unknown setting (known: {', '.join(sorted(_FIELDS))})")
        if not 1 <= self.port <= 65535:
            p.append(f"port: {self.port} is not a TCP port (1-65535)")
        if self.workers < 1:
            p.append(f"workers: must be at least 1, got {self.workers}")
        if self.replicas < 1:
            p.append(f"replicas: must be at least 1, got {self.replicas}")
        if self.max_body_bytes < 1024:
            p.append(f"max_body_bytes: at least 1024, got {self.max_body_bytes}")
        if not 1 <= self.max_batch <= 10_000:
            p.append(f"max_batch: between 1 and 10000, got {self.max_batch}")
        if not 0 < self.request_timeout_s <= 300:
            p.append(f"request_timeout_s: between 0 and 300 seconds, got {self.request_timeout_s}")
        if self.refresh_seconds <= 0:
            p.append(f"refresh_seconds: must be positive, got {self.refresh_seconds}")
        if self.key_cache_seconds < 0:
            p.append(f"key_cache_seconds: must not be negative, got {self.key_cache_seconds}")
        if self.world and not Path(self.world).is_dir():
            p.append(f"world: {self.world!r} is not a directory")
        if self.baseline:
            from fengkong.console.baseline import BaselineError, baseline_file

            try:
                baseline_file(self.baseline)
            except BaselineError as e:
                p.append(str(e))
        url = self.store_url
        try:
            from sqlalchemy.engine import make_url

            backend = make_url(url).get_backend_name()
        except Exception:
            backend = None
            p.append(f"db: {url!r} is not a database URL (e.g. postgresql+psycopg://user@host/db or sqlite:///file)")
        if self.redis and not self.redis.startswith(("redis://", "rediss://", "unix://")):
            p.append(f"redis (FENGKONG_REDIS): {self.redis!r} is not a redis:// URL")
        if self.redis and self.state:
            p.append("state: give either the Redis URL (FENGKONG_REDIS) or a local state (FENGKONG_STATE), not both")
        if self.shared:
            why = f"workers={self.workers}" if self.workers > 1 else f"replicas={self.replicas}"
            if backend is not None and backend != "postgresql":
                p.append(f"db: {why} needs the PostgreSQL store (FENGKONG_DB=postgresql+psycopg://…); "
                         f"a {backend} store is local to one host and would diverge across replicas")
            if not self.redis:
                p.append(f"redis: {why} needs the Redis feature state (FENGKONG_REDIS=redis://…); "
                         f"a local feature state ({self.state_url}) per process would diverge")
        if self.state == "memory" and not self.shared:
            pass  # allowed for tests and demos: one process, state lost on restart (said at start-up)
        if self.data_dir and not Path(self.data_dir).is_dir():
            p.append(f"data_dir: {self.data_dir} is not a directory")
        if self.log_level.lower() not in ("critical", "error", "warning", "info", "debug"):
            p.append(f"log_level: {self.log_level!r} is not one of critical, error, warning, info, debug")
        p.extend(self._key_problems())
        if p:
            raise SettingsError(p)
        return self

    def _key_problems(self) -> list[str]:
        from fengkong.events import pii

        try:
            pii.load_key(key_file=Path(self.pii_key_file) if self.pii_key_file else None)
        except pii.PiiKeyError as exc:
            name = pii.KEY_ENV if (current().pii_key or "").strip() else "pii_key_file"
            return [f"{name}: {exc}; every replica needs the same key"]
        return []

    def tokenizer(self) -> Any:
        """The tokeniser with the configured key (never a new one: ``fengkong demo`` creates a demo key)."""
        from fengkong.events import pii

        return pii.tokenizer(key_file=Path(self.pii_key_file) if self.pii_key_file else None)


_FIELDS = {f.name for f in dataclasses.fields(Settings)} - {"extra"}
_ENV = ("db", "redis", "state")  #: the service settings the environment (fengkong.settings) may set


def _safe_redis(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return scheme + "://***@" + rest.split("@", 1)[1]
    return url


def _coerce(name: str, value: Any, problems: list[str]) -> Any:
    f = next(x for x in dataclasses.fields(Settings) if x.name == name)
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if t == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if t == "float":
            return float(value)
        if t == "bool":
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("1", "true", "yes", "on"):
                return True
            if s in ("0", "false", "no", "off"):
                return False
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"{name}: expected {t}, got {value!r}")
        return getattr(Settings, name, None)
    return None if value is None else str(value)


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from the file, then the environment, then ``overrides`` (None values are ignored); validated."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    base = current()
    path = config or base.service_config
    if path:
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError([f"config: {path}: no such file"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError([f"config: {path}: not valid TOML ({exc})"]) from None
        doc = doc.get("service", doc)
        for k, v in doc.items():
            if k in _FIELDS:
                values[k] = _coerce(k, v, problems)
            else:
                extra[k] = v
    for k in _ENV:
        if getattr(base, k):
            values[k] = getattr(base, k)
    for k, v in overrides.items():
        if v is not None:
            values[k] = _coerce(k, v, problems)
    s = Settings(**values, extra=extra)
    try:
        s.validate()
    except SettingsError as exc:
        problems.extend(exc.problems)
    if problems:
        raise SettingsError(problems)
    return s


def settings_from_env() -> Settings:
    """The settings a worker process was started with (``$FENGKONG_SERVICE_SETTINGS``), else :func:`load_settings`."""
    raw = os.environ.get(ENV_SETTINGS)
    if not raw:
        return load_settings()
    return Settings(**json.loads(raw)).validate()
