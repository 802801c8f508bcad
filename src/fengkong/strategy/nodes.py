"""The parsed form of a strategy: its node types (ruleset, table, scorecard, model, assign), the flow's steps
and outcome rules, and the :class:`StrategySpec` that holds them, with the actions and outcomes they use."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from fengkong.strategy.expr import Node, Sym
from fengkong.strategy.located import Loc

ACTIONS = ("reject", "review", "flag", "allow")
ACTION_RANK = {"": 0, "allow": 1, "flag": 2, "review": 3, "reject": 4}
OUTCOMES = ("approve", "allow", "reject", "review")
POLICY_FLAGS = ("any_reject", "any_review", "any_flag", "any_allow")
NODE_TYPES = ("ruleset", "table", "scorecard", "model", "assign")
#: Names a node output may not take: built-ins of the outcome policy and columns of evaluate_frame.
RESERVED = frozenset({*POLICY_FLAGS, "outcome", "reason_codes", "rules_hit", "event", "feature"})


@dataclass
class Rule:
    id: str
    when: Node
    action: str
    reason_code: str
    reason: str
    node: str
    index: int = 0


@dataclass
class RuleSet:
    id: str
    hit_policy: str
    rules: list[Rule]
    type: str = "ruleset"


@dataclass
class Cell:
    """One decision-table cell: a test of one input value."""

    kind: str  # any | eq | in | not_in | range | missing
    values: tuple = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None


@dataclass
class Table:
    id: str
    hit_policy: str  # first | collect
    aggregate: str | None  # collect: sum | count | min | max
    inputs: dict[str, Node]
    outputs: list[str]
    rows: list[tuple[dict[str, Cell], dict[str, Any]]]
    default: dict[str, Any]
    out_types: dict[str, str]
    type: str = "table"


@dataclass
class Bin:
    kind: str  # missing | in | range | else
    points: float
    values: tuple = ()
    ge: float | None = None
    lt: float | None = None


@dataclass
class Characteristic:
    name: str
    input: Node
    reason_code: str
    bins: list[Bin]


@dataclass
class Scorecard:
    id: str
    output: str
    offset: float
    scaling: dict[str, float] | None
    pd_output: str | None
    reasons: int
    characteristics: list[Characteristic]
    type: str = "scorecard"


@dataclass
class Model:
    id: str
    format: str  # lightgbm | logistic
    inputs: dict[str, Node]
    output: str
    artifact: str | None = None
    artifact_text: str | None = None
    intercept: float = 0.0
    coef: dict[str, float] = field(default_factory=dict)
    type: str = "model"
    where: Loc | None = None  # where the artifact is named (for errors when it does not load)


@dataclass
class Assign:
    id: str
    values: dict[str, Node]
    type: str = "assign"


@dataclass
class Step:
    node: str
    when: Node | None


@dataclass
class OutcomeRule:
    when: Node | None
    outcome: str
    reason_code: str | None
    reason: str | None


@dataclass
class StrategySpec:
    """A loaded, type-checked strategy (not yet compiled)."""

    name: str
    version: str
    event_type: str
    product: str | None
    description: str
    fallback: str
    nodes: dict[str, Any]
    steps: list[Step]
    outcome_rules: list[OutcomeRule]
    outputs: dict[str, Node]
    rules: list[Rule]
    symbols: dict[str, Sym]
    used: dict[str, Sym]
    source: str
    file: str
    artifacts: dict[str, str]

    @property
    def sha256(self) -> str:
        h = hashlib.sha256(self.source.encode())
        for k in sorted(self.artifacts):
            h.update(k.encode())
            h.update(self.artifacts[k].encode())
        return h.hexdigest()

    @property
    def used_event_fields(self) -> list[str]:
        return sorted({s.column for s in self.used.values() if s.source == "event"})

    @property
    def used_features(self) -> list[str]:
        return sorted({s.name.removeprefix("feature.") for s in self.used.values() if s.source == "feature"})

    @property
    def scores(self) -> list[str]:
        out: list[str] = []
        for nid in (s.node for s in self.steps):
            n = self.nodes[nid]
            if isinstance(n, Scorecard):
                out += [n.output] + ([n.pd_output] if n.pd_output else [])
            elif isinstance(n, Model):
                out.append(n.output)
        return out
