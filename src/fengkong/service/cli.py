"""CLI of the service: ``fengkong serve``, ``fengkong consume``, ``fengkong keys …``, ``fengkong users add`` and
``fengkong deploys list|approve|reject`` (four-eyes approvals from a terminal)."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

import typer

from fengkong.errors import fail, print_error
from fengkong.settings import current

keys_app = typer.Typer(help="API keys of the decision service (stored hashed).", no_args_is_help=True)
users_app = typer.Typer(help="Users of the service and console (scrypt passwords, roles).", no_args_is_help=True)
deploys_app = typer.Typer(help="Champion changes waiting for a second deployer (four-eyes).", no_args_is_help=True)

_DB = typer.Option(None, "--db", help="Store URL; default $FENGKONG_DB or ./fengkong.db.")


def _settings(config: Path | None, **kw: Any) -> Any:
    from fengkong.service.settings import SettingsError, load_settings

    try:
        return load_settings(config, **kw)
    except SettingsError as exc:
        for p in exc.problems:
            print_error(p)
        raise typer.Exit(2) from None


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def serve(
    config: Path = typer.Option(None, "--config", help="TOML settings file (default $FENGKONG_CONFIG)."),
    host: str = typer.Option(None, help="Listen address (default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default 8000)."),
    workers: int = typer.Option(None, help="Worker processes; more than 1 needs PostgreSQL + Redis."),
    replicas: int = typer.Option(None, help="Hosts running this service (declared); more than 1 needs shared state."),
    db: str = _DB,
    redis: str = typer.Option(None, "--redis", help="Redis URL of the shared feature state ($FENGKONG_REDIS)."),
    state: str = typer.Option(None, "--state", help="Local feature state: SQLite path or 'memory' ($FENGKONG_STATE)."),
    four_eyes: bool = typer.Option(None, "--four-eyes/--no-four-eyes", help="Champion changes need a second deployer."),
    data_dir: str = typer.Option(None, "--data-dir", help="Backtest jobs may read event directories under here."),
    world: str = typer.Option(None, "--world", help="World directory for the console's ring, timeline and "
                                                    "compliance pages."),
    baseline: str = typer.Option(None, "--baseline", help="Training sample for the console's drift (PSI vs "
                                                          "training): a scorecard model directory or a Parquet file."),
    log_level: str = typer.Option(None, "--log-level"),
) -> None:
    """Run the decision service (HTTP API v1). With no configuration: one process on the embedded default."""
    import logging

    import uvicorn

    from fengkong.events import pii
    from fengkong.service.settings import ENV_SETTINGS

    s = _settings(config, host=host, port=port, workers=workers, replicas=replicas, db=db, redis=redis, state=state,
                  four_eyes=four_eyes, data_dir=data_dir, world=world, baseline=baseline,
                  log_level=log_level)
    typer.echo(f"fengkong serve: {s.describe()}")
    if s.embedded and not s.shared:
        deployed = ensure_strategies(s.store_url)
        if deployed:
            typer.echo(f"fengkong serve: the store had no active strategy; deployed the shipped reference "
                       f"strategies {', '.join(deployed)} (replace them with `fengkong strategy deploy`)")
    typer.echo(f"fengkong serve: listening on http://{s.host}:{s.port} (API v1, OpenAPI at /v1/openapi.json"
               + (", console at /console" if s.console else "") + ")")
    logging.basicConfig(level=s.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        pii.install_log_redaction(logging.getLogger(name))
    common = {"host": s.host, "port": s.port, "log_level": s.log_level, "access_log": s.access_log,
              "timeout_keep_alive": 30, "limit_concurrency": 4096}
    if s.workers > 1:
        os.environ[ENV_SETTINGS] = s.to_json()
        uvicorn.run("fengkong.service.app:app_from_env", factory=True, workers=s.workers, **common)
    else:
        from fengkong.service.app import create_app, settle_heap

        app = create_app(s)
        settle_heap()
        uvicorn.run(app, **common)


def ensure_strategies(db: str) -> list[str]:
    """Embedded default: deploy and activate the shipped reference strategies when the store routes nothing."""
    from fengkong.deploy import Deployments
    from fengkong.runtime import strategy_kinds
    from fengkong.strategy import SHIPPED, load_strategy

    st = _store(db)
    try:
        if st.versions.routes():
            return []
        d = Deployments(st, four_eyes=False)
        out = []
        for f in sorted(SHIPPED.glob("*.yaml")):
            sv, _ = d.deploy(load_strategy(f, features=strategy_kinds()), "serve:embedded-default")
            d.activate(sv.name, sv.version, "champion", "serve:embedded-default")
            out.append(f"{sv.name}@{sv.version}")
        return out
    finally:
        st.close()


def consume(
    config: Path = typer.Option(None, "--config", help="TOML settings file (default $FENGKONG_CONFIG)."),
    stream: str = typer.Option("fengkong:events", help="Redis stream to read events from."),
    group: str = typer.Option("fengkong", help="Consumer group."),
    consumer: str = typer.Option(None, help="This consumer's name (default host:pid)."),
    output: str = typer.Option("fengkong:decisions", help="Stream decisions and alerts are published to."),
    source: str = typer.Option(None, "--source", help="Redis URL of the streams (default: the feature-state Redis)."),
    db: str = _DB,
    redis: str = typer.Option(None, "--redis", help="Redis URL of the shared feature state ($FENGKONG_REDIS)."),
    state: str = typer.Option(None, "--state", help="Local feature state (embedded mode)."),
    max_events: int = typer.Option(0, help="Stop after this many events (0 = run until stopped)."),
    idle_exit: float = typer.Option(0.0, help="Stop after this many seconds without events (0 = never)."),
) -> None:
    """Decide events from a Redis Stream (consumer group; acknowledged once the decision is durable)."""
    from fengkong.service.stream import RedisStreams, run_consumer

    s = _settings(config, db=db, redis=redis, state=state)
    url = source or s.redis or current().streams or "redis://127.0.0.1:6379/0"
    name = consumer or f"{os.uname().nodename}:{os.getpid()}"
    typer.echo(f"fengkong consume: {s.describe()}")
    typer.echo(f"fengkong consume: reading {stream} as {group}/{name}, publishing to {output}")
    bus = RedisStreams(url, stream, group, name, output)
    n = run_consumer(s, bus, max_events=max_events or None, idle_exit=idle_exit or None)
    typer.echo(f"fengkong consume: {n} events decided or accepted")


def _store(db: str | None) -> Any:
    from fengkong.store import open_error_line, open_store

    try:
        return open_store(db)
    except Exception as exc:
        fail(open_error_line(exc))


@keys_app.command("create")
def keys_create(name: str, roles: str = typer.Option(..., help="Comma-separated roles."), db: str = _DB) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from fengkong.store import UserError

    st = _store(db)
    try:
        key = st.users.create_key(name, roles, _actor())
    except UserError as exc:
        fail(str(exc))
    st.admin.append(_actor(), "key.create", key.split("_", 2)[1], {"name": name, "roles": roles})
    st.close()
    typer.echo(key)


@keys_app.command("list")
def keys_list(db: str = _DB) -> None:
    """Key ids, names, roles and revocation (never the secrets)."""
    st = _store(db)
    all_keys = st.users.keys()
    for k in all_keys:
        typer.echo(f"{k.key_id}\t{k.name}\t{','.join(sorted(k.roles))}\t{k.created_at}\t{k.revoked_at or ''}")
    st.close()


@keys_app.command("revoke")
def keys_revoke(key_id: str, db: str = _DB) -> None:
    """Revoke a key."""
    from fengkong.store import UserError

    st = _store(db)
    try:
        st.users.revoke_key(key_id)
    except UserError as exc:
        fail(str(exc))
    st.admin.append(_actor(), "key.revoke", key_id, {})
    st.close()
    typer.echo(f"revoked {key_id}")


@users_app.command("add")
def users_add(username: str, roles: str = typer.Option(..., help="Comma-separated roles."),
              display_name: str = typer.Option(None), db: str = _DB) -> None:
    """Add a user; the password is read from $FENGKONG_PASSWORD or prompted for."""
    from fengkong.store import UserError

    pw = current().password or getpass.getpass("password: ")
    st = _store(db)
    try:
        st.users.add(username, pw, roles, display_name)
    except UserError as exc:
        fail(str(exc))
    st.admin.append(_actor(), "user.add", username, {"roles": roles})
    st.close()
    typer.echo(f"added {username}")


def _approver(st: Any, user: str) -> Any:
    pw = current().password or getpass.getpass(f"password of {user}: ")
    u = st.users.authenticate(user, pw)
    if u is None:
        fail(f"{user}: wrong user or password", 1)
    return u


@deploys_app.command("list")
def deploys_list(db: str = _DB, status: str = typer.Option("pending")) -> None:
    """Deploy requests (pending by default) as JSON lines."""
    from fengkong.deploy import Deployments

    st = _store(db)
    for r in Deployments(st).requests(status):
        typer.echo(json.dumps(r.to_dict()))
    st.close()


@deploys_app.command("approve")
def deploys_approve(request_id: int, user: str = typer.Option(..., "--user", help="The approving deployer."),
                    db: str = _DB) -> None:
    """Approve a pending champion change as a second deployer (password checked)."""
    from fengkong.deploy import DeployError, Deployments

    st = _store(db)
    u = _approver(st, user)
    try:
        res = Deployments(st).approve(request_id, u.username, u.roles)
    except DeployError as exc:
        fail(str(exc), 1)
    st.close()
    typer.echo(json.dumps(res.to_dict()))


@deploys_app.command("reject")
def deploys_reject(request_id: int, user: str = typer.Option(..., "--user"), note: str = typer.Option(None),
                   db: str = _DB) -> None:
    """Reject a pending champion change."""
    from fengkong.deploy import DeployError, Deployments

    st = _store(db)
    u = _approver(st, user)
    try:
        res = Deployments(st).reject(request_id, u.username, u.roles, note)
    except DeployError as exc:
        fail(str(exc), 1)
    st.close()
    typer.echo(json.dumps(res.to_dict()))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("consume")(consume)
    app.add_typer(keys_app, name="keys")
    app.add_typer(users_app, name="users")
    app.add_typer(deploys_app, name="deploys")
