"""Output paths of the CLI: never create missing parent folders; a one-line error naming the folder, exit 2."""

from __future__ import annotations

from pathlib import Path

from fengkong.errors import fail


def out_problem(path: Path, kind: str = "file") -> str | None:
    """Why ``path`` cannot be written as a ``kind`` ("file" or "dir": a directory that may be created), or None."""
    p = Path(path).expanduser()
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        return f"folder {parent} does not exist (create it first)"
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if kind == "file" and p.is_dir():
        return f"{p} is a directory; give a file name"
    if kind == "dir" and p.exists() and not p.is_dir():
        return f"{p} exists and is not a directory"
    return None


def check_out(path: Path | None, option: str = "--out", kind: str = "file") -> None:
    """Stop the command (exit 2, one line on stderr) when ``path`` cannot be written; ``None`` passes."""
    if path is None:
        return
    problem = out_problem(path, kind)
    if problem is not None:
        fail(f"{option} {path}: {problem}")
