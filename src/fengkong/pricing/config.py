"""Effective-dated pricing configuration: load the shipped YAML, deep-merge an override, look rules up by date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fengkong.pricing.errors import PricingError
from fengkong.safeyaml import YAMLInputError, load_path
from fengkong.settings import ENV, Settings, current

SHIPPED = Path(__file__).with_name("pricing_rules.yaml")
ENV_VAR = ENV["pricing_config"]
#: Decimal rounding modes supported for fen amounts (the vectorised path implements the same five).
ROUNDING_MODES = ("ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_HALF_DOWN", "ROUND_DOWN", "ROUND_UP")


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


def _date(v: Any, field: str) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise PricingError(field, f"not an ISO date: {v!r}") from None


@dataclass(frozen=True)
class Config:
    """The merged configuration plus date-keyed look-ups."""

    data: dict[str, Any]
    source: str

    def section(self, name: str) -> dict[str, Any]:
        if name not in self.data:
            raise PricingError(f"config.{name}", "section missing from the pricing configuration")
        return self.data[name]

    def lpr_1y(self, on: dt.date) -> Decimal:
        """One-year LPR in force on ``on`` (latest publication on or before it)."""
        pts = sorted((_date(p["date"], "lpr_1y.date"), p["rate"]) for p in self.data.get("lpr_1y", []))
        best = None
        for d, r in pts:
            if d is not None and d <= on:
                best = r
        if best is None:
            first = pts[0][0] if pts else None
            raise PricingError("date", f"{on} is before the first configured one-year LPR ({first})")
        return Decimal(str(best))

    def caps_on(self, on: dt.date, lender_type: str, channel: str) -> list[dict[str, Any]]:
        """Cap rows in force on ``on`` for a lender type and channel, with ``limit`` resolved (LPR multiples)."""
        rows = []
        for c in self.data.get("caps", []):
            lo, hi = _date(c.get("from"), f"caps.{c.get('id')}.from"), _date(c.get("to"), f"caps.{c.get('id')}.to")
            tr = _date(c.get("transition_from"), f"caps.{c.get('id')}.transition_from")
            start = min(d for d in (lo, tr) if d is not None) if (lo or tr) else None
            if start is not None and on < start:
                continue
            if hi is not None and on > hi:
                continue
            if lender_type not in c.get("lender_types", []) or channel not in c.get("channels", []):
                continue
            row = dict(c)
            if c.get("limit_lpr_multiple") is not None:
                row["limit"] = float(Decimal(str(c["limit_lpr_multiple"])) * self.lpr_1y(on))
            row["in_transition"] = bool(lo is not None and on < lo)
            rows.append(row)
        return rows

    def rounding(self) -> str:
        """``money.rounding``: the Decimal rounding mode of every computed fen amount."""
        mode = str((self.data.get("money") or {}).get("rounding", "ROUND_HALF_UP"))
        if mode not in ROUNDING_MODES:
            raise PricingError("money.rounding", f"{mode!r} is not one of {', '.join(ROUNDING_MODES)}")
        return mode

    def day_count_basis(self) -> int:
        """``money.day_count_basis``: days per year behind a daily rate (annual / basis), 365 or 360."""
        basis = (self.data.get("money") or {}).get("day_count_basis", 365)
        if isinstance(basis, bool) or basis not in (360, 365):
            raise PricingError("money.day_count_basis", f"must be 365 or 360, got {basis!r}")
        return int(basis)

    def earliest_cap_date(self) -> dt.date:
        return min(_date(c["from"], "caps.from") for c in self.data.get("caps", []))  # type: ignore[type-var]


def load_config(path: str | Path | None = None, settings: Settings | None = None) -> Config:
    """Shipped YAML, deep-merged with ``path`` (or ``settings.pricing_config``, $FENGKONG_PRICING_CONFIG) when
    given."""
    path = path or (settings or current()).pricing_config or None
    return _load(str(path) if path else None)


@lru_cache(maxsize=8)
def _load(path: str | None) -> Config:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    source = str(SHIPPED)
    if path:
        p = Path(path)
        if not p.is_file():
            raise PricingError("config", f"configuration file not found: {p}")
        try:
            over = load_path(p) or {}
        except YAMLInputError as exc:
            raise PricingError("config", str(exc)) from None
        except yaml.YAMLError as exc:
            raise PricingError("config", f"{p} is not valid YAML: {exc}") from None
        if not isinstance(over, dict):
            raise PricingError("config", f"{p} must hold a mapping at the top level")
        data = _merge(data, over)
        source = f"{SHIPPED} + {p}"
    return Config(data=data, source=source)
