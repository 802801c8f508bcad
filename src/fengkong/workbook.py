"""Excel workbooks that write every text as text: no formulas, no links, safe sheet names (one helper for all)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_SHEET_BAD = re.compile(r"[^\w .()~-]")

OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,  # "=cmd|'/c calc'!A1" stays a string cell
    "strings_to_urls": False,      # no hyperlinks from data
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}


def open_workbook(path: str | Path, **options: Any) -> Any:
    """An ``xlsxwriter.Workbook`` at ``path`` with the safe options (the parent folder must exist)."""
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), {**OPTIONS, **options})


def sheet_name(name: str, used: set[str] | None = None) -> str:
    """A sheet name from untrusted text: letters, digits, space and ``_ . ( ) ~ -`` only, ≤ 31 chars, unique."""
    base = _SHEET_BAD.sub("_", str(name)).strip()[:31] or "sheet"
    if base[0] in "-~":
        base = "_" + base[:30]
    if used is None:
        return base
    out, i = base, 1
    while out.lower() in used:
        suffix = f"~{i}"
        out = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(out.lower())
    return out


def write_frame(df: Any, wb: Any, worksheet: str, **kwargs: Any) -> None:
    """``polars.DataFrame.write_excel`` into an open safe workbook under a sanitised sheet name."""
    df.write_excel(wb, worksheet=sheet_name(worksheet), **kwargs)


def write_table(df: Any, path: str | Path, worksheet: str = "data", **kwargs: Any) -> None:
    """One frame as a one-sheet workbook at ``path`` (text as text)."""
    with open_workbook(path) as wb:
        write_frame(df, wb, worksheet, **kwargs)
