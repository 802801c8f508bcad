"""Monitoring rollup: the decision log folded into per-hour counts, so dashboards never scan a million rows.

:func:`refresh` reads decisions after the watermark (seq order, bounded per call) and merges per hour of
event time and event type: outcomes, rule hits, a latency histogram, errors, fallbacks, and value
histograms of the scores and the drift features. The dashboards read only the rollup.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select

from fengkong.store.schema import console_hourly, console_state, decisions

WATERMARK = "rollup_seq"
#: Month rows (value histograms for drift) are keyed ``M:YYYY-MM``; hour rows ``YYYY-MM-DDTHH`` sort below "M".
MONTH = "M:"
#: Features whose distribution is tracked for drift when the settings name none.
DEFAULT_DRIFT_FEATURES = ("fr_dti", "fr_inquiries_30d", "app_cnt_id_30d", "graph_bad_elements")
_LAT_BASE, _LAT_STEP = 0.01, 1.25  # latency bucket k covers [base*step^k, base*step^(k+1)) ms


def lat_bucket(ms: float) -> int:
    return 0 if ms <= _LAT_BASE else int(math.log(ms / _LAT_BASE, _LAT_STEP)) + 1


def lat_upper(k: int) -> float:
    return _LAT_BASE * _LAT_STEP ** k


def value_bucket(v: float) -> str:
    """Two significant digits: enough resolution for deciles, bounded number of distinct keys."""
    if v == 0 or not math.isfinite(v):
        return "0"
    return f"{float(f'{v:.2g}'):g}"


def _hour(d: Mapping[str, Any]) -> str:
    ts = d.get("event_ts") or d.get("decided_at") or ""
    try:
        t = dt.datetime.fromisoformat(ts)
        if t.tzinfo is not None:
            t = t.astimezone(dt.UTC)
        return t.strftime("%Y-%m-%dT%H")
    except (TypeError, ValueError):
        return "unknown"


def _empty(values: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {"n": 0, "outcomes": {}, "rules": {}, "lat": {}, "errors": 0, "fallbacks": 0, "roles": {}}
    if values:
        d["values"] = {}
    return d


def fold(acc: dict[str, Any], d: Mapping[str, Any], drift: Iterable[str]) -> None:
    """Add one decision record to an hour's counts."""
    acc["n"] += 1
    o, r = acc["outcomes"], acc["rules"]
    o[d["outcome"]] = o.get(d["outcome"], 0) + 1
    for rule in d.get("rules_hit") or []:
        r[rule] = r.get(rule, 0) + 1
    k = str(lat_bucket(float(d.get("latency_ms") or 0.0)))
    acc["lat"][k] = acc["lat"].get(k, 0) + 1
    if d.get("error"):
        acc["errors"] += 1
        if "ENGINE_ERROR" in (d.get("reason_codes") or []):
            acc["fallbacks"] += 1
    role = f"{d.get('strategy')}@{d.get('version')}:{d.get('role', 'champion')}"
    acc["roles"].setdefault(role, {})
    acc["roles"][role][d["outcome"]] = acc["roles"][role].get(d["outcome"], 0) + 1
    if "values" not in acc:
        return
    vals = acc["values"]
    feats = d.get("features") or {}
    for name, v in [*(("score:" + k, v) for k, v in (d.get("scores") or {}).items()),
                    *(("feature:" + f, feats.get(f)) for f in drift)]:
        if isinstance(v, int | float) and not isinstance(v, bool):
            b = vals.setdefault(name, {})
            key = value_bucket(float(v))
            b[key] = b.get(key, 0) + 1


def _add(a: dict[str, Any], b: Mapping[str, Any]) -> None:
    for k, v in b.items():
        a[k] = a.get(k, 0) + v


def _merge(a: dict[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Add the counts of ``b`` into ``a`` (returns ``a``)."""
    a["n"] += b["n"]
    a["errors"] += b["errors"]
    a["fallbacks"] += b["fallbacks"]
    for key in ("outcomes", "rules", "lat"):
        _add(a[key], b[key])
    for key in ("roles", "values"):
        if key not in b:
            continue
        dst = a.setdefault(key, {})
        for name, counts in b[key].items():
            _add(dst.setdefault(name, {}), counts)
    return a


def refresh(store: Any, max_rows: int = 20_000, batch: int = 5_000,
            drift_features: Iterable[str] = DEFAULT_DRIFT_FEATURES) -> int:
    """Fold up to ``max_rows`` new decisions into the rollup; returns how many were folded."""
    drift = tuple(drift_features)
    done = 0
    while done < max_rows:
        with store.engine.connect() as conn:
            mark = conn.execute(select(console_state.c.value).where(console_state.c.key == WATERMARK)).scalar()
            last = int(mark or 0)
            rows = conn.execute(select(decisions.c.seq, decisions.c.record).where(decisions.c.seq > last)
                                .order_by(decisions.c.seq).limit(min(batch, max_rows - done))).all()
        if not rows:
            break
        hours: dict[tuple[str, str], dict[str, Any]] = {}
        for _seq, rec in rows:
            d = json.loads(rec)
            hour, et = _hour(d), d.get("event_type") or "?"
            fold(hours.setdefault((hour, et), _empty()), d, drift)
            if hour != "unknown":
                fold(hours.setdefault((MONTH + hour[:7], et), _empty(values=True)), d, drift)
        with store.engine.begin() as conn:
            # the watermark guards against two refreshers folding the same rows twice
            cur = conn.execute(select(console_state.c.value).where(console_state.c.key == WATERMARK)
                               .with_for_update()).scalar() if store.engine.dialect.name == "postgresql" else \
                conn.execute(select(console_state.c.value).where(console_state.c.key == WATERMARK)).scalar()
            if int(cur or 0) != last:
                continue
            for (hour, et), acc in hours.items():
                old = conn.execute(select(console_hourly.c.data).where(console_hourly.c.hour == hour,
                                                                       console_hourly.c.event_type == et)).scalar()
                if old is None:
                    conn.execute(console_hourly.insert().values(hour=hour, event_type=et, data=json.dumps(acc)))
                else:
                    conn.execute(console_hourly.update().where(console_hourly.c.hour == hour,
                                                               console_hourly.c.event_type == et)
                                 .values(data=json.dumps(_merge(json.loads(old), acc))))
            new = str(rows[-1][0])
            if cur is None:
                conn.execute(console_state.insert().values(key=WATERMARK, value=new))
            else:
                conn.execute(console_state.update().where(console_state.c.key == WATERMARK).values(value=new))
        done += len(rows)
    return done


def backlog(store: Any) -> int:
    """Decisions not yet folded into the rollup."""
    with store.engine.connect() as conn:
        mark = int(conn.execute(select(console_state.c.value).where(console_state.c.key == WATERMARK)).scalar() or 0)
        top = conn.execute(select(func.max(decisions.c.seq))).scalar() or 0
    return max(0, int(top) - mark)


def last_hour(store: Any) -> dt.datetime | None:
    """The newest hour in the rollup (event time, UTC), or None when it is empty."""
    with store.engine.connect() as conn:
        h = conn.execute(select(func.max(console_hourly.c.hour)).where(console_hourly.c.hour < "M",
                                                                      console_hourly.c.hour != "unknown")).scalar()
    return None if h is None else dt.datetime.strptime(h, "%Y-%m-%dT%H")


def hours(store: Any, event_type: str | None = None, since: str | None = None,
          months: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """Rollup rows ``(hour, counts)`` in hour order (event types merged unless one is chosen); with
    ``months`` the month rows ``(YYYY-MM, counts with value histograms)`` instead."""
    q = select(console_hourly.c.hour, console_hourly.c.data).order_by(console_hourly.c.hour)
    if event_type:
        q = q.where(console_hourly.c.event_type == event_type)
    if months:
        q = q.where(console_hourly.c.hour >= MONTH)
    else:
        q = q.where(console_hourly.c.hour < "M", console_hourly.c.hour != "unknown")
    if since:
        q = q.where(console_hourly.c.hour >= since)
    out: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for hour, data in conn.execute(q).all():
            d = json.loads(data)
            key = hour[len(MONTH):] if months else hour
            out[key] = _merge(out[key], d) if key in out else d
    return sorted(out.items())


def merged(rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    acc = _empty()
    for _h, d in rows:
        _merge(acc, d)
    return acc


def percentile(lat: Mapping[str, int], q: float) -> float | None:
    """Upper edge of the latency bucket holding the ``q`` quantile (ms)."""
    total = sum(lat.values())
    if not total:
        return None
    need, seen = q * total, 0
    for k in sorted(lat, key=int):
        seen += lat[k]
        if seen >= need:
            return lat_upper(int(k))
    return lat_upper(max(int(k) for k in lat))
