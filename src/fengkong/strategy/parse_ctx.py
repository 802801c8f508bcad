"""Reading a strategy's YAML: errors with file and position, required/optional keys, identifiers and names."""

from __future__ import annotations

import keyword
import re
from typing import Any

from fengkong.strategy.errors import StrategyError
from fengkong.strategy.expr import KEYWORDS
from fengkong.strategy.located import LDict, Loc
from fengkong.strategy.nodes import RESERVED

#: Node ids, rule ids and node output names: plain identifiers (they name variables and columns).
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Strategy names, versions and products: they name deployments, files and URLs (no spaces, no quotes).
SLUG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")


class ParseContext:
    """The file being read: its errors carry the position, and the checks every node shares."""

    def __init__(self, file: str):
        self.file = file

    def err(self, msg: str, loc: Loc | None) -> StrategyError:
        return StrategyError(msg, self.file, loc.line if loc else None, loc.col if loc else None)

    def need(self, d: LDict, key: str, types: type | tuple[type, ...], what: str) -> Any:
        if not isinstance(d, dict) or key not in d:
            raise self.err(f"{what}: missing required key {key!r}", getattr(d, "loc", None))
        v = d[key]
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in as_tuple(types)):
            raise self.err(f"{what}: {key!r} must be {type_name(types)}", d.locs[key])
        return v

    def opt(self, d: LDict, key: str, types: type | tuple[type, ...], what: str, default: Any = None) -> Any:
        if key not in d or d[key] is None:
            return default
        return self.need(d, key, types, what)

    def ident(self, name: Any, loc: Loc | None, what: str) -> str:
        """``name`` if it is a plain identifier that is no keyword and no reserved name; else an error."""
        if not isinstance(name, str) or not IDENT.fullmatch(name):
            raise self.err(
                f"{what} {name!r} must be an identifier (letters, digits and _, not starting with a digit)",
                loc,
            )
        if keyword.iskeyword(name) or name in KEYWORDS:
            raise self.err(f"{what} {name!r} is a keyword", loc)
        if name.startswith("__") or name in RESERVED:
            raise self.err(
                f"{what} {name!r} is reserved (names starting with '__' and "
                f"{', '.join(sorted(RESERVED))} are built in)",
                loc,
            )
        return name

    def slug(self, value: Any, loc: Loc | None, what: str) -> str:
        """``value`` if it is a plain name (letters, digits, ``_ . -``; at most 128 characters)."""
        if not isinstance(value, str) or not SLUG.fullmatch(value):
            raise self.err(
                f"{what} {value!r} must be 1–128 letters, digits, '_', '.' or '-' (not starting "
                f"with '.' or '-')",
                loc,
            )
        return value

    def keys(self, d: Any, allowed: set[str], what: str) -> None:
        if not isinstance(d, dict):
            raise self.err(f"{what} must be a mapping", getattr(d, "loc", None))
        for k in d:
            if k not in allowed:
                raise self.err(
                    f"{what}: unknown key {k!r} (allowed: {', '.join(sorted(allowed))})", d.locs.get(k, d.loc)
                )


def key_loc(d: Any, key: Any) -> Loc | None:
    """Where a mapping key is written (or the mapping, when positions are not known)."""
    klocs = getattr(d, "klocs", None) or {}
    return klocs.get(key, getattr(d, "loc", None))


def as_tuple(t: Any) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def type_name(t: Any) -> str:
    names = {
        str: "text",
        int: "an integer",
        float: "a number",
        bool: "true/false",
        dict: "a mapping",
        list: "a list",
    }
    return " or ".join(names.get(x, x.__name__) for x in as_tuple(t))
