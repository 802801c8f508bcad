"""``fengkong decide``'s library parts: events read from JSON / JSON Lines, and the grouped decide loop."""

from __future__ import annotations

import contextlib
import json

import pytest

from fengkong.engine.stream import StreamStoreError, decide_stream
from fengkong.events.jsonstream import EventSourceError, event_records
from fengkong.store import DuplicateRequest, StoreError


def test_event_records_of_every_layout(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"event_id": "a"}, indent=2))
    arr = tmp_path / "arr.json"
    arr.write_text(json.dumps([{"event_id": "a"}, {"event_id": "b"}]))
    jl = tmp_path / "e.jsonl"
    jl.write_text('{"event_id": "a"}\n\n{broken\n{"event_id": "c"}\n')
    assert list(event_records(one)) == [(1, {"event_id": "a"})]
    assert list(event_records(arr)) == [(1, {"event_id": "a"}), (2, {"event_id": "b"})]
    got = list(event_records(jl))
    assert (
        [n for n, _ in got] == [1, 3, 4] and isinstance(got[1][1], ValueError) and "line 3" in str(got[1][1])
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "event_id": "a",\n  oops\n}\n')
    with pytest.raises(EventSourceError, match=r"bad\.json:3:3: not valid JSON"):
        list(event_records(bad))
    with pytest.raises(EventSourceError, match="no such file"):
        list(event_records(tmp_path / "none.json"))


class _Engine:
    """Decides by echoing the event id; ``fail_at`` raises a store error, ``dup_first`` a duplicate once."""

    def __init__(self, fail_at: str | None = None, dup_first: bool = False) -> None:
        self.fail_at, self.dup, self.batches = fail_at, dup_first, 0

    @contextlib.contextmanager
    def batch(self):
        self.batches += 1
        yield
        if self.dup:
            self.dup = False
            raise DuplicateRequest("recorded meanwhile")

    def decide(self, e):
        if e["event_id"] == self.fail_at:
            raise StoreError("sqlite:///x.db", "write", OSError("disk full"))
        if e["event_id"] == "bad":
            raise ValueError("an invalid event")
        return f"decided {e['event_id']}"

    ingest = decide


def _recs(*ids):
    return [(i + 1, {"event_id": x}) for i, x in enumerate(ids)]


def test_groups_errors_and_store_failures():
    eng = _Engine()
    groups = list(decide_stream(eng, _recs("a", "bad", "c", "d", "e"), group=2))
    assert [[o.decision for o in g] for g in groups] == [
        ["decided a", None],
        ["decided c", "decided d"],
        ["decided e"],
    ]
    assert groups[0][1].error == "line 2: an invalid event" and eng.batches == 3
    with pytest.raises(StreamStoreError, match=r"line 3: .*disk full.*not decided") as e:
        list(decide_stream(_Engine(fail_at="d"), _recs("a", "b", "c", "d"), group=2))
    assert e.value.line == 3  # the first event of the failed group
    dup = list(decide_stream(_Engine(dup_first=True), _recs("a", "b"), group=2))
    assert [o.decision for o in dup[0]] == ["decided a", "decided b"]  # decided again one by one
