"""Strategy lifecycle pages (analyst, deployer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter


def add_routes(router: APIRouter, cx: Any) -> None:
    """Added once the deploy-approval API is merged."""
