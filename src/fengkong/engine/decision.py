"""The Decision record: what was decided, why, with which strategy version and inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decision:
    """One recorded decision. ``role`` is champion or challenger; ``shadows`` holds shadow results."""

    request_id: str
    event_type: str
    outcome: str
    outputs: dict[str, Any]
    scores: dict[str, Any]
    reason_codes: list[str]
    reasons: list[str]
    rules_hit: list[str]
    features: dict[str, Any]
    strategy: str
    version: str
    role: str = "champion"
    score_reasons: dict[str, list[str]] = field(default_factory=dict)
    shadows: list[dict[str, Any]] = field(default_factory=list)
    customer_id: str | None = None
    event_ts: str | None = None
    error: str | None = None
    latency_ms: float = 0.0
    decided_at: str = ""
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (shallow copies; the nested values are plain JSON types)."""
        return {"request_id": self.request_id, "event_type": self.event_type, "outcome": self.outcome,
                "outputs": dict(self.outputs), "scores": dict(self.scores), "reason_codes": list(self.reason_codes),
                "reasons": list(self.reasons), "rules_hit": list(self.rules_hit), "features": dict(self.features),
                "strategy": self.strategy, "version": self.version, "role": self.role,
                "score_reasons": {k: list(v) for k, v in self.score_reasons.items()},
                "shadows": [dict(x) for x in self.shadows], "customer_id": self.customer_id,
                "event_ts": self.event_ts, "error": self.error, "latency_ms": self.latency_ms,
                "decided_at": self.decided_at}

    @classmethod
    def from_dict(cls, d: dict[str, Any], replayed: bool = False) -> Decision:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["replayed"] = replayed
        return cls(**known)
