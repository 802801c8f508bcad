"""YAML loading that remembers the line and column of every mapping key and value.

A scalar's :class:`Loc` maps a character offset inside its *parsed* value back to the file line and
column, for every scalar style: plain, single- and double-quoted (escapes, folded line breaks) and
block scalars (``|`` literal, ``>`` folded, chomping and indentation indicators).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml

from fengkong.strategy.errors import StrategyError

_BREAKS = "\r\n\x85\u2028\u2029"
_ESCAPES = yaml.scanner.Scanner.ESCAPE_REPLACEMENTS
_ESCAPE_CODES = yaml.scanner.Scanner.ESCAPE_CODES


class _Source:
    """The document text and where its lines start (line breaks counted as PyYAML counts them)."""

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        n = len(text)
        for i, ch in enumerate(text):
            if ch in "\n\x85\u2028\u2029" or (ch == "\r" and (i + 1 >= n or text[i + 1] != "\n")):
                starts.append(i + 1)
        self.starts = starts

    def line_col(self, index: int) -> tuple[int, int]:
        """1-based line and column of a character index."""
        ln = bisect.bisect_right(self.starts, index) - 1
        return ln + 1, index - self.starts[ln] + 1


@dataclass(frozen=True)
class Loc:
    """Where a YAML value starts: 1-based line and column, the scalar style ('', quote char, '|' or '>')
    and, for scalars, enough of the source to map offsets inside the value to file positions."""

    file: str
    line: int
    col: int
    style: str = ""
    src: _Source | None = field(default=None, compare=False, repr=False)
    span: tuple[int, int] | None = field(default=None, compare=False, repr=False)
    value: str | None = field(default=None, compare=False, repr=False)

    def at(self, offset: int) -> tuple[int, int]:
        """Line/column in the file of character ``offset`` of the parsed scalar value (``len(value)`` =
        just after its last character)."""
        pos = self._positions
        if pos:
            i = min(max(offset, 0), len(pos) - 1)
            return self.src.line_col(pos[i])  # type: ignore[union-attr]
        if self.style in ("|", ">"):
            return self.line, self.col
        return self.line, self.col + offset + (1 if self.style in ("'", '"') else 0)

    @cached_property
    def _positions(self) -> list[int] | None:
        """Source index of every character of the value (plus one for its end), or None when the value
        cannot be reproduced from the source (then :meth:`at` falls back to the start position)."""
        if self.src is None or self.span is None or self.value is None:
            return None
        return scalar_positions(self.src.text, self.span[0], self.span[1], self.value)


# ---------------------------------------------------------------- scalar decoding with positions


class _Cursor:
    """Re-scans one scalar exactly as PyYAML's scanner does, recording the source index of each
    output character."""

    def __init__(self, text: str, start: int, end: int, line_start: int):
        self.t = text
        self.i = start
        self.end = end
        self.line_start = line_start  # index where the line containing ``i`` starts
        self.out: list[tuple[str, int]] = []

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.t[j] if j < self.end else "\0"

    @property
    def column(self) -> int:
        return self.i - self.line_start

    def forward(self, n: int = 1) -> None:
        for _ in range(n):
            ch = self.t[self.i]
            self.i += 1
            if ch in "\n\x85\u2028\u2029" or (ch == "\r" and self.peek() != "\n"):
                self.line_start = self.i

    def line_break(self) -> str:
        ch = self.peek()
        if ch in "\r\n\x85":
            self.forward(2 if self.t[self.i:self.i + 2] == "\r\n" and self.i + 1 < self.end else 1)
            return "\n"
        if ch in "\u2028\u2029":
            self.forward()
            return ch
        return ""

    # -- quoted scalars (Scanner.scan_flow_scalar and friends)

    def flow(self, double: bool) -> str | None:
        quote = self.peek()
        self.forward()
        if not self._non_spaces(double):
            return None
        while self.peek() != quote:
            if self.peek() == "\0":
                return None
            self._spaces()
            if not self._non_spaces(double):
                return None
        return "ok"

    def _non_spaces(self, double: bool) -> bool:
        out = self.out
        while True:
            while self.peek() not in "'\"\\\0 \t" + _BREAKS:
                out.append((self.peek(), self.i))
                self.forward()
            ch = self.peek()
            if not double and ch == "'" and self.peek(1) == "'":
                out.append(("'", self.i))
                self.forward(2)
            elif (double and ch == "'") or (not double and ch in '"\\'):
                out.append((ch, self.i))
                self.forward()
            elif double and ch == "\\":
                at = self.i
                self.forward()
                ch = self.peek()
                if ch in _ESCAPES:
                    out.append((_ESCAPES[ch], at))
                    self.forward()
                elif ch in _ESCAPE_CODES:
                    n = _ESCAPE_CODES[ch]
                    self.forward()
                    digits = self.t[self.i:self.i + n]
                    if len(digits) != n or any(c not in "0123456789abcdefABCDEF" for c in digits):
                        return False
                    out.append((chr(int(digits, 16)), at))
                    self.forward(n)
                elif ch in _BREAKS:
                    self.line_break()
                    out.extend(self._flow_breaks())
                else:
                    return False
            else:
                return True

    def _spaces(self) -> None:
        start = self.i
        while self.peek() in " \t":
            self.forward()
        if self.peek() in _BREAKS:
            at = self.i
            lb = self.line_break()
            breaks = self._flow_breaks()
            if lb != "\n":
                self.out.append((lb, at))
            elif not breaks:
                self.out.append((" ", at))
            self.out.extend(breaks)
        else:
            self.out.extend((self.t[k], k) for k in range(start, self.i))

    def _flow_breaks(self) -> list[tuple[str, int]]:
        chunks = []
        while True:
            while self.peek() in " \t":
                self.forward()
            if self.peek() in _BREAKS:
                at = self.i
                chunks.append((self.line_break(), at))
            else:
                return chunks

    # -- plain scalars (Scanner.scan_plain)

    def plain(self) -> str | None:
        spaces: list[tuple[str, int]] = []
        while True:
            if self.peek() == "#":
                break
            start = self.i
            while self.peek() not in "\0 \t" + _BREAKS:
                self.forward()
            if self.i == start:
                break
            self.out.extend(spaces)
            self.out.extend((self.t[k], k) for k in range(start, self.i))
            spaces = self._plain_spaces()
            if not spaces or self.peek() == "#":
                break
        return "ok"

    def _plain_spaces(self) -> list[tuple[str, int]]:
        start = self.i
        while self.peek() == " ":
            self.forward()
        if self.peek() in _BREAKS:
            at = self.i
            lb = self.line_break()
            breaks = []
            while self.peek() in " " + _BREAKS:
                if self.peek() == " ":
                    self.forward()
                else:
                    b = self.i
                    breaks.append((self.line_break(), b))
            if lb != "\n":
                return [(lb, at), *breaks]
            return ([(" ", at)] if not breaks else []) + breaks
        return [(self.t[k], k) for k in range(start, self.i)]

    # -- block scalars (Scanner.scan_block_scalar)

    def block(self, min_indent: int) -> str | None:
        folded = self.peek() == ">"
        self.forward()
        chomping: bool | None = None
        increment: int | None = None
        for _ in range(2):
            ch = self.peek()
            if ch in "+-" and chomping is None:
                chomping = ch == "+"
            elif ch in "123456789" and increment is None:
                increment = int(ch)
            else:
                break
            self.forward()
        while self.peek() == " ":
            self.forward()
        if self.peek() == "#":
            while self.peek() not in "\0" + _BREAKS:
                self.forward()
        self.line_break()
        if increment is None:
            breaks, max_indent = self._block_indentation()
            indent = max(min_indent, max_indent)
        else:
            indent = min_indent + increment - 1
            breaks = self._block_breaks(indent)
        out = self.out
        lb, lb_at = "", self.i
        while self.column == indent and self.peek() != "\0":
            out.extend(breaks)
            leading_non_space = self.peek() not in " \t"
            while self.peek() not in "\0" + _BREAKS:
                out.append((self.peek(), self.i))
                self.forward()
            lb_at = self.i
            lb = self.line_break()
            breaks = self._block_breaks(indent)
            if self.column == indent and self.peek() != "\0":
                if folded and lb == "\n" and leading_non_space and self.peek() not in " \t":
                    if not breaks:
                        out.append((" ", lb_at))
                elif lb:
                    out.append((lb, lb_at))
            else:
                break
        if chomping is not False and lb:
            out.append((lb, lb_at))
        if chomping is True:
            out.extend(breaks)
        return "ok"

    def _block_indentation(self) -> tuple[list[tuple[str, int]], int]:
        chunks = []
        max_indent = 0
        while self.peek() in " " + _BREAKS:
            if self.peek() != " ":
                at = self.i
                chunks.append((self.line_break(), at))
            else:
                self.forward()
                max_indent = max(max_indent, self.column)
        return chunks, max_indent

    def _block_breaks(self, indent: int) -> list[tuple[str, int]]:
        chunks = []
        while self.column < indent and self.peek() == " ":
            self.forward()
        while self.peek() in _BREAKS:
            at = self.i
            chunks.append((self.line_break(), at))
            while self.column < indent and self.peek() == " ":
                self.forward()
        return chunks


def _skip_properties(text: str, start: int, end: int) -> int:
    """Skip a leading tag (``!!str``) or anchor (``&a``) that PyYAML includes in the node's start mark."""
    i = start
    while i < end and text[i] in "!&":
        while i < end and text[i] not in " \t" + _BREAKS:
            i += 1
        while i < end and text[i] in " \t" + _BREAKS:
            i += 1
    return i


def scalar_positions(text: str, start: int, end: int, value: str) -> list[int] | None:
    """Source index of each character of the scalar ``text[start:end]`` whose parsed value is ``value``
    (plus the index just after it); None if re-scanning does not reproduce ``value`` exactly."""
    start = _skip_properties(text, start, end)
    if start >= end:
        return None
    line_start = max(text.rfind(c, 0, start) for c in "\n\r\x85\u2028\u2029") + 1
    first = text[start]
    attempts: list[int] = [1]
    if first in "|>":
        attempts += list(range(2, min(start - line_start + 2, 40)))  # indentation indicator: parent indent
    for min_indent in attempts:
        cur = _Cursor(text, start, end, line_start)
        if first in "'\"":
            ok = cur.flow(first == '"')
        elif first in "|>":
            ok = cur.block(min_indent)
        else:
            ok = cur.plain()
        if ok and "".join(ch for ch, _ in cur.out) == value:
            pos = [i for _, i in cur.out]
            pos.append(pos[-1] + 1 if pos else start)
            return pos
    return None


# ---------------------------------------------------------------- located containers


class LDict(dict):
    """A mapping with ``loc`` (where it starts), ``locs[key]`` (where each value starts) and
    ``klocs[key]`` (where each key is written)."""

    loc: Loc
    locs: dict[str, Loc]
    klocs: dict[str, Loc]


class LList(list):
    """A sequence with ``loc`` and ``locs[i]``."""

    loc: Loc
    locs: list[Loc]


def _loc(node: yaml.Node, file: str, src: _Source | None = None) -> Loc:
    style = getattr(node, "style", None) or ""
    if style not in ("'", '"', "|", ">"):
        style = ""
    if isinstance(node, yaml.ScalarNode) and src is not None:
        return Loc(file, node.start_mark.line + 1, node.start_mark.column + 1, style, src,
                   (node.start_mark.index, node.end_mark.index), node.value)
    return Loc(file, node.start_mark.line + 1, node.start_mark.column + 1, style)


def _convert(node: yaml.Node, file: str, loader: yaml.SafeLoader, src: _Source) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.loc = _loc(node, file)
        out.locs = {}
        out.klocs = {}
        for k, v in node.value:
            key = loader.construct_object(k, deep=True)
            if isinstance(key, list | dict):
                raise StrategyError("a mapping key must be a scalar", file, k.start_mark.line + 1,
                                    k.start_mark.column + 1)
            if key in out:
                raise StrategyError(f"duplicate key {key!r}", file, k.start_mark.line + 1, k.start_mark.column + 1)
            out[key] = _convert(v, file, loader, src)
            out.locs[key] = _loc(v, file, src)
            out.klocs[key] = _loc(k, file, src)
        return out
    if isinstance(node, yaml.SequenceNode):
        lst = LList(_convert(v, file, loader, src) for v in node.value)
        lst.loc = _loc(node, file)
        lst.locs = [_loc(v, file, src) for v in node.value]
        return lst
    return loader.construct_object(node, deep=True)


def load_located(text: str, file: str) -> Any:
    """Parse YAML text into LDict/LList/scalars carrying source positions (within the limits of
    :mod:`fengkong.safeyaml`: size, nesting, aliases)."""
    from fengkong.safeyaml import YAMLInputError, compose

    try:
        loader, node = compose(text, file)
    except YAMLInputError as exc:
        raise StrategyError(exc.message, file, exc.line, exc.col) from None
    try:
        if node is None:
            raise StrategyError("empty strategy file", file, 1, 1)
        return _convert(node, file, loader, _Source(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise StrategyError(f"invalid YAML: {exc.problem or exc}", file, line, col) from None
    except yaml.YAMLError as exc:
        raise StrategyError(f"invalid YAML: {exc}", file, 1, 1) from None
    finally:
        loader.dispose()
