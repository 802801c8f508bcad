"""The web console at ``/console``: case manager, ring view, strategy lifecycle, monitoring, compliance.

``mount(app, store, settings)`` adds the pages to a FastAPI app (``fengkong serve`` calls it). Pages are
rendered on the server (Jinja2), styled by our own CSS, with a little JavaScript; nothing loads from the
internet.
"""

from __future__ import annotations

from typing import Any

__all__ = ["mount"]


def mount(app: Any, store: Any, settings: dict | None = None) -> None:
    """Add the console's routes under ``/console`` (and its static files under ``/console/static``).

    ``settings`` (all optional): ``secret_key`` (signs the session cookie; default: derived from the PII key,
    else a random key per process), ``idle_minutes`` (30), ``lang`` (``zh`` or ``en``), ``four_eyes_fen`` (decisions on cases
    with at least this amount at risk need a second person; 5 000 000 fen), ``list_expiry_days`` (365),
    ``world`` (a simulated or exported world directory for the ring, timeline, backtest and compliance
    pages), ``baseline`` (the training sample for drift: a model directory written by ``fengkong scorecard
    fit`` — its ``development_scores.parquet`` — or a Parquet file with one numeric column per score or feature
    name; the monitoring page then shows PSI of each month against it), ``baseline_names`` (baseline column →
    the decisions' score or feature name, when they differ), ``secure_cookie`` (True behind HTTPS), ``hit_rate_alert`` (0.05), ``warm`` (True: compute
    the world views in a background thread at start-up).
    """
    from fengkong.console.app import build

    build(app, store, dict(settings or {}))
