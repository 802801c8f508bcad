"""The shipped migrations' head, read without Alembic, is Alembic's own, also for merge revisions and
scripts that mention a revision in their docstring; a forked chain is refused."""

from __future__ import annotations

import shutil

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from fengkong.store import migrate


def _alembic_heads(where) -> list[str]:
    cfg = Config()
    cfg.set_main_option("script_location", str(where))
    return sorted(ScriptDirectory.from_config(cfg).get_heads())


def _with(tmp_path, monkeypatch, files: dict[str, str]):
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy)
    for name, text in files.items():
        (copy / "versions" / name).write_text(text)
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    monkeypatch.setattr(migrate, "_HEAD", None)
    return copy


def test_head_equals_alembics():
    assert [migrate.head()] == _alembic_heads(migrate.MIGRATIONS)


@pytest.mark.parametrize("files", [
    {"0008_a.py": 'revision = "0008"\ndown_revision = "0007"\n',
     "0009_b.py": 'revision = "0009"\ndown_revision = "0007"\n',
     "0010_merge.py": 'revision = "0010"\ndown_revision = ("0008",\n    "0009")\n'},
    {"0008_doc.py": '"""Revision ID: 0008\n\nrevision = "9999"\n"""\nrevision: str = "0008"\n'
                    'down_revision: str | None = "0007"\n'},
    {"0008_re.py": 'revision = "x"\nrevision = "0008"\ndown_revision = None\ndown_revision = "0007"\n'},
], ids=["merge", "docstring", "reassigned"])
def test_head_of_unusual_valid_scripts_equals_alembics(tmp_path, monkeypatch, files):
    copy = _with(tmp_path, monkeypatch, files)
    assert [migrate.head()] == _alembic_heads(copy)


def test_two_heads_are_refused(tmp_path, monkeypatch):
    _with(tmp_path, monkeypatch, {"0099_fork.py": 'revision = "0099"\ndown_revision = "0005"\n'})
    with pytest.raises(RuntimeError, match=r"2 heads \(0007, 0099\)"):
        migrate.head()
