"""Outcome labels written by case decisions (confirmed fraud, false positive, …), exportable as targets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from fengkong.store.schema import labels

#: Subjects a label can be about: a decision request, a customer token, an identity token, a loan.
SUBJECT_KINDS = ("request", "customer", "identity", "loan", "complaint", "ring")


@dataclass
class Label:
    id: int
    subject_kind: str
    subject: str
    label: str
    pattern: str | None
    case_id: int | None
    request_id: str | None
    source: str
    created_by: str
    created_at: str


class Labels:
    """Repository of labels (append-only; the newest label of a subject wins on export)."""

    def __init__(self, engine: Any):
        self.engine = engine

    def add(self, subject_kind: str, subject: str, label: str, *, source: str, created_by: str,
            pattern: str | None = None, case_id: int | None = None, request_id: str | None = None) -> int:
        if subject_kind not in SUBJECT_KINDS:
            raise ValueError(f"subject_kind must be one of {', '.join(SUBJECT_KINDS)}, not {subject_kind!r}")
        if not subject:
            raise ValueError("a label needs a subject")
        with self.engine.begin() as conn:
            res = conn.execute(labels.insert().values(
                subject_kind=subject_kind, subject=subject, label=label, pattern=pattern, case_id=case_id,
                request_id=request_id, source=source, created_by=created_by,
                created_at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")))
            return int(res.inserted_primary_key[0])

    def all(self, subject_kind: str | None = None) -> list[Label]:
        q = select(labels).order_by(labels.c.id)
        if subject_kind:
            q = q.where(labels.c.subject_kind == subject_kind)
        with self.engine.connect() as conn:
            return [Label(**dict(r)) for r in conn.execute(q).mappings().all()]

    def latest(self, subject_kind: str | None = None) -> list[Label]:
        """One label per (subject_kind, subject): the newest."""
        out: dict[tuple[str, str], Label] = {}
        for lb in self.all(subject_kind):
            out[(lb.subject_kind, lb.subject)] = lb
        return list(out.values())
