"""Table definitions of the fengkong store (SQLAlchemy Core; migrations in ``migrations/``)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()
#: Alembic's version table (own name, so the store can share a database with other schemas).
VERSION_TABLE = "fk_alembic_version"

#: Append-only audit log of decisions; ``hash`` chains each row to the previous one.
decisions = Table(
    "fk_decisions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False, unique=True),
    Column("event_type", String(32), nullable=False),
    Column("event_ts", String(40)),
    Column("customer_id", String(128), index=True),
    Column("strategy_name", String(128), nullable=False),
    Column("strategy_version", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("record", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Deployed strategy versions; a (name, version) row is never changed once written.
strategy_versions = Table(
    "fk_strategy_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", String(64), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("product", String(64)),
    Column("sha256", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("artifacts", Text, nullable=False),
    Column("file", String(512)),
    Column("deployed_at", String(40), nullable=False),
    UniqueConstraint("name", "version", name="uq_strategy_name_version"),
)

#: Routing history: each row is the full routing (champion, challengers, shadows) of a route key from then on.
routing = Table(
    "fk_routing",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("route", String(128), nullable=False, index=True),
    Column("config", Text, nullable=False),
    Column("note", String(256)),
    Column("at", String(40), nullable=False),
)

#: Block / allow / watch lists; entries expire and are removed by stamping ``removed_at``.
lists = Table(
    "fk_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("list_name", String(128), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("value", String(256), nullable=False),
    Column("reason", String(512)),
    Column("source", String(128)),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40)),
    Column("removed_at", String(40)),
)

__all__ = ["decisions", "lists", "metadata", "routing", "strategy_versions"]
