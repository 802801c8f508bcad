"""YAML loading that remembers the line and column of every mapping key and value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from fengkong.strategy.errors import StrategyError


@dataclass(frozen=True)
class Loc:
    """Where a YAML value starts: 1-based line and column, plus the scalar style (quote char or '')."""

    file: str
    line: int
    col: int
    style: str = ""

    def at(self, offset: int) -> tuple[int, int]:
        """Line/column of character ``offset`` inside a one-line scalar."""
        return self.line, self.col + offset + (1 if self.style in ("'", '"') else 0)


class LDict(dict):
    """A mapping with ``loc`` (where it starts) and ``locs[key]`` (where each value starts)."""

    loc: Loc
    locs: dict[str, Loc]


class LList(list):
    """A sequence with ``loc`` and ``locs[i]``."""

    loc: Loc
    locs: list[Loc]


def _loc(node: yaml.Node, file: str) -> Loc:
    style = getattr(node, "style", None) or ""
    if style not in ("'", '"'):
        style = ""
    return Loc(file, node.start_mark.line + 1, node.start_mark.column + 1, style)


def _convert(node: yaml.Node, file: str, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.loc = _loc(node, file)
        out.locs = {}
        for k, v in node.value:
            key = loader.construct_object(k, deep=True)
            if key in out:
                raise StrategyError(f"duplicate key {key!r}", file, k.start_mark.line + 1, k.start_mark.column + 1)
            out[key] = _convert(v, file, loader)
            out.locs[key] = _loc(v, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        lst = LList(_convert(v, file, loader) for v in node.value)
        lst.loc = _loc(node, file)
        lst.locs = [_loc(v, file) for v in node.value]
        return lst
    return loader.construct_object(node, deep=True)


def load_located(text: str, file: str) -> Any:
    """Parse YAML text into LDict/LList/scalars carrying source positions."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise StrategyError("empty strategy file", file, 1, 1)
        return _convert(node, file, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise StrategyError(f"invalid YAML: {exc.problem or exc}", file, line, col) from None
    finally:
        loader.dispose()
