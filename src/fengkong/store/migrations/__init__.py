"""Alembic migrations of the fengkong store."""
