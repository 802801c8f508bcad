"""Backtest jobs of the service: submitted over HTTP, run on a background thread, status and result in the store.

The job row (``fk_jobs``) is shared, so any worker answers status and result; the job runs in the worker
that accepted it. A worker killed mid-job leaves the row ``running`` with its ``worker`` named; submit again.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from fengkong.errors import InputError
from fengkong.store.schema import jobs

log = logging.getLogger(__name__)


class JobError(InputError, ValueError):
    """A job request names something unusable (events outside the data directory, unknown strategy)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Jobs:
    """Submit / status / result of backtests against one store."""

    def __init__(self, store: Any, settings: Any, threads: int = 1):
        self.store = store
        self.settings = settings
        self._pool = cf.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fengkong-job")
        self.worker = f"{os.uname().nodename}:{os.getpid()}"

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _events_dir(self, events: str) -> Path:
        if not self.settings.data_dir:
            raise JobError("events: backtests are off (no data_dir configured for the service)")
        root = Path(self.settings.data_dir).resolve()
        p = (root / events).resolve()
        if root != p and root not in p.parents:
            raise JobError(f"events: {events!r} is outside the data directory")
        if not p.is_dir():
            raise JobError(f"events: {events!r} is not a directory of event files under the data directory")
        return p

    def _strategy(self, ref: str, field: str) -> Any:
        from fengkong.runtime import strategy_kinds
        from fengkong.strategy import strategy_from_text

        name, _, version = ref.partition("@")
        sv = self.store.versions.get(name, version) if version else self.store.versions.latest(name)
        if sv is None:
            raise JobError(f"{field}: {ref!r} is not a deployed strategy")
        return strategy_from_text(sv.source, f"{sv.name}@{sv.version}", features=strategy_kinds(),
                                  artifacts=sv.artifacts)

    def submit(self, strategy: str, events: str, against: str | None, actor: str) -> dict[str, Any]:
        """Check the request, record the job and start it; returns the job row."""
        path = self._events_dir(events)
        self._strategy(strategy, "strategy")
        if against:
            self._strategy(against, "against")
        jid = secrets.token_hex(8)
        params = {"strategy": strategy, "events": events, "against": against}
        with self.store.engine.begin() as conn:
            conn.execute(jobs.insert().values(id=jid, kind="backtest", status="queued", params=json.dumps(params),
                                              submitted_by=actor, submitted_at=_now(), worker=self.worker))
        self.store.admin.append(actor, "backtest.submit", jid, params)
        self._pool.submit(self._run, jid, strategy, path, against)
        return self.status(jid)  # type: ignore[return-value]

    def _set(self, jid: str, **values: Any) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == jid).values(**values))

    def _run(self, jid: str, strategy: str, path: Path, against: str | None) -> None:
        from fengkong.events.files import read_world
        from fengkong.features import load_features
        from fengkong.features.providers import ProviderContext, backfill_all
        from fengkong.strategy import backtest as bt

        try:
            self._set(jid, status="running", started_at=_now())
            s = self._strategy(strategy, "strategy")
            other = self._strategy(against, "against") if against else None
            used = set(s.used_features) | (set(other.used_features) if other else set())
            ev = read_world(path)
            feats = backfill_all(ev, load_features(), ProviderContext(state="memory", db=self.store.url), names=used)
            frame = bt.prepare_frame(ev, s, features=feats)
            lab = path / "outcomes.parquet"
            res = bt.run(s, frame, bt.load_labels(lab) if lab.exists() else None, other, self.store.lists.snapshot())
            self._set(jid, status="done", finished_at=_now(), result=json.dumps(res.summary(), default=str))
        except Exception as exc:
            log.warning("backtest job %s failed: %s", jid, exc)
            self._set(jid, status="failed", finished_at=_now(), error=f"{type(exc).__name__}: {exc}")

    def status(self, jid: str) -> dict[str, Any] | None:
        with self.store.engine.connect() as conn:
            r = conn.execute(select(jobs).where(jobs.c.id == jid)).mappings().first()
        if r is None:
            return None
        out = {k: r[k] for k in ("id", "kind", "status", "submitted_by", "submitted_at", "started_at", "finished_at",
                                 "worker", "error")}
        out["params"] = json.loads(r["params"])
        out["result"] = json.loads(r["result"]) if r["result"] else None
        return out
