"""The public API: ``import fengkong as fk`` names, lazily loaded, and the CLI calling the same functions."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fengkong as fk


def test_every_public_name_resolves():
    for name in fk.__all__:
        assert getattr(fk, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fk.nope  # noqa: B018


def test_import_is_cheap():
    """``import fengkong`` loads neither Polars nor the engine until a name is used."""
    code = "import sys, fengkong; print('polars' in sys.modules, 'fengkong.engine' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_command_line_start_does_not_load_the_model_stack():
    """Registering every command (what each ``fengkong`` call does first) loads no scikit-learn, SciPy or
    pandas: the docs and the suite start the command line hundreds of times."""
    code = ("import sys, fengkong.cli as c; c._register_all(); "
            "print([m for m in ('sklearn', 'scipy', 'pandas', 'lightgbm') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    from fengkong.modeling import Scorecard

    assert Scorecard.__module__ == "fengkong.modeling.scorecard"


def test_backfill_names_select_columns_and_unknown_is_an_error(tmp_path):
    world = fk.simulate(tmp_path / "w", customers=300, months=3, seed=3)
    ev = fk.read_world(world)
    assert fk.backfill(ev, names=["app_cnt_id_7d"]).columns == ["event_id", "app_cnt_id_7d"]
    with pytest.raises(ValueError, match="no feature named 'nope'"):
        fk.backfill(ev, names=["app_cnt_id_7d", "nope"])
    res = fk.backtest(fk.example_strategy("application"), world)
    assert res.n == ev.filter(ev["event_type"] == "application").height
    with pytest.raises(ValueError, match="no shipped strategy for 'x'"):
        fk.example_strategy("x")


def test_the_backtest_command_is_the_api_function(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import fengkong.api as api
    from fengkong.cli import _register_all, app

    if not any(getattr(c, "name", None) == "backtest" for c in app.registered_commands):
        _register_all()
    world = fk.simulate(tmp_path / "w", customers=200, months=3, seed=5)
    seen = []
    real = api.backtest

    def spy(*a, **kw):
        seen.append(a[1])
        return real(*a, **kw)

    monkeypatch.setattr(api, "backtest", spy)
    r = CliRunner().invoke(app, ["backtest", str(fk.example_strategy("application")), "--events", str(world),
                                 "--json"])
    assert r.exit_code == 0, r.output
    assert seen == [world]


def test_simulate_validates_like_the_command(tmp_path):
    from fengkong.simulate import SimConfigError
    from fengkong.simulate.options import config_from_options

    with pytest.raises(SimConfigError, match="parameter 'months'"):
        fk.simulate(tmp_path / "w", customers=100, months=1)
    with pytest.raises(SimConfigError, match="parameter 'nope'"):
        fk.simulate(tmp_path / "w", customers=100, nope=3)
    cfg = config_from_options({"customers": 150, "start": "2026-02-01", "other": 1},
                              ["theft-rate=0.05", "attacker_device_reuse=false"])
    assert (cfg.customers, cfg.start.isoformat(), cfg.theft_rate, cfg.attacker_device_reuse) == (
        150, "2026-02-01", 0.05, False)
    with pytest.raises(SimConfigError, match="parameter 'theft_rate': cannot parse 'x'"):
        config_from_options({}, ["theft_rate=x"])
    with pytest.raises(SimConfigError, match="parameter 'start': not an ISO date"):
        config_from_options({"start": "2026/02/01"})


def test_validate_strategies_is_the_validate_command(tmp_path):
    good = fk.example_strategy("application")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nversion: 1\nevent_type: application\nnodes: []\n", encoding="utf-8")
    res = fk.validate_strategies([good, bad])
    assert res["ok"] is False and [r["ok"] for r in res["results"]] == [True, False]
    assert res["results"][0]["event_type"] == "application" and res["results"][1]["file"] == str(bad)
    assert fk.validate_strategies([good])["ok"] is True
