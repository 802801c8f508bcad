"""CLI of the fraud pack: ``fengkong fraud rings|lock|unlock|not-me|audit`` and ``fengkong evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fengkong.errors import fail

fraud_app = typer.Typer(help="Anti-fraud: rings, identity locks, 'not me' reports.", no_args_is_help=True)

_DB = typer.Option(None, "--db", help="Decision store URL (SQLAlchemy), the same as `fengkong decide --db`; "
                   "default $FENGKONG_DB or ./fengkong.db. Locks go to its lists; the lock registry and its "
                   "audit trail live beside it (see --registry).")
_REGISTRY = typer.Option(None, "--registry", help="Lock registry + audit trail (SQLite file). Default: "
                         "<store file>.fraud.sqlite beside a SQLite store, .fengkong/fraud.sqlite otherwise.")


def registry_path(db: str | None, registry: Path | None = None) -> Path:
    """The lock registry of decision store ``db`` (a SQLAlchemy URL): ``registry`` if given, else a SQLite
    file beside a SQLite store (``<store file>.fraud.sqlite``), else ``.fengkong/fraud.sqlite``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from fengkong.fraud.locks import default_path
    from fengkong.store import resolve_url

    url = resolve_url(db)
    try:
        u = make_url(url)
    except ArgumentError:
        fail(f"--db {url!r}: not a database URL (use e.g. sqlite:///path/to/fengkong.db, as for `fengkong decide`)")
    if registry is not None:
        if "://" in str(registry):
            fail(f"--registry {registry}: a file path, not a URL")
        return registry
    if u.get_backend_name() == "sqlite":
        if not u.database or u.database == ":memory:":
            fail(f"--db {url!r}: an in-memory store cannot hold identity locks")
        p = Path(u.database)
        return p.with_name(p.name + ".fraud.sqlite")
    return default_path()


def _locks(db: str | None, registry: Path | None = None, lists: bool = True):
    from fengkong.fraud.locks import IdentityLocks
    from fengkong.store import open_error_line, open_store

    path = registry_path(db, registry)
    try:
        st = open_store(db) if lists else None
    except Exception as exc:
        fail(f"--db: {open_error_line(exc)}")
    return IdentityLocks(path, lists=st.lists if st is not None else None)


def _token(id_token: str | None, id_number: str | None) -> str:
    from fengkong.events import pii

    if bool(id_token) == bool(id_number):
        fail("give exactly one of --id-token or --id-number")
    if id_number:
        if (problem := pii.id_no_problem(id_number)) is not None:
            fail(f"--id-number: {problem}")
        try:
            return pii.tokenizer().token("id", id_number)  # type: ignore[return-value]
        except pii.PiiKeyError as exc:
            fail(f"--id-number needs the PII key: {exc}")
    return id_token  # type: ignore[return-value]


def _world(world: Path):
    from fengkong.events import EventValidationError
    from fengkong.events.files import read_world

    try:
        return read_world(world)
    except EventValidationError as exc:
        fail(f"--world {world}: {exc}")


@fraud_app.command("rings")
def rings(
    world: Path = typer.Option(..., "--world", exists=True, file_okay=False, help="World directory (<type>.parquet)."),
    top: int = typer.Option(3, help="Report this many rings (highest score first)."),
    ring_id: str = typer.Option(None, "--ring", help="Report only this ring id."),
    min_score: float = typer.Option(0.5, help="Ring score threshold (0–1)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    publish: bool = typer.Option(False, "--publish", help="Put members / shared elements on the store's lists."),
    store_db: str = typer.Option(None, "--store-db", help="Store URL for --publish (default: FENGKONG_DB / SQLite)."),
) -> None:
    """Detect rings in a world (graph + Leiden) and print the ring report."""
    from fengkong.fraud.report import render_ring
    from fengkong.fraud.rings import detect_rings, publish_rings, ring_report

    events = _world(world)
    table, members = detect_rings(events, min_score=min_score)
    published = None
    if publish:
        from fengkong.store import Store

        published = publish_rings(Store(store_db).lists, events, table, members)
    reports = ring_report(events, table, members, ring_id=ring_id, top=top)
    if ring_id and not reports:
        fail(f"--ring {ring_id}: no such ring (found {table.height})")
    if as_json:
        typer.echo(json.dumps({"rings_found": table.height, "members": members.height, "published": published,
                               "rings": [r.to_dict() for r in reports]}, ensure_ascii=False))
        return
    typer.echo(f"{table.height} rings, {members.height} members (score ≥ {min_score})")
    if published is not None:
        typer.echo(f"published to lists: {published['members']} members, {published['elements']} shared elements")
    for r in reports:
        typer.echo(render_ring(r))


@fraud_app.command("lock")
def lock(
    id_token: str = typer.Option(None, "--id-token", help="Token of the ID number."),
    id_number: str = typer.Option(None, "--id-number", help="Raw ID number (tokenised here, never stored)."),
    actor: str = typer.Option("person", help="Who asks: person or lender."),
    reason: str = typer.Option(..., help="Why (kept in the audit trail)."),
    db: str = _DB,
    registry: Path = _REGISTRY,
) -> None:
    """Lock an identity: every later application with it is rejected (IDENTITY_LOCKED)."""
    from fengkong.events import pii
    from fengkong.fraud.locks import LockError

    tok = _token(id_token, id_number)
    try:
        changed = _locks(db, registry).lock(tok, actor, reason)
    except LockError as exc:
        fail(f"{exc}")
    typer.echo(f"identity {pii.mask_token(tok)} {'locked' if changed else 'was already locked'}")


@fraud_app.command("unlock")
def unlock(
    id_token: str = typer.Option(None, "--id-token"),
    id_number: str = typer.Option(None, "--id-number"),
    actor: str = typer.Option("person", help="Who asks: person or lender."),
    reason: str = typer.Option(..., help="Why (kept in the audit trail)."),
    db: str = _DB,
    registry: Path = _REGISTRY,
) -> None:
    """Unlock an identity."""
    from fengkong.events import pii
    from fengkong.fraud.locks import LockError

    tok = _token(id_token, id_number)
    try:
        changed = _locks(db, registry).unlock(tok, actor, reason)
    except LockError as exc:
        fail(f"{exc}")
    typer.echo(f"identity {pii.mask_token(tok)} {'unlocked' if changed else 'was not locked'}")


@fraud_app.command("not-me")
def not_me(
    application: list[str] = typer.Option(..., "--application", "-a", help="event_id of an application (repeat)."),
    world: Path = typer.Option(..., "--world", exists=True, file_okay=False, help="Where the applications are."),
    id_token: str = typer.Option(None, "--id-token"),
    id_number: str = typer.Option(None, "--id-number"),
    actor: str = typer.Option("lender", help="Who files it: person or lender."),
    reason: str = typer.Option("not-me report", help="Kept in the audit trail."),
    no_lock: bool = typer.Option(False, "--no-lock", help="Do not lock the identity."),
    db: str = _DB,
    registry: Path = _REGISTRY,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a victim's 'not me' report: mark applications, freeze collection, lock, mark attacker elements."""
    from fengkong.fraud.locks import LockError

    tok = _token(id_token, id_number)
    events = _world(world)
    try:
        out = _locks(db, registry).report_not_me(tok, application, events, actor=actor, reason=reason,
                                              lock=not no_lock)
    except LockError as exc:
        fail(f"{exc}")
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"marked {len(out['applications'])} applications, froze collection on {len(out['frozen_loans'])} "
               f"loans, {len(out['risky_elements'])} elements marked risky, identity locked: {out['locked']}")


@fraud_app.command("audit")
def audit(
    id_token: str = typer.Option(None, "--id-token"),
    id_number: str = typer.Option(None, "--id-number"),
    db: str = _DB,
    registry: Path = _REGISTRY,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print the audit trail of identity locks and 'not me' reports (all, or one identity)."""
    from fengkong.events import pii
    from fengkong.fraud.locks import IdentityLocks

    tok = _token(id_token, id_number) if (id_token or id_number) else None
    rows = IdentityLocks(registry_path(db, registry)).audit(tok)
    if as_json:
        typer.echo(json.dumps({"audit": rows}, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"{r['seq']:>5} {r['ts']} {r['action']:<7} {pii.mask_token(r['id_token'])} {r['actor']:<6} "
                   f"{r['reason']} {json.dumps(r['detail'], ensure_ascii=False)}")


def register(app: typer.Typer) -> None:
    app.add_typer(fraud_app, name="fraud")
