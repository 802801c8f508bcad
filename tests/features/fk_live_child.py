"""Child process for the SIGKILL tests: read events (JSON lines) on stdin, print each one's features once durable.

Usage: python fk_live_child.py sqlite PATH | redis URL PREFIX [CHECKPOINT_EVERY]. Prints ``{"id": ..., "v": {...}}`` per event,
flushed only after ``read_update`` returned (the acknowledgement).
"""

from __future__ import annotations

import sys

import orjson

from fengkong.events import UNION_FIELDS
from fengkong.features import load_features
from fengkong.features.online import OnlineFeatures
from fengkong.features.store_redis import RedisStore
from fengkong.features.store_sqlite import SQLiteStore
from fengkong.features.stores import decode_event

DATETIMES = frozenset(k for k, f in UNION_FIELDS.items() if f.kind == "datetime")
DATES = frozenset(k for k, f in UNION_FIELDS.items() if f.kind == "date")


def main() -> None:
    kind = sys.argv[1]
    if kind == "sqlite":
        store = SQLiteStore(sys.argv[2], checkpoint_every=37)
    else:
        every = int(sys.argv[4]) if len(sys.argv) > 4 else 37
        store = RedisStore(sys.argv[2], prefix=sys.argv[3], checkpoint_every=every)
    of = OnlineFeatures(load_features(), store)
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        e = decode_event(orjson.loads(line), DATETIMES, DATES)
        v = of.read_update(e)
        out.write(orjson.dumps({"id": e["event_id"], "v": v}) + b"\n")
        out.flush()
    store.close()


if __name__ == "__main__":
    main()
