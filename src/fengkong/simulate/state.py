"""One generation run of the synthetic world: its config, seeded streams, people, token pools and labels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from fengkong.events import pii
from fengkong.simulate import geo, structure, texts
from fengkong.simulate import merchants as M
from fengkong.simulate.config import SimConfig
from fengkong.simulate.credit import DAY_US, day_number
from fengkong.simulate.frames import take
from fengkong.simulate.population import People, Plan, build_people, make_plan

STREAMS = ("plan", "people", "merchants", "apps", "rings", "theft", "loans", "purchases", "transfers",
           "repay", "complaints", "accounts")
LABEL_SCHEMA = {"pattern": pl.Utf8, "entity_type": pl.Utf8, "entity_id": pl.Utf8, "group_id": pl.Utf8,
                "detail": pl.Utf8}
Progress = Callable[[str, int, int], None]


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {k: np.random.default_rng(c) for k, c in zip(STREAMS, children, strict=True)}


def _post_streams(seed: int) -> tuple[np.random.Generator, ...]:
    """Generators of the post-loan additions (entrusted-payee mismatch; misuse routing, names and look-alikes;
    splitting and repeated purchases), apart from :data:`STREAMS` so that adding them left every other
    stream's draws as they were."""
    return tuple(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x504F53, i))) for i in (0, 1, 2))


def draw_people(cfg: SimConfig) -> tuple[Plan, People, dict[str, np.random.Generator]]:
    """The plan, the people (with the hard population's structure) and the seeded streams of ``cfg``."""
    r = _streams(cfg.seed)
    plan = make_plan(cfg, r["plan"])
    people = build_people(cfg, plan, r["people"])
    if structure.active(cfg):
        people.structure = structure.apply_people(cfg, plan, people)
    return plan, people, r


def _token_pool(tok: pii.Tokenizer, kind: str, values: list[str]) -> pl.Series:
    uniq = dict.fromkeys(values)
    mapping = {v: tok.token(kind, v) for v in uniq}
    return pl.Series([mapping[v] for v in values] + [None], dtype=pl.Utf8)


class World:
    """One generation run: what every event step reads (config, people, streams, pools, ids) and the
    labels they add; each ``*_events`` module adds its own results as attributes."""

    def __init__(self, cfg: SimConfig, tok: pii.Tokenizer, progress: Progress | None):
        self.cfg = cfg
        self.progress = progress or (lambda step, i, n: None)
        self.plan, self.P, self.r = draw_people(cfg)
        P = self.P
        self.start_day = day_number(cfg.start)
        end = np.datetime64(cfg.start, "M") + np.timedelta64(cfg.months, "M")
        self.end_day = int(end.astype("datetime64[D]").astype(np.int64))
        self.total_days = self.end_day - self.start_day
        self.start_us = self.start_day * DAY_US
        self.end_us = self.end_day * DAY_US
        self.tok = {k: _token_pool(tok, k, P.pii[k]) for k in ("id", "name", "phone", "card")}
        self.tokenizer = tok
        perm = self.r["people"].permutation(self.plan.persons)
        self.customer_ids = take(np.array([f"C{v + 10000001}" for v in perm.tolist()], dtype=object),
                                 np.arange(self.plan.persons)).append(pl.Series([None], dtype=pl.Utf8))
        self.dev_pool = take(np.array(P.devices, dtype=object), np.arange(len(P.devices))).append(
            pl.Series([None], dtype=pl.Utf8))
        self.employer_names = np.array(texts.employer_names(
            self.r["merchants"], geo.CITY[self.r["merchants"].choice(geo.N_REGIONS, len(P.employers), p=geo.WEIGHT)]),
            dtype=object)
        self.dir = M.build_directory(self.r["merchants"], cfg.customers, cfg.cash_out_merchants)
        self.labels: list[pl.DataFrame] = []
        self.r_post = _post_streams(cfg.seed)

    # ------------------------------------------------------------ helpers
    def label(self, pattern: str, entity_type: str, entity_id: pl.Series, group: pl.Series | None = None,
              detail: pl.Series | None = None) -> None:
        n = len(entity_id)
        self.labels.append(pl.DataFrame({
            "pattern": [pattern] * n, "entity_type": [entity_type] * n, "entity_id": entity_id.cast(pl.Utf8),
            "group_id": group.cast(pl.Utf8) if group is not None else pl.Series([None] * n, dtype=pl.Utf8),
            "detail": detail.cast(pl.Utf8) if detail is not None else pl.Series([None] * n, dtype=pl.Utf8),
        }, schema=LABEL_SCHEMA))

    def cust(self, person: np.ndarray) -> pl.Series:
        return take(self.customer_ids, person)

