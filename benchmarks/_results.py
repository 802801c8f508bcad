"""Shared helper: each benchmark rewrites its own section of benchmarks/RESULTS.md."""

from __future__ import annotations

import fcntl
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "Each section is rewritten by the script named in it. This machine is shared and noisy: "
    "compare the ratios against the anchors measured in the same run, not absolute times "
    "across sections.\n"
)


def machine() -> str:
    """One line describing where a figure was measured."""
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section ``## name`` of RESULTS.md, under a file lock."""
    RESULTS.touch(exist_ok=True)
    with open(RESULTS, "r+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        text = fh.read() or HEADER
        block = f"<!-- begin {name} -->\n## {name}\n\n{markdown.strip()}\n<!-- end {name} -->\n"
        pattern = re.compile(rf"<!-- begin {re.escape(name)} -->.*?<!-- end {re.escape(name)} -->\n", re.S)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
        fh.seek(0)
        fh.write(text)
        fh.truncate()
