"""The fraud example of docs/modeling.md (section 14) runs and prints what the doc says."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "modeling.md"


def test_fraud_example_prints_what_the_doc_says():
    sec = DOC.read_text(encoding="utf-8").split("## 14. Fraud models", 1)[1]
    code = sec.split("```python", 1)[1].split("```", 1)[0]
    expected = [ln[2:] for ln in code.splitlines() if ln.startswith("# ") and not ln.startswith("# train")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {})
    assert out.getvalue().splitlines() == expected
