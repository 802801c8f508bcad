"""Strategy versions (immutable once deployed) and routing (champion, challengers, shadows) with history."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text

from fengkong.errors import ConflictError
from fengkong.store.schema import routing, strategy_versions


class VersionError(ConflictError, ValueError):
    """Deploy/activate/rollback refused (unknown version, changed content under an existing version, …)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass
class StoredVersion:
    name: str
    version: str
    event_type: str
    product: str | None
    sha256: str
    source: str
    artifacts: dict[str, str]
    file: str | None
    deployed_at: str


@dataclass
class Routing:
    """Which versions decide a route (``event_type`` or ``event_type/product``)."""

    champion: tuple[str, str] | None = None
    challengers: list[dict[str, Any]] = field(default_factory=list)  # {name, version, percent}
    shadows: list[tuple[str, str]] = field(default_factory=list)
    split_key: str = "customer_id"

    def to_json(self) -> str:
        return json.dumps({"champion": list(self.champion) if self.champion else None,
                           "challengers": self.challengers, "shadows": [list(s) for s in self.shadows],
                           "split_key": self.split_key}, sort_keys=True)

    @classmethod
    def from_json(cls, s: str) -> Routing:
        d = json.loads(s)
        return cls(tuple(d["champion"]) if d.get("champion") else None, d.get("challengers") or [],
                   [tuple(x) for x in d.get("shadows") or []], d.get("split_key") or "customer_id")


class Versions:
    """Repository of strategy versions and routing."""

    def __init__(self, engine: Any):
        self.engine = engine

    def deploy(self, strategy: Any) -> tuple[StoredVersion, bool]:
        """Store a compiled strategy's source; returns (version, created). Same name+version with other
        content is refused: a deployed version is immutable."""
        spec = strategy.spec
        existing = self.get(spec.name, spec.version)
        if existing is not None:
            if existing.sha256 != spec.sha256:
                raise VersionError(f"{spec.name} version {spec.version} is already deployed with different "
                                   f"content (sha256 {existing.sha256[:12]}…); bump the version")
            return existing, False
        row = {"name": spec.name, "version": spec.version, "event_type": spec.event_type, "product": spec.product,
               "sha256": spec.sha256, "source": spec.source, "artifacts": json.dumps(spec.artifacts),
               "file": spec.file, "deployed_at": _now()}
        with self.engine.begin() as conn:
            conn.execute(strategy_versions.insert().values(**row))
        return self.get(spec.name, spec.version), True  # type: ignore[return-value]

    def get(self, name: str, version: str) -> StoredVersion | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(strategy_versions).where(strategy_versions.c.name == name,
                                                             strategy_versions.c.version == str(version))
                             ).mappings().first()
        return None if r is None else _sv(r)

    def list(self) -> list[StoredVersion]:
        with self.engine.connect() as conn:
            rs = conn.execute(select(strategy_versions).order_by(strategy_versions.c.id)).mappings().all()
        return [_sv(r) for r in rs]

    def latest(self, name: str) -> StoredVersion | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(strategy_versions).where(strategy_versions.c.name == name)
                             .order_by(strategy_versions.c.id.desc())).mappings().first()
        return None if r is None else _sv(r)

    # ------------------------------------------------------------ routing

    def routing(self, route: str) -> Routing | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(routing.c.config).where(routing.c.route == route)
                             .order_by(routing.c.seq.desc())).first()
        return None if r is None else Routing.from_json(r[0])

    def routes(self) -> dict[str, Routing]:
        with self.engine.connect() as conn:
            rs = conn.execute(select(routing.c.route, routing.c.config).order_by(routing.c.seq)).all()
        return {r[0]: Routing.from_json(r[1]) for r in rs}

    def history(self, route: str) -> list[tuple[int, Routing, str | None, str]]:
        with self.engine.connect() as conn:
            rs = conn.execute(select(routing).where(routing.c.route == route).order_by(routing.c.seq)).mappings().all()
        return [(r["seq"], Routing.from_json(r["config"]), r["note"], r["at"]) for r in rs]

    def set_routing(self, route: str, cfg: Routing, note: str) -> None:
        for ref in [cfg.champion, *[(c["name"], c["version"]) for c in cfg.challengers], *cfg.shadows]:
            if ref is not None and self.get(*ref) is None:
                raise VersionError(f"{ref[0]} version {ref[1]} is not deployed")
        total = sum(float(c["percent"]) for c in cfg.challengers)
        if total > 100:
            raise VersionError(f"challenger percentages add up to {total:g} % (> 100 %)")
        with self.engine.begin() as conn:
            conn.execute(routing.insert().values(route=route, config=cfg.to_json(), note=note, at=_now()))

    def activate(self, name: str, version: str, role: str = "champion", percent: float = 0.0,
                 split_key: str | None = None) -> tuple[str, Routing]:
        """Make a deployed version the champion (or add it as challenger / shadow) of its route."""
        sv = self.get(name, str(version))
        if sv is None:
            raise VersionError(f"{name} version {version} is not deployed")
        route = route_of(sv.event_type, sv.product)
        cur = self.routing(route) or Routing()
        ref = (sv.name, sv.version)
        new = Routing(cur.champion, [c for c in cur.challengers if (c["name"], c["version"]) != ref],
                      [s for s in cur.shadows if tuple(s) != ref], split_key or cur.split_key)
        if role == "champion":
            new.champion = ref
        elif role == "challenger":
            if not 0 < percent <= 100:
                raise VersionError("a challenger needs --percent between 0 and 100")
            new.challengers.append({"name": sv.name, "version": sv.version, "percent": percent})
        elif role == "shadow":
            new.shadows.append(ref)
        elif role == "off":
            if new.champion == ref:
                raise VersionError("cannot switch off the champion; activate another version instead")
        else:
            raise VersionError(f"unknown role {role!r}")
        self.set_routing(route, new, f"{role} {sv.name}@{sv.version}")
        return route, new

    def rollback(self, route: str) -> Routing:
        """Restore the routing in force before the current one, walking back through the history: after
        activations v1 → v2 → v3, rollbacks give v2, then v1, then an error (nothing earlier). A rollback
        is recorded as a new history entry (``rollback to #<seq>``; the history stays append-only) and
        undoes the changes after the entry it restores, so a second rollback never re-applies them."""
        hist = self.history(route)
        stack = _effective(hist)
        if len(stack) < 2:
            raise VersionError(f"nothing to roll back for {route!r}: no earlier routing "
                               f"(history has {len(hist)} entr{'y' if len(hist) == 1 else 'ies'})")
        by_seq = {seq: cfg for seq, cfg, _, _ in hist}
        current = by_seq[stack[-1]].to_json()
        for target in reversed(stack[:-1]):  # skip re-activations that changed nothing
            cfg = by_seq[target]
            if cfg.to_json() != current:
                self.set_routing(route, cfg, f"{ROLLBACK_NOTE}{target}")
                return cfg
        raise VersionError(f"nothing to roll back for {route!r}: the earlier routings equal the current one")


#: Note of a rollback entry in the routing history, followed by the seq of the entry it restored.
ROLLBACK_NOTE = "rollback to #"


def _effective(hist: list[tuple[int, Routing, str | None, str]]) -> list[int]:
    """The seqs of the routings that led to the current one, oldest first: each change pushes its entry,
    each rollback pops back to the entry it restored."""
    stack: list[int] = []
    cfg_by_seq = {s: c for s, c, _, _ in hist}
    for seq, cfg, note, _ in hist:
        if note and note.startswith(ROLLBACK_NOTE) and note[len(ROLLBACK_NOTE):].isdigit():
            target = int(note[len(ROLLBACK_NOTE):])
            if target in stack:
                del stack[stack.index(target) + 1:]
                continue
        elif note == "rollback":  # written before rollbacks named their target: pop to an equal routing
            js = cfg.to_json()
            for i in range(len(stack) - 2, -1, -1):
                if cfg_by_seq[stack[i]].to_json() == js:
                    del stack[i + 1:]
                    break
            else:
                stack.append(seq)
            continue
        stack.append(seq)
    return stack


def route_of(event_type: str, product: str | None) -> str:
    return f"{event_type}/{product}" if product else event_type


def _sv(r: Any) -> StoredVersion:
    return StoredVersion(r["name"], r["version"], r["event_type"], r["product"], r["sha256"], r["source"],
                         json.loads(r["artifacts"] or "{}"), r["file"], r["deployed_at"])


__all__ = ["Routing", "StoredVersion", "VersionError", "Versions", "route_of", "text"]
