"""The import direction (docs/architecture.md): the layers contract in pyproject.toml holds, and no module
imports in a circle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def _lint(root: Path, src: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` with the contract in ``root``/pyproject.toml over the fengkong package under ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other in a circle (strongly connected, more than one module)."""
    adj = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in adj:  # iterative Tarjan
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            if i < len(adj[v]):
                work.append((v, i + 1))
                w = adj[v][i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("fengkong", include_external_packages=False, exclude_type_checking_imports=True,
                             cache_dir=None)


def test_layers_contract_is_kept() -> None:
    res = _lint(ROOT, SRC)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 kept, 0 broken" in res.stdout


def test_a_planted_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(SRC / "fengkong", tmp_path / "src" / "fengkong",
                    ignore=lambda d, names: [n for n in names if n == "__pycache__" or
                                             (Path(d, n).is_file() and not n.endswith(".py"))])
    (tmp_path / "src" / "fengkong" / "events" / "planted.py").write_text(
        '"""A lower layer importing a higher one."""\n\nfrom fengkong.service import app  # noqa: F401\n')
    res = _lint(tmp_path, tmp_path / "src")
    assert res.returncode != 0, res.stdout
    assert "fengkong.events is not allowed to import fengkong.service" in res.stdout
    assert "fengkong.events.planted -> fengkong.service" in res.stdout


def test_every_top_level_module_is_in_a_layer(graph: grimp.ImportGraph) -> None:
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    layered = {m.strip() for layer in contract["layers"] for m in layer.split("|")}
    top = set(graph.find_children("fengkong"))
    assert top - layered == set(), "add these to a layer in pyproject.toml [tool.importlinter]"


def test_no_module_imports_in_a_circle(graph: grimp.ImportGraph) -> None:
    """Function-level (lazy) imports count; imports under ``if TYPE_CHECKING:`` do not (never run)."""
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_a_planted_circle() -> None:
    g = grimp.build_graph("fengkong", include_external_packages=False, exclude_type_checking_imports=True,
                          cache_dir=None)
    assert import_cycles(g) == []
    g.add_import(importer="fengkong.events.model", imported="fengkong.engine.core")  # engine.core reaches events
    assert any({"fengkong.events.model", "fengkong.engine.core"} <= set(c) for c in import_cycles(g))
