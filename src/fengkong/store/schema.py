"""Table definitions of the fengkong store (SQLAlchemy Core; migrations in ``migrations/``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text, UniqueConstraint

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
    #: 1 = unkeyed sha256 (stores from before the audit key), 2 = HMAC-SHA256 under the audit key.
    Column("hv", Integer, nullable=False, server_default="1"),
)

#: Signed checkpoints of the audit chain: the head (seq + hash) at a time, HMAC'd under the audit key.
audit_checkpoints = Table(
    "fk_audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chain", String(16), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("at", String(40), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("mac", String(64), nullable=False),
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

#: One case store for every pack: review outcomes and alerts become cases; (source, ref) is unique.
cases = Table(
    "fk_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("ref", String(256), nullable=False),
    Column("queue", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("title", String(512), nullable=False),
    Column("customer_id", String(128)),
    Column("request_id", String(128)),
    Column("product", String(64)),
    Column("priority", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("score", Float),
    Column("evidence", Text, nullable=False),
    Column("status", String(24), nullable=False),
    Column("assignee", String(128)),
    Column("escalated", Integer, nullable=False, server_default="0"),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("due_at", String(40), nullable=False),
    Column("snoozed_until", String(40)),
    Column("decision", String(32)),
    Column("decided_by", String(128)),
    Column("decision_note", Text),
    Column("closed_at", String(40)),
    UniqueConstraint("source", "ref", name="uq_case_source_ref"),
)

#: Every action on a case, in order (the case's timeline).
case_events = Table(
    "fk_case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("note", Text),
    Column("data", Text, nullable=False),
)

#: Outcome labels (confirmed fraud, false positive, …) fed back as training targets.
labels = Table(
    "fk_labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", String(32), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("label", String(32), nullable=False),
    Column("pattern", String(64)),
    Column("case_id", Integer),
    Column("request_id", String(128)),
    Column("source", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", String(40), nullable=False),
)

#: People who use the service and console; passwords are scrypt hashes, roles a comma list.
users = Table(
    "fk_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("display_name", String(256)),
    Column("password_hash", String(256), nullable=False),
    Column("roles", String(512), nullable=False),
    Column("active", Integer, nullable=False, server_default="1"),
    Column("created_at", String(40), nullable=False),
)

#: API keys for machine callers; only the sha256 of the secret is stored.
api_keys = Table(
    "fk_api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("roles", String(512), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

#: Append-only, hash-chained log of administrative actions (deploys, approvals, keys, case decisions).
admin_log = Table(
    "fk_admin_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256)),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Four-eyes deploy requests: a champion change waits here until a second deployer approves it.
deploy_requests = Table(
    "fk_deploy_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("percent", Float, nullable=False),
    Column("split_key", String(64)),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", String(40)),
    Column("note", Text),
)

#: Events accepted by the service without a decision (``POST /v1/events``), tokenised, one row per event id.
service_events = Table(
    "fk_service_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False, unique=True),
    Column("event_type", String(32), nullable=False),
    Column("customer_id", String(128), index=True),
    Column("event_ts", String(40)),
    Column("payload_sha256", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", String(40), nullable=False),
)

#: Background jobs of the service (backtests): parameters, status and the JSON result.
jobs = Table(
    "fk_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", Text, nullable=False),
    Column("submitted_by", String(128), nullable=False),
    Column("submitted_at", String(40), nullable=False),
    Column("started_at", String(40)),
    Column("finished_at", String(40)),
    Column("worker", String(128)),
    Column("result", Text),
    Column("error", Text),
)

#: Console monitoring rollup: per hour of event time and event type, counts as JSON (see fengkong.console.rollup).
console_hourly = Table(
    "fk_console_hourly",
    metadata,
    Column("hour", String(16), primary_key=True),
    Column("event_type", String(32), primary_key=True),
    Column("data", Text, nullable=False),
)

#: Console bookkeeping (the rollup's watermark: last decision seq folded in).
console_state = Table(
    "fk_console_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

__all__ = ["admin_log", "api_keys", "case_events", "cases", "console_hourly", "console_state", "decisions", "deploy_requests", "jobs", "labels", "lists", "metadata",
           "routing", "service_events", "strategy_versions", "users"]
