"""Spark backtests and batch scoring = their Polars twins, decision for decision; the --engine spark CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from fengkong.cli import _register_all, app
from fengkong.events.files import read_world
from fengkong.features.providers import ProviderContext, provider_modules
from fengkong.strategy import backtest as pbt
from fengkong.strategy.compiled import load_strategy

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]  # one worker, one JVM
_register_all()

SRC = Path(__file__).parents[2] / "src" / "fengkong"
REFERENCE = [SRC / "strategies" / "application.yaml", SRC / "strategies" / "purchase.yaml",
             SRC / "fraud" / "strategies" / "application_fraud.yaml"]


@pytest.fixture(scope="module")
def world_frames(spark, spark_world):
    from fengkong.spark.io import read_events

    events = read_world(spark_world)
    provider = pl.concat([m.backfill(events, ProviderContext()) for m in provider_modules()], how="align")
    return events, provider, read_events(spark, str(spark_world)), spark.createDataFrame(provider.to_arrow())


@pytest.mark.parametrize("target", ["columns", "arrow"])
@pytest.mark.parametrize("path", REFERENCE, ids=lambda p: p.stem)
def test_reference_strategy_decision_for_decision(spark, spark_world, world_frames, spark_world_features, path,
                                                  target):
    from fengkong.spark import backtest as sbt

    events, _, sev, sprov = world_frames
    feats = spark_world_features.drop("date")
    s = load_strategy(path)
    against = load_strategy(REFERENCE[2] if path != REFERENCE[2] else REFERENCE[0])
    against = against if against.event_type == s.event_type else None
    labels = pbt.load_labels(spark_world / "outcomes.parquet")
    pframe = pbt.prepare_frame(events, s)
    frame = sbt.prepare_frame(sev, s, features=feats, extra_features=sprov)
    if against is not None:  # both strategies see all their features
        extra = [f"__f.{c}" for c in sorted(set(against.used_features) - set(s.used_features))]
        pframe = pframe.join(pbt.prepare_frame(events, against).select("event_id", *extra), on="event_id",
                             how="left", maintain_order="left")
        frame = frame.join(sbt.prepare_frame(sev, against, features=feats, extra_features=sprov).select(
            "event_id", *[f"`{c}`" for c in extra]), "event_id", "left")
    ref = pbt.run(s, pframe, labels, against)
    got = sbt.run(s, frame, sbt.load_labels(spark, str(spark_world / "outcomes.parquet")), against,
                  target=target)
    dec = pl.from_arrow(got.decisions.toArrow())
    assert got.n == ref.n == dec.height > 0
    j = ref.decisions.join(dec, on="event_id", suffix="_s")
    assert j.height == ref.n
    for c in ref.decisions.columns:
        if c != "event_id":
            same = (j[c] == j[c + "_s"]) | (j[c].is_null() & j[c + "_s"].is_null())
            assert same.all(), f"{path.stem}: column {c} differs on {int((~same).sum())} events"
    assert got.outcome_mix.sort("outcome").equals(ref.outcome_mix.sort("outcome"))
    assert got.rule_hits.equals(ref.rule_hits)
    if ref.bad_by_outcome is None:  # purchases carry no labels
        assert got.bad_by_outcome is None
    else:
        assert got.bad_by_outcome.equals(ref.bad_by_outcome)
    assert got.approval_rate == pytest.approx(ref.approval_rate, abs=0)
    if against is not None:
        assert got.swap.equals(ref.swap)
    assert dec["outcome"].n_unique() > 1  # a real mix, not a constant
    assert got.target == target
    if target == "columns":  # Arrow UDFs only where the JVM's math differs from Polars (application's pd)
        from fengkong.spark.stcode import udf_constructs

        want = udf_constructs(s.spec) + (udf_constructs(against.spec) if against is not None else [])
        assert set(got.udfs) == set(want) and set(got.udfs) <= {"scorecard app_score pd (2**x)"}


def test_cli_backfill_and_backtest_on_spark(spark, spark_world, tmp_path):
    from fengkong.features import load_features
    from fengkong.features.offline import backfill

    yml = tmp_path / "f.yaml"
    yml.write_text("features:\n  - name: app_cnt_device_{window}\n    windows: [1h, 7d]\n    key: device_id\n"
                   "    events: [application]\n    agg: count\n", encoding="utf-8")
    out = tmp_path / "feat"
    r = CliRunner().invoke(app, ["features", "backfill", "--engine", "spark", "--master", "local[2]", "--events",
                                 str(spark_world), "--out", str(out), "--features", str(yml), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["features"] == 2
    got = pl.read_parquet(out / "**/*.parquet", hive_partitioning=True)
    ref = backfill(read_world(spark_world), load_features(yml))
    assert got.height == ref.height and any(p.name.startswith("date=") for p in out.iterdir())
    j = ref.join(got, on="event_id", suffix="_s")
    assert (j["app_cnt_device_7d"] == j["app_cnt_device_7d_s"]).all()

    strat = str(REFERENCE[1])
    r = CliRunner().invoke(app, ["backtest", strat, "--engine", "spark", "--events", str(spark_world), "--json",
                                 "--out", str(tmp_path / "bt")])
    assert r.exit_code == 0, r.output
    spark_summary = json.loads(r.output[r.output.index("{"):])
    r = CliRunner().invoke(app, ["backtest", strat, "--events", str(spark_world), "--json"])
    polars_summary = json.loads(r.output[r.output.index("{"):])
    key = lambda d: sorted(d["outcome_mix"], key=lambda x: x["outcome"])  # noqa: E731
    assert key(spark_summary) == key(polars_summary)
    assert spark_summary["rule_hits"] == polars_summary["rule_hits"]
    assert (tmp_path / "bt" / "decisions").is_dir() and (tmp_path / "bt" / "outcome_mix.csv").exists()


def test_cli_backtest_names_the_provider_without_spark_twin(spark, spark_world):
    r = CliRunner().invoke(app, ["backtest", str(REFERENCE[0]), "--engine", "spark", "--events", str(spark_world)])
    assert r.exit_code == 2
    assert "fengkong.fraud.provider" in r.output and "--extra-features" in r.output


def test_scorecard_sql_on_spark_equals_python(spark, tmp_path):
    from fengkong.modeling import Scorecard

    rng = np.random.default_rng(17)
    n = 3000
    age = rng.integers(18, 70, n).astype(float)
    inc = np.round(rng.lognormal(8, 0.6, n), 2)
    city = rng.choice(["bj", "sh", "gz", "o'neil"], n)
    y = (rng.random(n) < 1 / (1 + np.exp(1 + 0.04 * (age - 40) + 0.5 * (np.log(inc) - 8)))).astype(np.int8)
    age[rng.random(n) < 0.08] = np.nan
    X = pl.DataFrame({"age": age, "income": inc, "city": city}).with_columns(pl.col("age").fill_nan(None))
    sc = Scorecard().fit(X, y)
    rows = pl.concat([X, pl.DataFrame({"age": [None, 99.0], "income": [None, 0.0], "city": ["mars", None]})])
    rows = rows.with_row_index("rid")
    data = tmp_path / "rows.parquet"
    rows.write_parquet(data)
    model = tmp_path / "model"
    model.mkdir()
    sc.save(model / "model.json")
    out = tmp_path / "scored"
    r = CliRunner().invoke(app, ["scorecard", "score", "--engine", "spark", "--model", str(model), "--data", str(data),
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    got = pl.read_parquet(out / "*.parquet").sort("rid")
    assert got["score"].to_list() == list(sc.predict_score(rows.drop("rid")))
    assert np.allclose(got["pd"].to_numpy(), sc.predict_proba(rows.drop("rid"))[:, 1], rtol=1e-12, atol=0)
