"""The full ``fengkong`` CLI app for the security tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def app():
    from fengkong import cli

    if not cli.app.registered_groups:
        cli._register_all()
    return cli.app
