"""A loaded strategy: compiled once, evaluated per event (Python) or per frame (Polars)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengkong.strategy import pycode
from fengkong.strategy.nodes import ACTION_RANK, Scorecard, StrategySpec
from fengkong.strategy.spec import load_spec, parse_spec

EMPTY_LISTS: Mapping[str, frozenset] = {}


@dataclass
class Evaluation:
    """What a strategy concluded for one event."""

    outcome: str
    reason_codes: list[str]
    reasons: list[str]
    rules_hit: list[str]
    outputs: dict[str, Any]
    scores: dict[str, Any]
    score_reasons: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason_codes": self.reason_codes, "reasons": self.reasons,
                "rules_hit": self.rules_hit, "outputs": self.outputs, "scores": self.scores,
                "score_reasons": self.score_reasons}


class Strategy:
    """A type-checked strategy compiled to one Python function (and to Polars on demand)."""

    def __init__(self, spec: StrategySpec):
        self.spec = spec
        self.name = spec.name
        self.version = spec.version
        self.event_type = spec.event_type
        self.product = spec.product
        self.fallback = spec.fallback
        self._run, self.source, self._globals = pycode.build(spec)
        self._rule_ids = [r.id for r in spec.rules]
        self._rule_codes = [r.reason_code for r in spec.rules]
        self._rule_texts = [r.reason for r in spec.rules]
        self._sortkey = [(4 - ACTION_RANK[r.action]) * 1_000_000 + r.index for r in spec.rules]
        self._pol = [(r.reason_code, r.reason) for r in spec.outcome_rules]
        self._out_names = list(spec.outputs)
        self._score_names = spec.scores
        self._cards: list[tuple[str, list[str], list[float], int]] = []
        for step in spec.steps:
            n = spec.nodes[step.node]
            if isinstance(n, Scorecard):
                self._cards.append((n.id, [c.reason_code for c in n.characteristics],
                                    [max(b.points for b in c.bins) for c in n.characteristics], n.reasons))
        self.used_features = spec.used_features
        self.used_event_fields = spec.used_event_fields

    @property
    def sha256(self) -> str:
        return self.spec.sha256

    @property
    def rules(self) -> list:
        return self.spec.rules

    def check_models(self) -> None:
        """Load every model artifact now (``strategy validate`` / ``deploy``): a LightGBM file that does not
        load, or expects another number of inputs than the node maps, is a :class:`StrategyError` naming
        the artifact's line. (At decision time a bad artifact fails its node and the fallback applies.)"""
        from fengkong.strategy.errors import StrategyError
        from fengkong.strategy.nodes import Model

        for n in self.spec.nodes.values():
            if not isinstance(n, Model) or n.format != "lightgbm":
                continue
            w = n.where
            where = (self.spec.file, w.line if w else None, w.col if w else None)
            try:
                with _native_stderr_silenced():  # LightGBM's C++ prints "[Fatal] …" itself; we report it once
                    booster = pycode.LightGBMPredictor(n.artifact_text or "", len(n.inputs)).booster
                n_features = booster.num_feature()
            except ImportError:
                raise StrategyError(f"model {n.id!r}: lightgbm is not installed, cannot load {n.artifact!r}",
                                    *where) from None
            except Exception as exc:
                msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                raise StrategyError(f"model {n.id!r}: artifact {n.artifact!r} is not a loadable LightGBM model "
                                    f"({msg})", *where) from None
            if n_features != len(n.inputs):
                raise StrategyError(f"model {n.id!r}: artifact {n.artifact!r} expects {n_features} input(s), "
                                    f"the node maps {len(n.inputs)}", *where)

    def evaluate(self, event: Mapping[str, Any], features: Mapping[str, Any] | None = None,
                 lists: Mapping[str, frozenset] | None = None) -> Evaluation:
        """Evaluate one event; raises :class:`fengkong.strategy.errors.NodeError` if a node fails."""
        outcome, pr, hits, outs, scores, pts = self._run(event, features or {}, lists or EMPTY_LISTS)
        codes: list[str] = []
        texts: list[str] = []
        pcode, ptext = self._pol[pr]
        if pcode:
            codes.append(pcode)
            texts.append(ptext or pcode)
        if hits:
            order = sorted(hits, key=self._sortkey.__getitem__) if len(hits) > 1 else hits
            for i in order:
                c = self._rule_codes[i]
                if c not in codes:
                    codes.append(c)
                    texts.append(self._rule_texts[i])
        sreasons: dict[str, list[str]] = {}
        for (cid, rcodes, best, k), p in zip(self._cards, pts, strict=False):
            if k and p is not None:
                losses = sorted(((best[i] - p[i], i) for i in range(len(p)) if best[i] - p[i] > 0),
                                key=lambda t: (-t[0], t[1]))
                sreasons[cid] = [rcodes[i] for _, i in losses[:k]]
        return Evaluation(outcome, codes, texts, [self._rule_ids[i] for i in hits],
                          dict(zip(self._out_names, outs, strict=True)),
                          dict(zip(self._score_names, scores, strict=True)), sreasons)

    def evaluate_frame(self, frame: Any, lists: Mapping[str, Any] | None = None) -> Any:
        """Vectorised evaluation over a Polars frame (event columns + ``__f.<feature>`` columns)."""
        from fengkong.strategy.plcode import evaluate_frame

        return evaluate_frame(self.spec, frame, lists)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Discard what native code writes to file descriptor 2 inside the block (CLI checks only)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. captured): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_strategy(path: str | Path, features: Mapping[str, str] | None = None) -> Strategy:
    """Load, type-check and compile a strategy file. ``features``: feature name → kind."""
    return Strategy(load_spec(path, features=features))


def strategy_from_text(text: str, file: str = "<strategy>", features: Mapping[str, str] | None = None,
                       artifacts: Mapping[str, str] | None = None, base_dir: Path | None = None) -> Strategy:
    """Compile strategy YAML text (e.g. a version stored in the database)."""
    return Strategy(parse_spec(text, file, features=features, artifacts=artifacts, base_dir=base_dir))
