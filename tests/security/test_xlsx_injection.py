"""Workbooks write text as text: a formula-looking column name or value never becomes a formula cell."""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import polars as pl
import typer
from typer.testing import CliRunner

from fengkong.modeling.cli import register

EVIL = "=cmd|'/c calc'!A1"
SAFE_SHEET = re.compile(r"^[\w .()~-]{1,31}$")


def _assert_no_formulas(path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        assert SAFE_SHEET.match(ws.title), ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    return wb


def test_scorecard_workbooks_have_no_formula_cells(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.normal(size=n)
    cat = rng.choice(["=1+1", "@SUM(A1)", "+2", "-3-3"], size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 1 + (cat == "=1+1"))))).astype(int)
    f = tmp_path / "evil.csv"
    pl.DataFrame({EVIL: x, "@SUM(1+1)": cat, "bad": y}).write_csv(f)
    app = typer.Typer()
    register(app)
    out = tmp_path / "m"
    r = CliRunner().invoke(app, ["scorecard", "fit", "--data", str(f), "--target", "bad", "--out", str(out)])
    assert r.exit_code == 0, r.output
    wb = _assert_no_formulas(out / "report.xlsx")
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert EVIL in texts  # written, as a string
    r = CliRunner().invoke(app, ["scorecard", "report", "--model", str(out), "--data", str(f)])
    assert r.exit_code == 0, r.output
    for p in out.rglob("*.xlsx"):
        _assert_no_formulas(p)
    s = tmp_path / "s.xlsx"
    r = CliRunner().invoke(app, ["scorecard", "score", "--model", str(out), "--data", str(f), "--out", str(s)])
    assert r.exit_code == 0, r.output
    _assert_no_formulas(s)
