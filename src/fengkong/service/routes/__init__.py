"""The routers of API v1, one module per area (decisions, lists + identity, strategies + backtests, admin, health)."""
