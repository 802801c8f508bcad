"""Strategy node types that packs contribute: each lowers its YAML node to one of the core node types.

A pack names its node types in ``Pack.strategy_node_types`` (type name → ``"module:function"``,
:mod:`fengkong.packs`). The function takes the node as written (a mapping with ``id``, ``type`` and the
type's own keys) and returns the mapping of a core node (``ruleset``, ``table``, ``scorecard``, ``model``,
``assign``) with the same ``id``; it raises ``ValueError`` with a message when the node is malformed. The
strategy is then type-checked, compiled to both the Python and the Polars path, explained and backtested as
if that core node had been written, so a pack's node type cannot make the two paths disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fengkong.strategy.located import LDict, LList, Loc
from fengkong.strategy.nodes import NODE_TYPES
from fengkong.strategy.parse_ctx import ParseContext

Lowering = Callable[[Mapping[str, Any]], Mapping[str, Any]]

_cache: tuple[int, dict[str, str]] | None = None


def pack_node_types() -> dict[str, str]:
    """Every node type the registered packs contribute: name → ``"module:function"`` (a name a core type
    has, or one two packs both give, is a :class:`~fengkong.packs.PackError`)."""
    global _cache
    from fengkong import packs

    if _cache is not None and _cache[0] == packs.generation():
        return dict(_cache[1])
    found: dict[str, str] = {}
    owner: dict[str, str] = {}
    for pack in packs.packs():
        for name, ref in pack.strategy_node_types.items():
            if name in NODE_TYPES:
                raise packs.PackError(f"pack {pack.name}: node type {name!r} is a core node type")
            if name in found and found[name] != ref:
                raise packs.PackError(f"node type {name!r} is given by packs {owner[name]} and {pack.name}")
            found[name], owner[name] = ref, pack.name
    _cache = (packs.generation(), found)
    return dict(found)


def node_type_names() -> tuple[str, ...]:
    """The core node types, then the packs' (sorted)."""
    return (*NODE_TYPES, *sorted(pack_node_types()))


def lower(cx: ParseContext, nd: LDict, ntype: str, nid: str) -> LDict:
    """The core node a pack's node ``nd`` (type ``ntype``) stands for, located where ``nd`` is written (keys
    copied unchanged keep their own positions); an unknown type is an error naming every type."""
    from fengkong import packs

    ref = pack_node_types().get(ntype)
    if ref is None:
        raise cx.err(f"node {nid!r}: unknown type {ntype!r} (one of {', '.join(node_type_names())})",
                     nd.locs["type"])
    fn: Lowering = packs.load(ref)
    try:
        core = fn(nd)
    except ValueError as exc:
        raise cx.err(f"{ntype} {nid!r}: {exc}", nd.loc) from None
    where = f"node type {ntype!r} ({ref})"
    if not isinstance(core, Mapping) or core.get("type") not in NODE_TYPES:
        raise packs.PackError(f"{where} must return the mapping of a core node ({', '.join(NODE_TYPES)})")
    if core.get("id") != nid:
        raise packs.PackError(f"{where} must keep the node's id {nid!r}")
    return _located(core, nd.loc, nd)


def _located(obj: Any, loc: Loc, original: LDict | None = None) -> Any:
    """``obj`` as the parser's located containers, every position ``loc`` but those of values taken over
    unchanged from ``original``."""
    if isinstance(obj, Mapping):
        out = LDict()
        out.loc, out.locs, out.klocs = loc, {}, {}
        for k, v in obj.items():
            same = original is not None and k in original and original[k] is v
            out[k] = v if same else _located(v, loc)
            out.locs[k] = original.locs[k] if same and original is not None else loc
            out.klocs[k] = original.klocs[k] if same and original is not None else loc
        return out
    if isinstance(obj, list | tuple):
        lst = LList(_located(v, loc) for v in obj)
        lst.loc, lst.locs = loc, [loc] * len(lst)
        return lst
    return obj
