"""The audit chain's hashed text is the same bytes whichever JSON encoder wrote it (old rows keep verifying)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from fengkong.store.decisions import HASHED, _body

TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)  # no lone surrogates (not UTF-8)


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({k: (st.integers(0, 2**62) if k == "seq" else st.one_of(st.none(), TEXT))
                              for k in HASHED}))
def test_body_equals_the_standard_library_encoding(row):
    meta = json.dumps([row[k] for k in HASHED if k != "record"], separators=(",", ":"), ensure_ascii=False)
    assert _body(row) == f"{row['prev_hash']}\n{meta}\n{row['record']}"
