"""Demo data for the console: cases from the demo's review decisions, demo users, a challenger strategy version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Demo users (one per role) and their shared password, printed by the demo.
DEMO_PASSWORD = "fengkong-demo"
DEMO_USERS = {"reviewer": ("reviewer",), "reviewer2": ("reviewer",), "supervisor": ("supervisor", "reviewer"),
              "investigator": ("investigator",), "analyst": ("analyst",), "deployer": ("deployer", "analyst"),
              "compliance": ("compliance",), "admin": ("admin",)}


def ring_cases(store: Any, world: Path, top: int = 3, events: Any = None) -> int:
    """Open a ``ring`` case for each of the ``top`` rings the fraud pack detects in the world (``events``: the
    world's events when already read)."""
    from fengkong import casework
    from fengkong.events.files import read_world
    from fengkong.fraud.rings import detect_rings, ring_report

    if events is None:
        events = read_world(world)
    rings, members = detect_rings(events)
    before = sum(store.cases.counts().values())
    for r in ring_report(events, rings, members, top=top):
        casework.case_from_ring(store, r)
    return sum(store.cases.counts().values()) - before


def seed_console(store: Any, world: Path, password: str = DEMO_PASSWORD, events: Any = None) -> dict[str, int]:
    """Fill the console's demo: users, a case per review decision, and a challenger strategy version
    (``events``: the world's events when already read)."""
    from fengkong import casework
    from fengkong.deploy import Deployments
    from fengkong.store import UserError

    users = 0
    for name, roles in DEMO_USERS.items():
        try:
            store.users.add(name, password, roles, display_name=name)
            users += 1
        except UserError:
            pass
    opened = casework.cases_from_decisions(store, casework.review_events(world, store, events))
    opened += ring_cases(store, world, top=3, events=events)
    challenger = 0
    dep = Deployments(store)
    for sv in list(store.versions.list()):
        if sv.event_type != "application" or "-demo" in sv.version:
            continue
        from fengkong.strategy import strategy_from_text

        text = sv.source.replace(f'version: "{sv.version}"', f'version: "{sv.version}-demo"', 1)
        text = text.replace("form_fill_seconds < 30", "form_fill_seconds < 20", 1)
        if text == sv.source:
            continue
        s = strategy_from_text(text, f"{sv.name}@{sv.version}-demo", artifacts=sv.artifacts)
        _, created = dep.deploy(s, actor="analyst")
        if created:
            dep.activate(s.name, s.version, "challenger", actor="analyst", percent=10)
            challenger += 1
        break
    return {"users": users, "cases": opened, "challengers": challenger}


def baseline_option(out: Path) -> str:
    """`` --baseline DIR`` for the first model directory under ``out`` that holds a development sample (what
    ``fengkong scorecard fit --out`` writes), else ``""``."""
    from fengkong.console.baseline import DEV_SCORES

    found = sorted(p.parent for p in out.glob(f"*/{DEV_SCORES}"))
    return f" --baseline {found[0]}" if found else ""


def stage_console(out: Path, store: Any, console: Any, events: Any = None) -> dict[str, int]:
    """The console: cases, a ring, strategy versions and compliance pages filled from the demo world."""
    from fengkong.console import rollup

    with console.status("console: opening cases from the review decisions and the top rings, folding the "
                        "monitoring rollup…"):
        res = seed_console(store, out / "world", events=events)
        rollup.refresh(store, max_rows=10_000_000)
    console.print(f"Console: {res['cases']} cases opened from review decisions, {res['users']} demo users, "
                  f"{res['challengers']} challenger version.")
    console.print(f"Start it with [bold]fengkong serve --db sqlite:///{out / 'fengkong.db'} --world {out / 'world'}"
                  f"{baseline_option(out)}[/bold], then open [bold]http://127.0.0.1:8000/console[/bold] and log in as "
                  f"[bold]reviewer[/bold] / [bold]{DEMO_PASSWORD}[/bold] (also: supervisor, investigator, analyst, "
                  f"deployer, compliance, admin; same password).")
    return res
