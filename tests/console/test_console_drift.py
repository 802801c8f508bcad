"""Monitoring drift: PSI of each month against the training sample (``baseline``) and against the first month."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient
from tests.console.conftest import login, make_app


def _live(store, key: str, month: str) -> np.ndarray:
    """One month's values of a score (``scores``) or feature (``features``) straight from the decision log."""
    from sqlalchemy import text

    out = []
    with store.engine.connect() as conn:
        for (rec,) in conn.execute(text("SELECT record FROM fk_decisions")):
            d = json.loads(rec)
            ts = dt.datetime.fromisoformat(d["event_ts"]).astimezone(dt.UTC)
            if d.get("event_type") != "application" or ts.strftime("%Y-%m") != month:
                continue
            kind, name = key.split(":")
            v = (d.get("scores" if kind == "score" else "features") or {}).get(name)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.append(float(v))
    return np.array(out)


def _expected_psi(train: np.ndarray, live: np.ndarray) -> float:
    """PSI written out: decile edges of the training values (inverted CDF), live values at two significant digits
    (the rollup's resolution), +0.5 per bin."""
    live = np.array([float(f"{v:.2g}") for v in live])
    edges = np.unique(np.quantile(train, np.linspace(0, 1, 11)[1:-1], method="inverted_cdf"))
    e = np.bincount(np.digitize(train, edges), minlength=len(edges) + 1) + 0.5
    a = np.bincount(np.digitize(live, edges), minlength=len(edges) + 1) + 0.5
    pe, pa = e / e.sum(), a / a.sum()
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def _table_row(html: str, section: str, name: str) -> list[str]:
    part = html[html.index(f'id="{section}"'):]
    part = part[:part.index("</table>")]
    row = re.search(rf"<tr><td>{re.escape(name)}</td>(.*?)</tr>", part).group(1)
    return re.findall(r">([-0-9.]+)</td>", row)


def test_psi_against_the_training_sample(demo_store, tmp_path):
    from fengkong.console import rollup

    rollup.refresh(demo_store, max_rows=10_000_000)
    rows = rollup.hours(demo_store, "application", months=True)
    months = [m for m, _ in rows]
    i = int(np.argmax([d["n"] for _, d in rows]))  # the month with most decisions (months are UTC)
    score, dti = _live(demo_store, "score:score", months[i]), _live(demo_store, "feature:fr_dti", months[i])
    assert len(score) > 50 and len(dti) > 50
    rng = np.random.default_rng(11)
    # a training sample shifted against the live decisions, values already at the rollup's resolution
    train_score = np.round(rng.normal(np.median(score) + 40, 25, 3000), -1)
    train_dti = np.array([float(f"{v:.2g}") for v in rng.uniform(0.05, 0.6, 3000)])
    model = tmp_path / "model"
    model.mkdir()
    pl.DataFrame({"score": train_score, "bad": rng.integers(0, 2, 3000)}).write_parquet(
        model / "development_scores.parquet")
    feats = tmp_path / "baseline.parquet"
    pl.DataFrame({"score": train_score, "fr_dti": train_dti}).write_parquet(feats)

    for path in (model, feats):
        c = login(TestClient(make_app(demo_store, lang="en", baseline=str(path))), "analyst")
        html = c.get("/console/monitor?event_type=application&days=90").text
        assert "PSI vs training" in html and "Population stability vs the first month (" + months[0] in html
        assert "no training sample configured" not in html
        got = _table_row(html, "psi-training", "score:score")
        want = _expected_psi(train_score, score)
        assert want > 0.1 and float(got[i]) == pytest.approx(want, abs=5e-4)
        if path == feats:
            got = _table_row(html, "psi-training", "feature:fr_dti")
            assert float(got[i]) == pytest.approx(_expected_psi(train_dti, dti), abs=5e-4)
        else:
            assert "feature:fr_dti</td>" not in html[html.index('id="psi-training"'):html.index('id="psi-months"')]
        # the month-over-first-month view stays: the first month against itself is 0
        assert len(_table_row(html, "psi-months", "score:score")) == len(months)


def test_without_a_baseline_the_label_says_first_month(demo_store):
    c = login(TestClient(make_app(demo_store, lang="en")), "analyst")
    html = c.get("/console/monitor?event_type=application&days=90").text
    assert "Population stability vs the first month (no training sample configured)" in html
    assert "PSI vs training" not in html


def test_baseline_names_and_bad_baselines(demo_store, tmp_path):
    from fengkong.console.baseline import BaselineError, match

    assert match({"score": {}}, {"score:app", "feature:x"}) == {"score:app": "score"}
    assert match({"s": {}, "x": {}}, {"score:app", "feature:x"}, {"s": "app"}) == {"score:app": "s",
                                                                                    "feature:x": "x"}
    with pytest.raises(BaselineError, match="does not exist"):
        make_app(demo_store, baseline=str(tmp_path / "nope.parquet"))
    with pytest.raises(BaselineError, match=r"development_scores\.parquet"):
        make_app(demo_store, baseline=str(tmp_path))


def test_serve_baseline_setting_must_exist(tmp_path):
    from fengkong.service.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=r"baseline: .* does not exist"):
        load_settings(baseline=str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match=r"without development_scores\.parquet"):
        load_settings(baseline=str(tmp_path))
    pl.DataFrame({"score": [600.0, 610.0]}).write_parquet(tmp_path / "development_scores.parquet")
    assert load_settings(baseline=str(tmp_path)).baseline == str(tmp_path)


def test_demo_hint_names_a_model_directory(tmp_path):
    from fengkong.console.baseline import DEV_SCORES
    from fengkong.console.demo import baseline_option
    from fengkong.modeling.model_dir import DEV_SCORES as FIT_WRITES

    assert DEV_SCORES == FIT_WRITES
    assert baseline_option(tmp_path) == ""
    (tmp_path / "scorecard").mkdir()
    (tmp_path / "scorecard" / "development_scores.parquet").write_bytes(b"")
    assert baseline_option(tmp_path) == f" --baseline {tmp_path / 'scorecard'}"
