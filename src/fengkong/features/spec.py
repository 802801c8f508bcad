"""Feature declarations: the one definition that offline backfill and online state both execute.

A feature is a windowed aggregation over an entity key, a derived feature (ratio/difference of two
others), or one of the named cross-entity features. Declared in Python or YAML (see docs/features.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengkong.events import EVENT_TYPES, UNION_FIELDS, fields_of
from fengkong.features.expr import Compiled, FeatureSpecError, compile_expr

AGGS = ("count", "sum", "mean", "min", "max", "distinct", "first", "last", "time_since_first",
        "time_since_last")
CROSS = ("contacts_overdue_share", "shared_applicants")
UNITS = {"seconds": 1_000_000, "minutes": 60_000_000, "hours": 3_600_000_000, "days": 86_400_000_000}
_WIN = re.compile(r"^(\d+)(s|m|h|d)$")
_WIN_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
STANDARD_LIBRARY = Path(__file__).with_name("standard.yaml")


def parse_window(text: str | None, where: str) -> int | None:
    """``"1h"`` → microseconds; ``"lifetime"`` or None → None."""
    if text is None or str(text) == "lifetime":
        return None
    m = _WIN.match(str(text).strip())
    if not m or int(m.group(1)) <= 0:
        raise FeatureSpecError(f"{where}: window {text!r} is not like 15m, 1h, 7d or 'lifetime'")
    return int(m.group(1)) * _WIN_US[m.group(2)]


#: Aggregations allowed with a list-valued key (their per-element values combine by ``max``).
LIST_KEY_AGGS = ("count", "sum", "distinct", "min", "max")

@dataclass(frozen=True)
class Feature:
    """One declared feature. Build with :func:`feature`, :func:`derived`, :func:`cross` or from YAML."""

    name: str
    kind: str  # "window" | "derived" | "cross"
    agg: str = "count"
    key: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ()
    filter: Compiled | None = None
    value: Compiled | None = None
    window_us: int | None = None
    window: str = "lifetime"
    unit: str = "days"
    op: str = ""  # derived: "ratio" | "diff"
    inputs: tuple[str, ...] = ()
    doc: str = field(default="", compare=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def dtype_kind(self) -> str:
        """Output kind: "int" | "float" | "bool" | "str"."""
        if self.kind == "cross":
            return "float" if self.agg == "contacts_overdue_share" else "int"
        if self.kind == "derived":
            return "float"
        if self.agg in ("count", "distinct"):
            return "int"
        if self.agg == "sum":
            return "int"
        if self.agg in ("mean", "time_since_first", "time_since_last"):
            return "float"
        vk = self.value.kind if self.value else "int"
        return {"int": "int", "float": "float", "bool": "bool"}.get(vk, "str")

    @property
    def list_key(self) -> bool:
        """Keyed by a list field (e.g. ``contact_tokens``): one state per list element; an event's value is
        the largest over its distinct elements."""
        return len(self.key) == 1 and getattr(UNION_FIELDS.get(self.key[0]), "kind", None) == "list"

    @property
    def stream_id(self) -> tuple:
        """Features sharing key, source events and filter share one online state stream."""
        return (self.key, self.events, self.filter.source if self.filter else None,
                self.value.source if self.value else None)


def _types(v: Any, where: str) -> tuple[str, ...]:
    if v is None:
        return EVENT_TYPES
    vals = (v,) if isinstance(v, str) else tuple(v)
    for t in vals:
        if t not in EVENT_TYPES:
            raise FeatureSpecError(f"{where}: unknown event type {t!r}; expected one of {', '.join(EVENT_TYPES)}")
    return vals


def feature(name: str, *, key: str | tuple[str, ...] | list[str], agg: str = "count",
            events: str | tuple[str, ...] | list[str] | None = None,
            applies_to: str | tuple[str, ...] | list[str] | None = None,
            filter: str | None = None, value: str | None = None, window: str | None = "lifetime",
            unit: str = "days", doc: str = "") -> Feature:
    """Declare a windowed aggregation feature (see docs/features.md for every option)."""
    where = f"feature {name!r}"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise FeatureSpecError(f"{where}: name must be lower_snake_case")
    if agg not in AGGS:
        raise FeatureSpecError(f"{where}: agg {agg!r} is not one of {', '.join(AGGS)}")
    keys = (key,) if isinstance(key, str) else tuple(key)
    if not keys:
        raise FeatureSpecError(f"{where}: key is required")
    for k in keys:
        f = UNION_FIELDS.get(k)
        if f is None:
            raise FeatureSpecError(f"{where}: key field {k!r} is not an event field")
        if f.kind == "list":
            if len(keys) > 1:
                raise FeatureSpecError(f"{where}: a list key field ({k!r}) must be the only key field")
            if agg not in LIST_KEY_AGGS:
                raise FeatureSpecError(f"{where}: with the list key {k!r} the agg must be one of "
                                       f"{', '.join(LIST_KEY_AGGS)} (the value is the largest over the list)")
    src = _types(events, where + ", events")
    if applies_to is None:  # default: the source types that carry the key
        app = tuple(t for t in src if set(keys) <= {f.name for f in fields_of(t)})
        if not app:
            raise FeatureSpecError(f"{where}: no event type in {list(src)} has the key field(s) {list(keys)}")
    else:
        app = _types(applies_to, where + ", applies_to")
    for t in app:
        have = {f.name for f in fields_of(t)}
        missing = [k for k in keys if k not in have]
        if missing:
            raise FeatureSpecError(f"{where}: applies_to event type {t!r} has no key field {missing[0]!r}")
    flt = compile_expr(filter, where + ", filter") if filter else None
    val = None
    if agg in ("count", "time_since_first", "time_since_last"):
        if value is not None:
            raise FeatureSpecError(f"{where}: agg {agg!r} takes no value")
    else:
        if not value:
            raise FeatureSpecError(f"{where}: agg {agg!r} needs a value (a field or expression)")
        val = compile_expr(value, where + ", value")
        if val.kind in ("list", "date", "datetime"):
            raise FeatureSpecError(f"{where}: value of kind {val.kind} cannot be aggregated")
        if agg in ("sum", "mean") and val.kind not in ("int", "bool"):
            raise FeatureSpecError(f"{where}: {agg} needs an integer or boolean value (exact arithmetic, "
                                   f"so offline and online agree bit for bit); got {val.kind}")
        if agg in ("min", "max") and val.kind not in ("int", "float"):
            raise FeatureSpecError(f"{where}: {agg} needs a numeric value, got {val.kind}")
    if unit not in UNITS:
        raise FeatureSpecError(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
    w = parse_window(window, where)
    return Feature(name=name, kind="window", agg=agg, key=keys, events=src, applies_to=app, filter=flt,
                   value=val, window_us=w, window=str(window or "lifetime"), unit=unit, doc=doc)


def derived(name: str, op: str, a: str, b: str, doc: str = "") -> Feature:
    """``ratio`` (a / b, null when b is null or 0) or ``diff`` (a − b) of two other features."""
    if op not in ("ratio", "diff"):
        raise FeatureSpecError(f"feature {name!r}: derived op {op!r} is not ratio or diff")
    return Feature(name=name, kind="derived", op=op, inputs=(a, b), doc=doc)


def cross(name: str, kind: str, window: str | None = "lifetime", doc: str = "") -> Feature:
    """A cross-entity feature of applications: ``contacts_overdue_share`` or ``shared_applicants``."""
    where = f"feature {name!r}"
    if kind not in CROSS:
        raise FeatureSpecError(f"{where}: cross {kind!r} is not one of {', '.join(CROSS)}")
    w = parse_window(window, where)
    if kind == "shared_applicants" and w is None:
        raise FeatureSpecError(f"{where}: shared_applicants needs a finite window")
    if kind == "contacts_overdue_share" and w is not None:
        raise FeatureSpecError(f"{where}: contacts_overdue_share is lifetime (no window)")
    return Feature(name=name, kind="cross", agg=kind, applies_to=("application",), window_us=w,
                   window=str(window or "lifetime"), doc=doc)


#: Event fields the cross-entity features read.
CROSS_FIELDS = ("customer_id", "phone_token", "dpd", "contact_tokens", "device_id")


class FeatureSet:
    """An ordered, validated collection of features."""

    def __init__(self, features: list[Feature]):
        seen: dict[str, Feature] = {}
        for f in features:
            if f.name in seen:
                raise FeatureSpecError(f"feature {f.name!r} is declared twice")
            seen[f.name] = f
        for f in features:
            for ref in f.inputs:
                if ref not in seen:
                    raise FeatureSpecError(f"feature {f.name!r}: input {ref!r} is not declared")
        self.features: list[Feature] = list(features)
        self.by_name = seen
        self.order = self._topo()

    def fields_read(self) -> set[str]:
        """Every event field the features read (keys, filters, values, the cross-entity fields), plus the
        event's id, type and time."""
        need = {"event_id", "event_type", "ts"}
        for f in self.features:
            need.update(f.key)
            for c in (f.filter, f.value):
                if c is not None:
                    need.update(c.fields)
            if f.kind == "cross":
                need.update(CROSS_FIELDS)
        return need

    def _topo(self) -> list[Feature]:
        done: dict[str, Feature] = {}
        stack: set[str] = set()

        def visit(f: Feature) -> None:
            if f.name in done:
                return
            if f.name in stack:
                raise FeatureSpecError(f"feature {f.name!r}: derived features form a cycle")
            stack.add(f.name)
            for ref in f.inputs:
                visit(self.by_name[ref])
            stack.discard(f.name)
            done[f.name] = f

        for f in self.features:
            visit(f)
        return list(done.values())

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def kinds(self) -> dict[str, str]:
        return {f.name: f.dtype_kind for f in self.features}

    def applies(self, name: str) -> tuple[str, ...]:
        """Event types for which feature ``name`` has a value (derived: both inputs apply)."""
        f = self.by_name[name]
        if f.kind != "derived":
            return f.applies_to
        a, b = (set(self.applies(i)) for i in f.inputs)
        return tuple(t for t in EVENT_TYPES if t in a and t in b)

    def merged(self, other: FeatureSet) -> FeatureSet:
        """This set followed by ``other``'s features; a name declared in both must be identical."""
        out = list(self.features)
        for f in other.features:
            mine = self.by_name.get(f.name)
            if mine is None:
                out.append(f)
            elif mine != f:
                raise FeatureSpecError(f"feature {f.name!r} is declared differently in the two sets")
        return FeatureSet(out)

    @property
    def max_window_us(self) -> int:
        ws = [f.window_us for f in self.features if f.window_us is not None]
        return max(ws) if ws else 0

    def __len__(self) -> int:
        return len(self.features)

    def __repr__(self) -> str:
        return f"FeatureSet({len(self.features)} features)"


def from_dicts(items: list[dict[str, Any]], source: str = "<dict>") -> FeatureSet:
    """Build a set from YAML-like dicts; ``{window}`` in a name with ``windows: [...]`` expands."""
    out: list[Feature] = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or "name" not in item:
            raise FeatureSpecError(f"{source}: entry {i} is not a mapping with a 'name'")
        item = dict(item)
        wins = item.pop("windows", None)
        if wins is not None:
            if "{window}" not in item["name"]:
                raise FeatureSpecError(f"{source}: feature {item['name']!r} uses windows but has no {{window}}")
            for w in wins:
                out.append(_one({**item, "name": item["name"].replace("{window}", str(w)), "window": w}, source))
        else:
            out.append(_one(item, source))
    return FeatureSet(out)


_KEYS = {"name", "key", "agg", "events", "applies_to", "filter", "value", "window", "unit", "doc", "ratio",
         "diff", "cross"}


def _one(d: dict[str, Any], source: str) -> Feature:
    name = d["name"]
    unknown = set(d) - _KEYS
    if unknown:
        raise FeatureSpecError(f"{source}: feature {name!r}: unknown option {sorted(unknown)[0]!r}")
    doc = d.get("doc", "")
    for op in ("ratio", "diff"):
        if op in d:
            ab = d[op]
            if not isinstance(ab, list) or len(ab) != 2:
                raise FeatureSpecError(f"{source}: feature {name!r}: {op} needs [a, b]")
            return derived(name, op, ab[0], ab[1], doc=doc)
    if "cross" in d:
        return cross(name, d["cross"], window=d.get("window", "lifetime"), doc=doc)
    if "key" not in d:
        raise FeatureSpecError(f"{source}: feature {name!r}: key is required")
    return feature(name, key=d["key"], agg=d.get("agg", "count"), events=d.get("events"),
                   applies_to=d.get("applies_to"), filter=d.get("filter"), value=d.get("value"),
                   window=d.get("window", "lifetime"), unit=d.get("unit", "days"), doc=doc)


def load_features(path: str | Path | None = None) -> FeatureSet:
    """Load a YAML feature file; ``None`` loads the shipped standard consumer-credit library."""
    import yaml

    from fengkong.safeyaml import YAMLInputError, load_path

    p = Path(path) if path is not None else STANDARD_LIBRARY
    try:
        data = load_path(p)
    except OSError as exc:
        raise FeatureSpecError(f"{p}: cannot read feature file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise FeatureSpecError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except YAMLInputError as exc:
        raise FeatureSpecError(f"{exc.where}: not valid YAML: {exc.message.removeprefix('invalid YAML: ')}") from None
    except yaml.YAMLError as exc:
        raise FeatureSpecError(f"{p}: not valid YAML: {exc}") from None
    items = data.get("features") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise FeatureSpecError(f"{p}: expected a top-level 'features:' list")
    return from_dicts(items, source=str(p))
