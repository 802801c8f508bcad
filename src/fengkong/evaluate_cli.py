"""CLI: ``fengkong evaluate`` — every registered pack's detectors measured against a simulated world."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fengkong.errors import fail


def evaluate(
    world: Path = typer.Option(
        ..., "--world", exists=True, file_okay=False, help="Simulated world directory."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object keyed by pattern."),
    pack: list[str] = typer.Option(
        None, "--pack", help="Evaluate only these packs (default: every registered one)."
    ),
    drop: str = typer.Option(
        None,
        "--drop-fields",
        help="Comma-separated event fields to set to null first "
        "(e.g. bureau_score,is_emulator): the figures for a lender without those inputs.",
    ),
) -> None:
    """Run every pack's reference strategy over a simulated world and measure it against the planted patterns."""
    from fengkong.evaluation import evaluate_packs  # what fk.evaluate runs

    try:
        merged, texts = evaluate_packs(
            world, pack or None, [f.strip() for f in drop.split(",") if f.strip()] if drop else None
        )
    except ValueError as exc:
        fail(f"{exc}")
    typer.echo(json.dumps(merged, ensure_ascii=False) if as_json else "\n\n".join(texts))


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
