"""CLI: ``fengkong decide``, ``strategy validate|deploy|activate|rollback|list|diff|examples``,
``backtest``, ``audit verify`` and ``lists add|remove|show``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from fengkong.errors import InputError, fail, print_error
from fengkong.strategy import SHIPPED

strategy_app = typer.Typer(help="Validate, deploy, activate and roll back strategies.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the decision audit log.", no_args_is_help=True)
lists_app = typer.Typer(help="Block / allow / watch lists used by in_list() in strategies.", no_args_is_help=True)

DB_HELP = "Store URL (SQLAlchemy); default $FENGKONG_DB or ./fengkong.db."


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _store(db: str | None) -> Any:
    from fengkong.store import open_error_line, open_store

    try:
        return open_store(db)
    except Exception as exc:
        fail(open_error_line(exc))


def _kinds() -> dict[str, str]:
    """Feature kinds a strategy may use: the standard library plus every registered feature provider's."""
    from fengkong.runtime import strategy_kinds

    return strategy_kinds()


def _load_ref(ref: str, db: str | None, features: Any = None) -> Any:
    """A strategy from a file path, or ``name@version`` (or ``name`` = latest) from the store."""
    from fengkong.strategy import StrategyError, load_strategy, strategy_from_text

    if features is None:
        features = _kinds()

    p = Path(ref)
    try:
        if p.exists():
            return load_strategy(p, features=features)
        st = _store(db)
        name, _, version = ref.partition("@")
        sv = st.versions.get(name, version) if version else st.versions.latest(name)
        if sv is None:
            fail(f"{ref!r} is neither a file nor a deployed strategy")
        return strategy_from_text(sv.source, f"{sv.name}@{sv.version}", features=features, artifacts=sv.artifacts)
    except StrategyError as exc:
        fail(str(exc))


# ---------------------------------------------------------------- decide


def _read_events(source: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON or an Exception) for each event of a file / stdin; a bad file exits 2."""
    from fengkong.events.jsonstream import EventSourceError, event_records

    records = event_records(source)
    try:
        first = next(records, None)  # the source as a whole is checked before the first record
    except EventSourceError as exc:
        fail(str(exc))
    if first is not None:
        yield first
        yield from records


def _feature_engine(state: str | None, no_features: bool, db: str | None = None) -> Any:
    if no_features:
        return None
    from fengkong.runtime import open_feature_state

    return open_feature_state(state, db)


def _pretty(d: Any) -> str:
    colour = {"approve": "green", "allow": "green", "reject": "red", "review": "yellow"}.get(d.outcome, "white")
    outs = " ".join(f"{k}={v}" for k, v in d.outputs.items())
    scores = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.scores.items())
    reasons = ",".join(d.reason_codes) or "-"
    extra = " (stored)" if d.replayed else ""
    return (f"{d.request_id}  [{colour}]{d.outcome.upper()}[/{colour}]  {outs}  {scores}  reasons={reasons}  "
            f"[dim]{d.strategy}@{d.version} {d.role} {d.latency_ms:.2f} ms{extra}[/dim]")


_STATE_HELP = ("Feature state: SQLite path (default $FENGKONG_STATE or ./fengkong_state.db), 'memory', or a "
               "redis:// URL.")


def decide(
    source: str = typer.Argument(..., help="EVENT.json, a JSON Lines file, or - to read JSON Lines from stdin."),
    strategy: Path = typer.Option(None, "--strategy", help="Use this strategy file instead of the active one."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    state: str = typer.Option(None, "--state", help=_STATE_HELP),
    no_features: bool = typer.Option(False, "--no-features", help="Decide without online feature state."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per decision."),
) -> None:
    """Decide events with the active strategy of their type; every decision is recorded before it is printed.

    Exit 0 when every event was decided, 1 when some events were invalid, late (older than the state's
    newest event minus the late tolerance) or ahead of this machine's clock (each named on stderr, then a
    count), 2 for a bad input file, 3 when the store failed: the decisions printed before the error line are
    recorded; the event named in it and the ones after it were not decided and must be sent again. Events
    of a type with no active strategy are errors here; `fengkong ingest` folds them into the state."""
    _run(source, strategy, db, state, no_features, json_out, ingest=False)


def ingest(
    source: str = typer.Argument(..., help="EVENT.json, a JSON Lines file, or - to read JSON Lines from stdin."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    state: str = typer.Option(None, "--state", help=_STATE_HELP),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per event."),
) -> None:
    """Feed a stream of every event type: decide those with an active strategy, fold the rest into the
    feature state and record them as ingested. Exit status as for `fengkong decide`."""
    _run(source, None, db, state, False, json_out, ingest=True)


#: Events decided per group commit by `fengkong decide FILE` (results are printed after each group's commit).
_GROUP = 256


def _run(source: str, strategy: Path | None, db: str | None, state: str | None, no_features: bool,
         json_out: bool, ingest: bool) -> None:
    from fengkong.engine import Engine
    from fengkong.engine.stream import StreamStoreError, decide_stream
    from fengkong.runtime import StateInUseError, claim_state

    out = _console()
    err = _console(stderr=True)
    try:
        held = None if no_features else claim_state(state)
    except StateInUseError as exc:
        fail(str(exc))
    st = _store(db)
    fixed = _load_ref(str(strategy), db) if strategy else None
    eng = Engine(st, _feature_engine(state, no_features, db), strategy=fixed)
    failures = total = ingested = 0

    def counted() -> Iterator[tuple[int, Any]]:
        nonlocal total
        for rec in _read_events(source):
            total += 1
            yield rec

    def show(n: int, obj: Any, d: Any, error: str | None) -> None:
        nonlocal failures, ingested
        if error is not None:
            failures += 1
            print_error(error)
            return
        if d is None:
            ingested += 1
            if json_out:
                sys.stdout.write(json.dumps({"request_id": obj.get("event_id"), "event_type": obj.get(
                    "event_type"), "decided": False, "ingested": True}) + "\n")
            return
        if json_out:
            sys.stdout.write(json.dumps({**d.to_dict(), "replayed": d.replayed}, ensure_ascii=False,
                                        default=str) + "\n")
        else:
            out.print(_pretty(d))

    try:
        # a file is decided in groups (one commit of the state log and one of the audit log per group);
        # a group's results are printed once both commits are done; standard input one event at a time
        try:
            for results in decide_stream(eng, counted(), ingest=ingest, group=1 if source == "-" else _GROUP):
                for r in results:
                    show(r.line, r.event, r.decision, r.error)
                sys.stdout.flush()
        except StreamStoreError as exc:
            fail(str(exc), 3)
    finally:
        st.close()
        if held is not None:
            held.close()
        if ingest and not json_out:
            err.print(f"{total - failures - ingested} decided, {ingested} ingested without a decision, "
                      f"{failures} failed")
    if failures:
        err.print(f"{failures} of {total} events failed (not decided, not recorded)")
        raise typer.Exit(1)


# ---------------------------------------------------------------- strategy


@strategy_app.command("validate")
def validate(files: list[Path] = typer.Argument(..., help="Strategy YAML files."),
             events: Path = typer.Option(None, "--events", exists=True, file_okay=False,
                                         help="Also report, on this world / event directory, how often each "
                                              "rule's inputs are missing (a rule whose input is always "
                                              "missing can never fire as written)."),
             json_out: bool = typer.Option(False, "--json")) -> None:
    """Type-check strategy files against the event schema and the feature library."""
    from fengkong.api import validate_strategies

    try:
        checked = validate_strategies(files, events)
    except ValueError as exc:  # the --events directory
        fail(f"--events: {exc}")
    ok, results = checked["ok"], checked["results"]
    if json_out:
        typer.echo(json.dumps({"ok": ok, "results": results}))
    else:
        con = _console()
        for r in results:
            if r["ok"]:
                con.print(f"[green]ok[/green] {r['file']}: {r['name']} v{r['version']} ({r['event_type']}, "
                          f"{r['nodes']} nodes, {r['rules']} rules)")
                for w in r.get("warnings", []):
                    con.print(f"  [yellow]warning:[/yellow] {w}", markup=True)
                if "inputs" in r:
                    _print_coverage(con, r["inputs"])
            else:
                print_error(r["error"])
    raise typer.Exit(0 if ok else 2)


def _print_coverage(con: Any, rows: list[dict]) -> None:
    from rich.table import Table

    t = Table("rule", "input", "source", "missing", box=None, padding=(0, 2))
    for x in rows:
        share = "-" if x["null_share"] is None else f"{x['null_share']:.1%}"
        t.add_row(x["rule"], x["input"], x["source"], share)
    con.print(t)


@strategy_app.command("deploy")
def deploy(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    activate: bool = typer.Option(False, "--activate", help="Make it the champion of its event type."),
    challenger: float = typer.Option(None, "--challenger", help="Route this percentage of traffic to it."),
    shadow: bool = typer.Option(False, "--shadow", help="Evaluate and log it, never change the outcome."),
    split_key: str = typer.Option(None, "--split-key", help="Event field hashed for the split (customer_id)."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Validate and store a strategy version (immutable once deployed); optionally activate it.

    Every step goes into the admin log (actor ``cli:<user>``). With ``FENGKONG_FOUR_EYES=1`` a champion change
    waits for a second deployer (``fengkong deploys approve``), as in the service."""
    from fengkong.deploy import DeployError

    s = _load_ref(str(file), db)
    st = _store(db)
    d = _deployments(st)
    try:
        sv, created = d.deploy(s, _actor())
        con = _console()
        con.print(f"{'deployed' if created else 'already deployed'} {sv.name} v{sv.version} "
                  f"(sha256 {sv.sha256[:12]})")
        role = "champion" if activate else "challenger" if challenger else "shadow" if shadow else None
        if role:
            res = d.activate(sv.name, sv.version, role, _actor(), challenger or 0.0, split_key)
            con.print(_activation_text(res, f"{role} is now {sv.name} v{sv.version}"))
    except DeployError as exc:
        fail(str(exc))
    finally:
        st.close()


def _actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


def _deployments(st: Any) -> Any:
    from fengkong.deploy import Deployments
    from fengkong.settings import current

    return Deployments(st, four_eyes=current().four_eyes)


def _activation_text(res: Any, applied: str) -> str:
    if res.status == "pending":
        return (f"{res.route}: champion change waits for a second deployer: request {res.request.id} "
                f"(`fengkong deploys approve {res.request.id} --user NAME`)")
    return f"{res.route}: {applied}"


@strategy_app.command("activate")
def activate_cmd(
    name: str = typer.Argument(...), version: str = typer.Argument(...),
    challenger: float = typer.Option(None, "--challenger"), shadow: bool = typer.Option(False, "--shadow"),
    off: bool = typer.Option(False, "--off", help="Remove it as challenger/shadow."),
    split_key: str = typer.Option(None, "--split-key"), db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Make a deployed version champion (default), challenger, or shadow of its route (admin-logged)."""
    from fengkong.deploy import DeployError

    role = "off" if off else "challenger" if challenger else "shadow" if shadow else "champion"
    st = _store(db)
    try:
        res = _deployments(st).activate(name, version, role, _actor(), challenger or 0.0, split_key)
        cfg = res.routing
        _console().print(_activation_text(res, f"champion {cfg.champion}, challengers {cfg.challengers}, "
                                               f"shadows {cfg.shadows}" if cfg else ""))
    except DeployError as exc:
        fail(str(exc))
    finally:
        st.close()


@strategy_app.command("rollback")
def rollback(target: str = typer.Argument(..., help="Route (event type[/product]) or strategy name."),
             db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Restore the routing in force before the last change (one command, recorded in the history)."""
    from fengkong.deploy import DeployError

    st = _store(db)
    try:
        route, cfg = _deployments(st).rollback(target, _actor())
        _console().print(f"{route}: rolled back; champion is now {cfg.champion[0]} v{cfg.champion[1]}"
                         if cfg.champion else f"{route}: rolled back")
    except DeployError as exc:
        fail(str(exc))
    finally:
        st.close()


@strategy_app.command("list")
def list_cmd(db: str = typer.Option(None, "--db", help=DB_HELP), json_out: bool = typer.Option(False, "--json")) -> None:
    """Deployed versions and what is active per route."""
    from fengkong.deploy import version_rows

    st = _store(db)
    try:
        rows = version_rows(st)
    finally:
        st.close()
    if json_out:
        typer.echo(json.dumps({"versions": rows}))
        return
    from rich.table import Table

    t = Table(title="Strategy versions")
    for c in ("name", "version", "event type", "deployed at", "sha256", "active"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["name"], r["version"], r["event_type"] + (f"/{r['product']}" if r["product"] else ""),
                  r["deployed_at"][:19], r["sha256"][:12], "; ".join(r["active"]))
    _console().print(t)


@strategy_app.command("diff")
def diff(a: str = typer.Argument(..., help="File or name@version."), b: str = typer.Argument(...),
         db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Rules added, removed and changed between two strategies, then the text diff."""
    from fengkong.deploy import diff_strategies

    d = diff_strategies(_load_ref(a, db), _load_ref(b, db))
    con = _console()
    con.print(f"--- {d['a']}\n+++ {d['b']}", markup=False)
    for rid in d["removed"]:
        con.print(f"[red]- rule {rid}[/red]")
    for rid in d["added"]:
        con.print(f"[green]+ rule {rid}[/green]")
    for c in d["changed"]:
        con.print(f"[yellow]~ rule {c['rule']}[/yellow]: {c['action'][0]} → {c['action'][1]}; "
                  f"{c['when'][0]!r} → {c['when'][1]!r}", markup=True)
    for line in d["text"]:
        typer.echo(line)


@strategy_app.command("examples")
def examples(directory: Path = typer.Argument(..., help="Where to copy the shipped reference strategies.")) -> None:
    """Copy the shipped reference strategies (application, purchase) into DIRECTORY."""
    import shutil

    from fengkong.outpath import check_out

    check_out(directory, "DIRECTORY", kind="dir")
    directory.mkdir(exist_ok=True)
    for f in sorted(SHIPPED.glob("*.yaml")):
        shutil.copy(f, directory / f.name)
        _console().print(f"wrote {directory / f.name}")


# ---------------------------------------------------------------- backtest


def backtest(
    strategy: str = typer.Argument(..., help="Strategy file or name@version."),
    events: Path = typer.Option(..., "--events", exists=True, file_okay=False, help="World directory of events."),
    labels: Path = typer.Option(None, "--labels", help="event_id + bad (default: DIR/outcomes.parquet if present)."),
    against: str = typer.Option(None, "--against", help="Second strategy for the swap-set comparison."),
    out: Path = typer.Option(None, "--out", help="Write CSV files and report.html here."),
    db: str = typer.Option(None, "--db", help="Store to read lists from (default: no lists)."),
    json_out: bool = typer.Option(False, "--json"),
    engine: str = typer.Option("polars", "--engine", help="polars or spark (docs/spark.md)."),
    master: str = typer.Option(None, "--master", help="Spark master, e.g. local[2] (engine spark)."),
    extra_features: Path = typer.Option(None, "--extra-features", help="Spark: Parquet of event_id + features "
                                        "with no Spark twin (e.g. a provider's)."),
) -> None:
    """Vectorised backtest with point-in-time features: outcome mix, rule hits, bad rates, swap set."""
    from fengkong.outpath import check_out

    check_out(out, kind="dir")
    if engine != "polars":
        from fengkong.packs import engine_task

        try:
            backtest_spark = engine_task(engine, "backtest")
        except InputError as exc:
            fail(str(exc))
        s, other = _load_ref(strategy, db), (_load_ref(against, db) if against else None)
        lists = _store(db).lists.snapshot() if db else {}
        backtest_spark(s, other, events, labels, out, master, extra_features, lists, json_out, _console(stderr=json_out))
        return
    from fengkong.api import backtest as run_backtest
    from fengkong.strategy import backtest as bt

    s = _load_ref(strategy, db)
    other = _load_ref(against, db) if against else None
    con = _console(stderr=json_out)
    lists = _store(db).lists.snapshot() if db else {}
    with con.status("reading events, backfilling features and deciding…"):
        res = run_backtest(s, events, labels, other, lists, db=db)
    if out:
        paths = bt.write_csv(res, out)
        paths.append(bt.write_html(res, out / "report.html"))
        con.print("wrote " + ", ".join(str(p) for p in paths))
    if json_out:
        typer.echo(json.dumps(res.summary(), default=str))
    else:
        bt.print_tables(res, con)


# ---------------------------------------------------------------- audit, lists


@audit_app.command("query")
def audit_query(
    request_id: str = typer.Option(None, "--request-id", help="One decision by its request id."),
    customer: str = typer.Option(None, "--customer", help="Decisions of one customer_id."),
    since: str = typer.Option(None, "--since", help="Event time from (ISO date = whole day, or timestamp)."),
    until: str = typer.Option(None, "--until", help="Event time to (a date is inclusive, a timestamp exclusive)."),
    limit: int = typer.Option(None, "--limit", min=1, help="At most N decisions (default: 50 shown, all exported)."),
    out: Path = typer.Option(None, "--out", help="Export to a .jsonl or .csv file instead of printing."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per decision on stdout."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Decisions of the audit log by request id, customer and event-time range, in chain order (print or export)."""
    from fengkong.outpath import check_out
    from fengkong.store.audit_query import export, query

    check_out(out)
    st = _store(db)
    try:
        rows = query(st, request_id, customer, since, until, limit if (limit or out or json_out) else 50)
        if out is not None:
            n = export(rows, out)
            _console().print(f"{n} decisions written to {out}")
            return
        if json_out:
            for r in rows:
                sys.stdout.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
            return
        from rich.table import Table

        t = Table("seq", "request", "event time", "customer", "strategy", "outcome", "reasons")
        shown = 0
        for r in rows:
            shown += 1
            t.add_row(str(r["seq"]), r["request_id"], (r["event_ts"] or "")[:19], r["customer_id"] or "-",
                      f"{r['strategy']}@{r['version']}", r["outcome"], ",".join(r["reason_codes"]) or "-")
        _console().print(t)
        _console().print(f"{shown} decisions")
    except ValueError as exc:
        fail(str(exc))
    finally:
        st.close()


@audit_app.command("verify")
def audit_verify(db: str = typer.Option(None, "--db", help=DB_HELP), json_out: bool = typer.Option(False, "--json")) -> None:
    """Recompute the keyed chain of the decision log and its signed checkpoints; exit 1 naming the first problem."""
    st = _store(db)
    res = st.decisions.verify()
    st.close()
    if json_out:
        typer.echo(json.dumps(res.__dict__))
    elif res.ok:
        cp = f"last signed checkpoint at seq {res.checkpoint}" if res.checkpoint else "no signed checkpoint yet"
        _console().print(f"[green]ok[/green]: {res.checked} decisions, keyed hash chain intact, {cp}")
    else:
        _console(stderr=True).print(f"[red]broken[/red] at record seq {res.first_bad_seq} "
                                    f"(request {res.request_id}): {res.reason}", markup=True)
    raise typer.Exit(0 if res.ok else 1)


@audit_app.command("seal")
def audit_seal(db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Check the chain (unkeyed records of older stores included), then sign a checkpoint at its head."""
    st = _store(db)
    try:
        res = st.decisions.verify(allow_unsealed=True)
        if not res.ok:
            _console(stderr=True).print(f"[red]not sealed[/red]: broken at record seq {res.first_bad_seq}: "
                                        f"{res.reason}", markup=True)
            raise typer.Exit(1)
        try:
            seq = st.decisions.checkpoint()
        except RuntimeError as exc:  # no audit key
            fail(str(exc))
    finally:
        st.close()
    _console().print(f"[green]sealed[/green]: {res.checked} decisions, signed checkpoint at seq {seq}")


@lists_app.command("add")
def lists_add(name: str, value: str, kind: str = typer.Option("block", help="block | allow | watch"),
              reason: str = typer.Option(None), source: str = typer.Option(None),
              expires_days: float = typer.Option(None, help="Expire after this many days."),
              db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Add a value (a token, never plaintext identity data) to a list."""
    import datetime as dt

    st = _store(db)
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days) if expires_days else None
    try:
        i = st.lists.add(name, value, kind, reason, source, exp)
    except ValueError as exc:
        fail(str(exc))
    st.close()
    _console().print(f"added entry {i} to {name}")


@lists_app.command("remove")
def lists_remove(name: str, value: str, db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Remove a value from a list (the entry is kept, stamped removed)."""
    st = _store(db)
    n = st.lists.remove(name, value)
    st.close()
    _console().print(f"removed {n} entr{'y' if n == 1 else 'ies'}")


@lists_app.command("show")
def lists_show(name: str = typer.Argument(None), db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Active entries (all lists, or one)."""
    st = _store(db)
    for e in st.lists.entries(name):
        typer.echo(f"{e.list_name}\t{e.kind}\t{e.value}\t{e.reason or ''}\t{e.source or ''}\t{e.expires_at or ''}")
    st.close()


def register(app: typer.Typer) -> None:
    app.command("decide")(decide)
    app.command("ingest")(ingest)
    app.command("backtest")(backtest)
    app.add_typer(strategy_app, name="strategy")
    app.add_typer(audit_app, name="audit")
    app.add_typer(lists_app, name="lists")
