"""The shipped migrations' head, read without Alembic, is Alembic's own; a forked chain is refused."""

from __future__ import annotations

import shutil

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from fengkong.store import migrate


def _alembic_heads(where) -> list[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(where))
    return ScriptDirectory.from_config(cfg).get_heads()


def test_head_equals_alembics():
    assert [migrate.head()] == _alembic_heads(migrate.MIGRATIONS)


def test_two_heads_are_refused(tmp_path, monkeypatch):
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy)
    (copy / "versions" / "0099_fork.py").write_text('revision = "0099"\ndown_revision = "0005"\n')
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    monkeypatch.setattr(migrate, "_HEAD", None)
    with pytest.raises(RuntimeError, match=r"2 heads \(0007, 0099\)"):
        migrate.head()
