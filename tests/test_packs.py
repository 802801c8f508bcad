"""The one pack interface: a pack registered only through ``fengkong.packs`` reaches the features, the strategy
language, ``fengkong evaluate``, ``fengkong demo``, the console and the command line."""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fengkong import packs
from fengkong.packs import DemoSection, Pack, PackError

TOY = {
    "toypack/__init__.py": '"""A pack that lives outside fengkong."""\n',
    "toypack/provider.py": '''
        """Toy features: one constant per event."""

        FEATURE_KINDS = {"toy_constant": "int"}

        class _Online:
            def read_update(self, event):
                return {"toy_constant": 7}

            def close(self):
                pass

        def open_online(ctx):
            return _Online()

        def backfill(events, ctx):
            return events.select("event_id", pl.lit(7).alias("toy_constant"))
        ''',
    "toypack/functions.py": '''
        """Toy strategy function."""
        from fengkong.strategy.functions import register_function

        register_function("toy_double", py=lambda x: x * 2, pl=lambda x: x * 2, args=["num"], returns="num",
                          doc="twice x", replace=True)
        ''',
    "toypack/nodes.py": '''
        """Toy node type: ``band`` puts a number into the band of its cut points (0 below the first)."""

        def band(node):
            cuts = node.get("cuts")
            if not isinstance(cuts, list) or not cuts or sorted(cuts) != cuts:
                raise ValueError("cuts must be a non-empty ascending list of numbers")
            rows = [{"x": {"lt": c}, node["output"]: i} for i, c in enumerate(cuts)]
            rows.append({"x": "-", node["output"]: len(cuts)})
            return {"id": node["id"], "type": "table", "hit_policy": "first", "inputs": {"x": node["input"]},
                    "outputs": [node["output"]], "rows": rows}
        ''',
    "toypack/evaluate.py": '''
        """Toy evaluator."""
        def evaluate_world(world):
            return {"toy_pattern": {"recall": 1.0, "world": str(world)}}

        def render_table(result):
            return "toy pattern recall 1.0"
        ''',
    "toypack/demo.py": '''
        """Toy demo section."""
        def stage_toy(out, console, world):
            """Toy: a pack's own demo section."""
            (out / "toy.txt").write_text("toy was here")
            console.print("toy section ran")
        ''',
    "toypack/cli.py": '''
        """Toy commands."""
        import typer

        toy_app = typer.Typer(no_args_is_help=True)

        @toy_app.command("hello")
        def hello() -> None:
            typer.echo("hello from the toy pack")

        def register(app):
            app.add_typer(toy_app, name="toy")
        ''',
    "toypack/pages.py": '''
        """Toy console page: uses only the router and console handed to it."""
        from fastapi.responses import PlainTextResponse

        def add_routes(router, console):
            @router.get("/toy")
            def toy_page():
                return PlainTextResponse("toy page")
        ''',
    "toypack/engine.py": '''
        """Toy execution engine: each task writes what it was handed."""
        import json

        def backfill(events, out, features, master, as_json):
            out.mkdir(parents=True, exist_ok=True)
            (out / "task.json").write_text(json.dumps({"task": "backfill", "events": str(events), "master": master}))

        def score(model, data, out, master, as_json):
            out.mkdir(parents=True, exist_ok=True)
            (out / "task.json").write_text(json.dumps({"task": "score", "data": str(data)}))

        def backtest(strategy, against, events, labels, out, master, extra, lists, as_json, console):
            out.mkdir(parents=True, exist_ok=True)
            (out / "task.json").write_text(json.dumps({"task": "backtest", "strategy": strategy.name}))
        ''',
    "toypack/pack.py": '''
        """The toy pack's one registration."""
        from fengkong.packs import DemoSection, Pack

        PACK = Pack(name="toy", description="a toy", features="toypack.provider",
                    strategy_functions=("toypack.functions",), strategy_node_types={"band": "toypack.nodes:band"},
                    lists={"toy_list": "toys"},
                    evaluator="toypack.evaluate", demo=(DemoSection("toypack.demo:stage_toy", order=45),),
                    console_pages=("toypack.pages",), cli=("toypack.cli",),
                    engines={"toy": {t: f"toypack.engine:{t}" for t in ("backfill", "score", "backtest")}})
        ''',
}


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy package on the path and registered in-process (as its entry point would register it)."""
    for rel, text in TOY.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    from importlib import import_module

    unregister = packs.register_pack(import_module("toypack.pack").PACK)
    yield tmp_path
    unregister()
    for name in [m for m in sys.modules if m == "toypack" or m.startswith("toypack.")]:
        del sys.modules[name]


def test_the_toy_pack_is_registered_and_removable(toy):
    assert packs.get("toy") is not None and "toy" in [p.name for p in packs.packs()]
    assert {"fraud", "pricing", "postloan", "complaints", "collections"} <= {p.name for p in packs.packs()}


def test_its_features_and_functions_reach_strategies(toy):
    from fengkong.features.providers import combined_kinds, provider_modules
    from fengkong.strategy.functions import lookup

    assert "toypack.provider" in [m.__name__ for m in provider_modules()]
    assert combined_kinds()["toy_constant"] == "int"
    assert lookup("toy_double") is not None and lookup("toy_double").doc == "twice x"
    import datetime as dt

    from fengkong.events import TZ
    from fengkong.runtime import strategy_kinds
    from fengkong.strategy import strategy_from_text

    text = (
        "name: t\nversion: 1\nevent_type: application\nnodes:\n  - id: r\n    type: ruleset\n    rules:\n"
        "      - id: A\n        when: toy_double(toy_constant) > 10\n        action: review\n"
    )
    s = strategy_from_text(text, "toy.yaml", features=strategy_kinds())
    ev = {
        "event_id": "e",
        "event_type": "application",
        "ts": dt.datetime(2026, 1, 1, tzinfo=TZ),
        "customer_id": "c",
    }
    assert s.evaluate(ev, {"toy_constant": 7}).outcome == "review"
    assert s.evaluate(ev, {"toy_constant": 5}).outcome == "approve"


BAND = """
name: banded
version: 1
event_type: application
nodes:
  - id: amount_band
    type: band
    input: amount_fen / 100
    cuts: [1000, 5000]
    output: band
  - id: r
    type: ruleset
    rules:
      - {id: BIG, when: band >= 2, action: review}
      - {id: SMALL, when: band == 0, action: flag}
"""


def test_its_node_type_is_validated_and_decided_on_both_paths(toy):
    import datetime as dt

    import polars as pl

    from fengkong.events import TZ
    from fengkong.strategy import strategy_from_text
    from fengkong.strategy.errors import StrategyError
    from fengkong.strategy.node_types import node_type_names

    assert node_type_names()[-1] == "band" and "band" in packs.get("toy").contributions()["strategy_node_types"]
    s = strategy_from_text(BAND, "band.yaml")
    assert s.spec.nodes["amount_band"].type == "table"  # lowered to a core node
    ts = dt.datetime(2026, 1, 1, tzinfo=TZ)
    evs = [{"event_id": f"e{i}", "event_type": "application", "ts": ts, "customer_id": "c", "amount_fen": a}
           for i, a in enumerate((50_000, 300_000, 900_000))]
    assert [s.evaluate(e, {}).outcome for e in evs] == ["approve", "approve", "review"]
    assert [s.evaluate(e, {}).rules_hit for e in evs] == [["SMALL"], [], ["BIG"]]
    frame = s.evaluate_frame(pl.DataFrame(evs))
    assert frame["outcome"].to_list() == ["approve", "approve", "review"]
    assert frame["rules_hit"].to_list() == [["SMALL"], [], ["BIG"]]
    with pytest.raises(StrategyError, match=r"band 'amount_band': cuts must be a non-empty ascending list") as e:
        strategy_from_text(BAND.replace("[1000, 5000]", "[5000, 1000]"), "band.yaml")
    assert e.value.line == 6  # where the node is written
    with pytest.raises(StrategyError, match=r"unknown name 'amount_yuan'"):  # the lowered node is type-checked
        strategy_from_text(BAND.replace("amount_fen / 100", "amount_yuan"), "band.yaml")
    with pytest.raises(StrategyError, match=r"unknown type 'bands' \(one of ruleset, .*, assign, band\)"):
        strategy_from_text(BAND.replace("type: band", "type: bands"), "band.yaml")


def test_a_node_type_must_lower_to_a_core_node(toy):
    from fengkong.strategy import strategy_from_text
    from fengkong.strategy.node_types import pack_node_types

    unregister = packs.register_pack(Pack(name="clash", strategy_node_types={"table": "toypack.nodes:band"}))
    try:
        with pytest.raises(PackError, match="'table' is a core node type"):
            pack_node_types()
    finally:
        unregister()
    from importlib import import_module

    import_module("toypack.nodes").bad = lambda node: {"id": node["id"], "type": "band"}
    unregister = packs.register_pack(Pack(name="bad", strategy_node_types={"bad": "toypack.nodes:bad"}))
    try:
        with pytest.raises(PackError, match="must return the mapping of a core node"):
            strategy_from_text(BAND.replace("type: band", "type: bad"), "band.yaml")
    finally:
        unregister()


def test_its_commands_appear_in_the_cli(toy):
    import fengkong.cli as cli

    app = typer.Typer()
    for name in cli.command_modules():
        __import__(name, fromlist=["register"]).register(app)
    app.command("packs")(cli.packs_command)
    r = CliRunner().invoke(app, ["toy", "hello"])
    assert r.exit_code == 0 and r.output.strip() == "hello from the toy pack"
    r = CliRunner().invoke(app, ["packs"])
    assert r.exit_code == 0 and "toy: a toy" in r.output and "lists: toy_list" in r.output


def test_its_engine_runs_backfill_score_and_backtest(toy, tmp_path):
    import json

    import numpy as np
    import polars as pl

    import fengkong.cli as cli

    app = typer.Typer()
    for name in cli.command_modules():
        __import__(name, fromlist=["register"]).register(app)
    events = tmp_path / "w"
    events.mkdir()
    x = np.random.default_rng(0).normal(size=400)
    pl.DataFrame({"x": x, "bad": (x + np.random.default_rng(1).normal(size=400) > 1).astype(int)}).write_csv(
        tmp_path / "d.csv")
    run = CliRunner()
    fit = run.invoke(app, ["scorecard", "fit", "--data", str(tmp_path / "d.csv"), "--target", "bad",
                           "--out", str(tmp_path / "m")])
    assert fit.exit_code == 0, fit.output
    cmds = {"backfill": ["features", "backfill", "--events", str(events), "--out", str(tmp_path / "o1"),
                         "--engine", "toy", "--master", "local[1]"],
            "score": ["scorecard", "score", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "d.csv"),
                      "--out", str(tmp_path / "o2"), "--engine", "toy"],
            "backtest": ["backtest", str(Path(packs.__file__).parent / "strategies" / "application.yaml"), "--events", str(events),
                         "--out", str(tmp_path / "o3"), "--engine", "toy"]}
    for i, (task, argv) in enumerate(cmds.items(), 1):
        r = run.invoke(app, argv)
        assert r.exit_code == 0, (task, r.output)
        assert json.loads((tmp_path / f"o{i}" / "task.json").read_text())["task"] == task
    r = run.invoke(app, ["features", "backfill", "--events", str(events), "--out", str(tmp_path / "o4"), "--engine", "dask"])
    assert r.exit_code == 2 and "--engine 'dask': not one of polars, " in r.output and "toy" in r.output


def test_it_is_evaluated_by_fengkong_evaluate(toy, tmp_path):
    from fengkong import evaluate_cli
    from fengkong.evaluation import evaluate_packs

    merged, texts = evaluate_packs(tmp_path, ["toy"])
    assert merged == {"toy_pattern": {"recall": 1.0, "world": str(tmp_path)}} and texts == [
        "toy pattern recall 1.0"
    ]
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command is called by its name as under `fengkong`
    evaluate_cli.register(app)
    r = CliRunner().invoke(app, ["evaluate", "--world", str(tmp_path), "--pack", "toy"])
    assert r.exit_code == 0 and r.output.strip() == "toy pattern recall 1.0"


def test_its_section_runs_in_the_demo_in_order(toy, tmp_path):
    from rich.console import Console

    from fengkong import demo

    titles = [t for t, _ in demo.stages()]
    assert titles.index("Toy") == titles.index("Decisions") + 1 < titles.index("Fraud")
    assert titles[0].startswith("Simulate") and titles[-1].startswith("The decision service")
    run = dict(demo.stages())["Toy"]
    console = Console(record=True)
    run(tmp_path, demo.DemoConfig(), console, demo.DemoWorld(tmp_path))
    assert (tmp_path / "toy.txt").read_text() == "toy was here" and "toy section ran" in console.export_text()


def test_its_console_page_is_mounted(toy):
    from fengkong.console.app import page_modules

    names = [m.__name__ for m in page_modules()]
    assert "toypack.pages" in names and "fengkong.console.pages_rings" in names


def test_an_unregistered_pack_is_gone(toy):
    from fengkong.features.providers import provider_modules

    unregister = packs.register_pack(Pack(name="toy"))  # the same name replaces it: nothing contributed any more
    assert "toypack.provider" not in [m.__name__ for m in provider_modules()]
    unregister()  # (the fixture's own unregister removes only the pack it registered)
    assert packs.get("toy") is None


def test_entry_points_are_read_and_a_bad_one_is_an_error(monkeypatch):
    good = Pack(name="ep_pack", evaluator="x")
    ep = types.SimpleNamespace(name="ep_pack", value="somewhere:PACK", load=lambda: good)
    bad = types.SimpleNamespace(name="bad", value="somewhere:NOT", load=lambda: object())
    monkeypatch.setattr(packs, "_entry_points", lambda group: [ep] if group == packs.GROUP else [])
    assert packs._from_metadata() == {"ep_pack": good}
    monkeypatch.setattr(packs, "_entry_points", lambda group: [ep, bad] if group == packs.GROUP else [])
    with pytest.raises(PackError, match=r"entry point bad .* is not a fengkong\.packs\.Pack"):
        packs._from_metadata()


def test_metadata_from_before_the_packs_group_finds_each_pack_module(monkeypatch):
    legacy = types.SimpleNamespace(name="fraud", value="fengkong.fraud.provider")
    monkeypatch.setattr(
        packs, "_entry_points", lambda group: [legacy] if group == "fengkong.feature_providers" else []
    )
    found = packs._from_metadata()
    assert list(found) == ["fraud"] and found["fraud"].cli == ("fengkong.fraud.cli",)


def test_declared_lists_are_the_names_the_packs_write():
    from fengkong.collections.provider import FREEZE_LIST
    from fengkong.complaints.notme import ACCOUNT_LIST
    from fengkong.fraud.locks import LOCK_LIST
    from fengkong.fraud.rings import RING_ELEMENT_LIST, RING_MEMBER_LIST

    assert set(packs.get("fraud").lists) == {LOCK_LIST, RING_MEMBER_LIST, RING_ELEMENT_LIST}
    assert set(packs.get("complaints").lists) == {FREEZE_LIST, ACCOUNT_LIST}
    assert set(packs.get("collections").lists) == {FREEZE_LIST}


def test_demo_section_and_bad_reference():
    assert DemoSection("m:f").order == 60
    with pytest.raises(PackError, match=r"fengkong\.packs has no nope"):
        packs.load("fengkong.packs:nope")
