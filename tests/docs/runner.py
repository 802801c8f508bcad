"""Run the shell and Python examples of a docs/*.md page in order and compare what they print.

Conventions every page follows:

- every ```bash / ```sh / ```python block runs, in page order, in one fresh directory per page;
  Python blocks share one namespace per page, so a later block may use an earlier block's names;
- ``print(...)  #> text`` in Python: the printed text must start with ``text``; an explanation in
  parentheses or after `` — `` may follow the expected text, ``…`` matches anything; plain ``#``
  comments are explanations and are not compared;
- in shell, ``#> text`` lines are lines the commands before them print (``…`` matches anything, a
  duration such as ``4.0s`` or ``12 ms`` matches any duration);
- a block preceded by ``<!-- not run: reason -->`` is not run (a server that never returns, a cluster);
  the reason is required and the runner counts such blocks.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"(<!--\s*not run:(?P<why>[^>]*)-->\s*\n)?```(?P<lang>[A-Za-z]*)\n(?P<body>.*?)```", re.S)
RUNNABLE = {"bash": "sh", "sh": "sh", "python": "python"}
DURATION = re.compile(r"\d+(?:\.\d+)?\s?(?:ms|s|min)\b")


@dataclass
class Block:
    """One fenced example of a page."""

    lang: str
    body: str
    line: int
    not_run: str | None


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text that are examples (shell or Python), in order."""
    out = []
    for m in FENCE.finditer(text):
        lang = RUNNABLE.get(m.group("lang"))
        if lang is None:
            continue
        why = m.group("why")
        out.append(Block(lang, m.group("body"), text.count("\n", 0, m.start("body")) + 1,
                         why.strip() if why is not None else None))
    return out


def _pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"…|\.\.\.", expected)]
    return re.compile(".*".join(parts), re.S)


def _candidates(comment: str) -> list[str]:
    c = comment.strip()
    cands = {c}
    for sep in ("  (", " (", " — ", " -- "):
        if sep in c:
            cands.add(c.split(sep, 1)[0].strip())
    return sorted(cands, key=len, reverse=True)


def printed_matches(output: str, comment: str) -> bool:
    """Whether ``output`` (one print's text) starts with what the comment says it prints."""
    got = " ".join(output.split())
    for cand in _candidates(comment):
        want = " ".join(cand.split())
        if want and _pattern(want).match(got):
            return True
    return False


def _comments(src: str) -> dict[int, str]:
    out = {}
    for i, line in enumerate(src.splitlines(), start=1):
        m = re.search(r"\)\s*#>\s?(.*)$", line)
        if m and line.lstrip().startswith("print("):
            out[i] = m.group(1)
    return out


def run_python(block: Block, ns: dict, where: str) -> None:
    """Execute a Python block statement by statement, checking each commented print."""
    tree = ast.parse(block.body, filename=where)
    comments = _comments(block.body)
    for stmt in tree.body:
        code = compile(ast.Module([stmt], []), where, "exec")
        want = None
        if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                and getattr(stmt.value.func, "id", None) == "print"):
            want = comments.get(stmt.end_lineno) or comments.get(stmt.lineno)
        if want is None:
            exec(code, ns)
            continue
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(code, ns)
        got = buf.getvalue()
        line = block.line + stmt.lineno - 1
        assert printed_matches(got, want), f"{where}:{line}: printed {got.strip()!r}, the doc says {want!r}"


def _expected_shell_lines(body: str) -> list[str]:
    """Lines the doc says the commands print: its ``#> …`` lines."""
    return [s[2:].strip() for s in (line.strip() for line in body.splitlines()) if s.startswith("#>")]


def _shell_line_matches(want: str, lines: list[str]) -> bool:
    pat = _pattern(" ".join(DURATION.sub("…", want).split()))
    return any(pat.match(" ".join(DURATION.sub("…", ln).split())) for ln in lines)


def run_shell(block: Block, cwd: Path, env: dict[str, str], where: str, timeout: float = 600) -> None:
    """Run a shell block with bash -e; it must exit 0 and print the lines the doc shows."""
    r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.body], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{where}:{block.line}: exit {r.returncode}\n{block.body}\n{r.stdout}\n{r.stderr}"
    lines = (r.stdout + r.stderr).splitlines()
    for want in _expected_shell_lines(block.body):
        assert _shell_line_matches(want, lines), (
            f"{where}:{block.line}: the doc says it prints {want!r}; it printed:\n{r.stdout}{r.stderr}")


def run_page(page: Path, workdir: Path) -> tuple[int, int]:
    """Run every example of one page in ``workdir``; returns (run, not run)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    ns: dict = {"__name__": "__docs__"}
    ran = skipped = 0
    old = Path.cwd()
    os.chdir(workdir)
    try:
        for b in blocks(page.read_text(encoding="utf-8")):
            where = f"docs/{page.name}"
            if b.not_run is not None:
                assert b.not_run, f"{where}:{b.line}: a block that is not run must say why"
                skipped += 1
                continue
            if b.lang == "python":
                run_python(b, ns, where)
            else:
                run_shell(b, workdir, env, where)
            ran += 1
    finally:
        os.chdir(old)
    return ran, skipped
