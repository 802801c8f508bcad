"""The Python examples in docs/complaints.md and docs/collections.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"


@pytest.mark.parametrize("name", ["complaints.md", "collections.md"])
def test_docs_examples_run(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for b in blocks:
        exec(compile(b, f"{name}", "exec"), {})
