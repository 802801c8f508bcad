"""`fengkong evaluate`'s extension point: each pack measures its detectors on a simulated world.

A pack names a module as ``Pack.evaluator`` in its registration (:mod:`fengkong.packs`); the module has
``evaluate_world(world: Path) -> dict`` (keyed by planted pattern, keys unique across packs) and
``render_table(result: dict) -> str``. A pack's ``EvaluationError``-style failure is a ``ValueError``.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType

from fengkong import packs as pack_registry

GROUP = "fengkong.evaluators"  # the entry-point group of installs made before fengkong.packs


def evaluators() -> dict[str, ModuleType]:
    """The registered packs' evaluator modules by pack name (fraud first, then by name)."""
    found = sorted((p for p in pack_registry.packs() if p.evaluator), key=lambda p: (p.name != "fraud", p.name))
    return {p.name: import_module(p.evaluator) for p in found if p.evaluator}


def drop_fields(world: Path, fields: list[str], out: Path) -> Path:
    """A copy of ``world`` in ``out`` with ``fields`` set to null in every event file that has them — the
    data a lender without those inputs (bureau, device integrity, operator checks…) would have. Labels,
    outcomes and the manifest are copied as they are. Required fields cannot be dropped."""
    import shutil

    import polars as pl

    from fengkong.events.model import EVENT_TYPES, UNION_FIELDS

    unknown = [f for f in fields if f not in UNION_FIELDS]
    if unknown:
        raise ValueError(f"--drop-fields: {unknown[0]!r} is not an event field")
    required = [f for f in fields if UNION_FIELDS[f].required]
    if required:
        raise ValueError(f"--drop-fields: {required[0]!r} is required in every event and cannot be dropped")
    out.mkdir(parents=True, exist_ok=True)
    for p in Path(world).iterdir():
        if p.is_dir():
            continue
        if p.suffix == ".parquet" and p.stem in EVENT_TYPES:
            df = pl.read_parquet(p)
            cols = [f for f in fields if f in df.columns]
            df.with_columns([pl.lit(None, dtype=df.schema[c]).alias(c) for c in cols]).write_parquet(out / p.name)
        else:
            shutil.copy2(p, out / p.name)
    return out


def evaluate_packs(world: Path, packs: list[str] | None = None,
                   dropped: list[str] | None = None) -> tuple[dict, list[str]]:
    """Every (or the named) registered pack's evaluation of ``world``, optionally on a copy with the
    ``dropped`` event fields nulled: (results merged by pattern, one rendered table per pack).

    Raises ValueError naming an unknown pack, a field that cannot be dropped, or a pack's own failure."""
    import tempfile

    mods = evaluators()
    unknown = sorted(set(packs or ()) - set(mods))
    if unknown:
        raise ValueError(f"--pack {', '.join(unknown)}: not a registered pack ({', '.join(mods)})")
    with tempfile.TemporaryDirectory(prefix="fengkong-dropped-") as tmp:
        if dropped:
            world = drop_fields(world, dropped, Path(tmp) / "world")
        merged: dict = {}
        texts: list[str] = []
        for name, mod in mods.items():
            if packs and name not in packs:
                continue
            try:
                res = mod.evaluate_world(world)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            merged.update(res)
            texts.append(mod.render_table(res))
    if dropped:
        merged["dropped_fields"] = list(dropped)
        texts.append(f"with these fields set to null first: {', '.join(dropped)}")
    return merged, texts
