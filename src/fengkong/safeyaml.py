"""YAML from users with bounded cost: size, nesting, aliases and alias expansion are capped at load time.

Every YAML file fengkong reads from a user (strategies, feature files, pricing, taxonomy and policy
configurations) goes through :func:`safe_load` (or :func:`compose` for the position-keeping strategy
loader). A "billion laughs" document, a 100 MB file or ``[[[[…]]]]`` 10 000 deep stops with one
:class:`YAMLInputError` naming ``file:line:column`` instead of exhausting memory, CPU or the stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fengkong.errors import InputError

#: Largest YAML document accepted (UTF-8 bytes).
MAX_YAML_BYTES = 1_000_000
#: Deepest nesting of mappings and sequences.
MAX_YAML_DEPTH = 64
#: Most alias references (``*name``) in one document.
MAX_YAML_ALIASES = 100
#: Most nodes the document holds once every alias is expanded.
MAX_YAML_NODES = 200_000
#: Longest integer scalar (digits); Python refuses to convert much longer ones anyway.
MAX_INT_CHARS = 100

_INT_TAG = "tag:yaml.org,2002:int"


class YAMLInputError(InputError, yaml.YAMLError, ValueError):
    """A YAML document that is invalid or beyond a limit; ``str()`` is ``file:line:col: message``."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, col: int | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.where = ":".join(str(p) for p in (file or "<yaml>", line, col) if p is not None)
        super().__init__(f"{self.where}: {message}")


def _line_col(text: str, index: int) -> tuple[int, int]:
    head = text[:index]
    return head.count("\n") + 1, index - (head.rfind("\n") + 1) + 1


class LimitedLoader(yaml.SafeLoader):
    """A SafeLoader that counts nesting depth and aliases while it composes."""

    def __init__(self, text: str, file: str):
        self.file = file
        self._depth = 0
        self._aliases = 0
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_YAML_BYTES:
            raise YAMLInputError(f"YAML document is {size} bytes (at most {MAX_YAML_BYTES})", file)
        try:
            super().__init__(text)
        except yaml.reader.ReaderError as exc:  # a NUL or other non-printable character
            line, col = _line_col(text, exc.position)
            ch = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
            raise YAMLInputError(f"invalid YAML: control character U+{ch:04X} is not allowed", file, line,
                                 col) from None

    def _fail(self, message: str, mark: Any) -> YAMLInputError:
        return YAMLInputError(message, self.file, mark.line + 1 if mark else None, mark.column + 1 if mark else None)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise self._fail(f"too many YAML aliases (at most {MAX_YAML_ALIASES})", event.start_mark)
            return super().compose_node(parent, index)
        if isinstance(event, yaml.ScalarEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise self._fail(f"YAML nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def check_expansion(node: yaml.Node, file: str) -> None:
    """Reject recursive aliases, alias expansion beyond MAX_YAML_NODES or MAX_YAML_DEPTH and over-long
    integers."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        n, done = stack.pop()
        key = id(n)
        if done:
            active.discard(key)
            kids = _children(n)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > MAX_YAML_NODES:
                raise _at(f"YAML expands to more than {MAX_YAML_NODES} nodes (aliases)", file, n)
            if depth[key] > MAX_YAML_DEPTH + 1:
                raise _at(f"YAML nested more than {MAX_YAML_DEPTH} levels deep (aliases)", file, n)
            continue
        if key in size:
            continue
        if key in active:
            raise _at("recursive YAML alias", file, n)
        if isinstance(n, yaml.ScalarNode):
            if n.tag == _INT_TAG and len(n.value) > MAX_INT_CHARS:
                raise _at(f"integer of {len(n.value)} characters (at most {MAX_INT_CHARS})", file, n)
            size[key] = depth[key] = 1
            continue
        active.add(key)
        stack.append((n, True))
        stack.extend((k, False) for k in _children(n) if id(k) not in size)


def _children(n: yaml.Node) -> list[yaml.Node]:
    if isinstance(n, yaml.MappingNode):
        return [x for kv in n.value for x in kv]
    if isinstance(n, yaml.SequenceNode):
        return list(n.value)
    return []


def _at(message: str, file: str, n: yaml.Node) -> YAMLInputError:
    return YAMLInputError(message, file, n.start_mark.line + 1, n.start_mark.column + 1)


def compose(text: str, file: str) -> tuple[LimitedLoader, yaml.Node | None]:
    """(loader, root node) of a single-document YAML text within the limits; the caller disposes."""
    loader = LimitedLoader(text, file)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_expansion(node, file)
    except yaml.MarkedYAMLError as exc:
        loader.dispose()
        mark = exc.problem_mark or exc.context_mark
        raise YAMLInputError(f"invalid YAML: {exc.problem or exc}", file, mark.line + 1 if mark else None,
                             mark.column + 1 if mark else None) from None
    except BaseException:
        loader.dispose()
        raise
    return loader, node


def safe_load(text: str, file: str = "<yaml>") -> Any:
    """``yaml.safe_load`` within the limits; raises :class:`YAMLInputError` (a ``yaml.YAMLError``)."""
    loader, node = compose(text, file)
    try:
        return None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YAMLInputError(f"invalid YAML: {exc.problem or exc}", file, mark.line + 1 if mark else None,
                             mark.column + 1 if mark else None) from None
    finally:
        loader.dispose()


def read_text(path: str | Path) -> str:
    """The text of a YAML file, refusing files larger than MAX_YAML_BYTES before reading them."""
    p = Path(path)
    if p.is_file() and p.stat().st_size > MAX_YAML_BYTES:
        raise YAMLInputError(f"YAML file is {p.stat().st_size} bytes (at most {MAX_YAML_BYTES})", str(p))
    return p.read_text(encoding="utf-8")


def load_path(path: str | Path) -> Any:
    """:func:`safe_load` of a file (OSError when it cannot be read)."""
    return safe_load(read_text(path), str(path))
