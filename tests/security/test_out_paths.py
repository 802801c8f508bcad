"""CLI output paths never create missing parent folders: one line naming the folder, exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

UCI = "/work/shared/data/uci_credit_card_sample.csv"


@pytest.fixture(scope="module")
def model_dir(app, tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "model"
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", UCI, "--target", "default", "--out", str(out)])
    assert r.exit_code == 0, r.output  # the model directory itself may be created
    return out


def _args(tmp_path, model_dir):
    missing = tmp_path / "nope" / "deeper"
    ev = tmp_path / "application.csv"
    ev.write_text("event_id,ts,customer_id\na1,2026-01-01T00:00:00+08:00,c1\n")
    return missing, [
        ["scorecard", "score", "--model", str(model_dir), "--data", UCI, "--out", str(missing / "s.csv")],
        ["scorecard", "fit", "--data", UCI, "--target", "default", "--out", str(missing / "m")],
        ["scorecard", "report", "--model", str(model_dir), "--data", UCI, "--out", str(missing / "r.html")],
        ["simulate", "--out", str(missing / "w"), "--customers", "200"],
        ["events", "validate", str(ev), "--out", str(missing / "good.parquet")],
        ["events", "validate", str(ev), "--quarantine", str(missing / "q.jsonl")],
        ["features", "backfill", "--events", str(tmp_path), "--out", str(missing / "f.parquet")],
        ["labels", "export", "--out", str(missing / "l.csv"), "--db", f"sqlite:///{tmp_path / 's.db'}"],
        ["demo", "--out", str(missing / "d")],
        ["strategy", "examples", str(missing / "s")],
        ["audit", "query", "--customer", "C1", "--out", str(missing / "a.csv"), "--db", f"sqlite:///{tmp_path / 's.db'}"],
        ["backtest", "src/fengkong/strategies/application.yaml", "--events", str(tmp_path), "--out", str(missing / "bt")],
        ["postloan", "report", "--world", str(tmp_path), "--out", str(missing / "r")],
        ["postloan", "evidence", "--events", str(tmp_path), "--out", str(missing / "e"), "--month", "2026-01"],
        ["compliance", "--quarter", "2026Q1", "--loans", str(ev), "--html", str(missing / "c.html")],
        ["compliance", "--quarter", "2026Q1", "--loans", str(ev), "--xlsx", str(missing / "c.xlsx")],
    ]


def test_missing_parent_folders_are_an_error(app, tmp_path, model_dir):
    missing, cases = _args(tmp_path, model_dir)
    for argv in cases:
        r = CliRunner().invoke(app, argv)
        msg = " ".join(r.output.split())
        assert r.exit_code == 2, (argv, r.output)
        assert f"folder {missing} does not exist" in msg, (argv, r.output)
        assert not (tmp_path / "nope").exists(), argv


def test_root_level_folder_is_not_created(app, model_dir):
    import os
    import shutil
    import uuid

    root = f"/nonexist_fk_{uuid.uuid4().hex[:8]}"
    try:
        r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(model_dir), "--data", UCI,
                                     "--out", f"{root}/s.csv"])
        assert r.exit_code == 2 and f"folder {root} does not exist" in r.output
        assert not os.path.exists(root)
    finally:  # what the defect did: remove it again
        if os.path.isdir(root):
            shutil.rmtree(root)
