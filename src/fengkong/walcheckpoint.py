"""Background WAL checkpoints for SQLite files written on the decision path.

With ``journal_mode=WAL`` and ``synchronous=NORMAL`` a commit is one append to the WAL, no fsync; the
fsyncs happen when the WAL is copied back into the database (a checkpoint). SQLite does that inside
whichever commit crosses ``wal_autocheckpoint`` pages, stalling that one decision for the length of two
fsyncs. :func:`start` turns the automatic checkpoint off on the hot connection and runs passive
checkpoints from a daemon thread on its own connection instead (writers are never blocked by them).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

_lock = threading.Lock()
_threads: dict[str, _Checkpointer] = {}


class _Checkpointer(threading.Thread):
    def __init__(self, path: str, interval: float):
        super().__init__(name=f"fengkong-wal-checkpoint:{path}", daemon=True)
        self.path, self.interval = path, interval
        self.users = 0
        self.stop = threading.Event()

    def run(self) -> None:
        conn = None
        try:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            while not self.stop.wait(self.interval):
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            return
        finally:
            if conn is not None:
                conn.close()


def start(conn: sqlite3.Connection, path: str, interval: float = 0.5) -> None:
    """Checkpoint ``path``'s WAL in the background instead of inside ``conn``'s commits.

    One thread per file however many connections use it; each user calls :func:`release` when done.
    """
    if path in ("", ":memory:") or path.startswith("file::memory:"):
        return
    conn.execute("PRAGMA wal_autocheckpoint=0")
    with _lock:
        th = _threads.get(path)
        if th is None or not th.is_alive():
            th = _threads[path] = _Checkpointer(path, interval)
            th.start()
        th.users += 1


def release(path: str) -> None:
    """One user of ``path`` is done; the last one stops the thread (after a final checkpoint)."""
    with _lock:
        th = _threads.get(path)
        if th is None:
            return
        th.users -= 1
        if th.users > 0:
            return
        th.stop.set()
        del _threads[path]
    # wait for the final checkpoint: once close() returns, the database file alone holds every commit
    # (a copy of the file, a backup or another process sees them without the WAL)
    th.join(timeout=30.0)
