"""Entrusted-payment payee check: the payee actually paid against the contract's (account, merchant, name).

Each element the contract states must match the payee paid; an element the contract leaves out is
``not_stated`` (never a mismatch), and one it states that the payment does not carry is a ``mismatch``.
Names are compared after :func:`normalise_name` — a small fixed normaliser, no fuzzy matching. Names are
registered business names (as ``counterparty_name`` on transfers); a person payee is stated by account only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import polars as pl

#: Statuses of one element.
MATCH, MISMATCH, NOT_STATED = "match", "mismatch", "not_stated"
#: Element → (field of the payee paid, field of the contract).
ELEMENTS: dict[str, tuple[str, str]] = {
    "account": ("payee_id", "contract_payee_id"),
    "merchant": ("payee_merchant_id", "contract_merchant_id"),
    "name": ("payee_name", "contract_payee_name"),
}
#: Feature name → kind, one status per element (null on events other than entrusted disbursements).
FEATURE_KINDS: dict[str, str] = {f"pl_payee_{e}_check": "str" for e in ELEMENTS}
#: Company-form suffixes treated as one (longest first); each becomes ``有限公司``.
SUFFIXES: tuple[str, ...] = ("股份有限公司", "有限责任公司", "有限公司")
_DROP = re.compile(r"[\s()\[\]{}【】〔〕<>《》·・.,，、]+")


def normalise_name(name: str | None) -> str | None:
    """A business name for comparison: NFKC (full-width → half-width, （）→ ()), spaces, brackets and
    separators removed, Latin letters case-folded, and a trailing 股份有限公司 / 有限责任公司 read as 有限公司.
    Empty after normalising → None."""
    if name is None:
        return None
    s = _DROP.sub("", unicodedata.normalize("NFKC", name)).casefold()
    for suf in SUFFIXES:
        if s.endswith(suf):
            s = s[: -len(suf)] + SUFFIXES[-1]
            break
    return s or None


def _status(paid: Any, contract: Any) -> str:
    if contract is None or contract == "":
        return NOT_STATED
    return MATCH if paid is not None and paid == contract else MISMATCH


def check(ev: Mapping[str, Any]) -> dict[str, Any]:
    """The ``pl_payee_*_check`` features of one event (all None unless an entrusted disbursement)."""
    out: dict[str, Any] = dict.fromkeys(FEATURE_KINDS)
    if ev.get("event_type") != "disbursement" or ev.get("payment_mode") != "entrusted":
        return out
    for e, (paid, contract) in ELEMENTS.items():
        p, c = ev.get(paid), ev.get(contract)
        if e == "name":
            p, c = normalise_name(p), normalise_name(c)
        out[f"pl_payee_{e}_check"] = _status(p, c)
    return out


def _normalised(col: pl.Series) -> pl.Expr:
    uniq = col.drop_nulls().unique().to_list()
    return pl.col(col.name).replace_strict({u: normalise_name(u) for u in uniq}, default=None,
                                           return_dtype=pl.Utf8)


def check_frame(events: pl.DataFrame) -> pl.DataFrame:
    """``event_id`` + the :data:`FEATURE_KINDS` columns of every disbursement (the offline twin of :func:`check`)."""
    d = events.filter(pl.col("event_type") == "disbursement")
    d = d.with_columns([pl.lit(None, dtype=pl.Utf8).alias(c) for f in ELEMENTS.values() for c in f
                        if c not in d.columns])
    d = d.with_columns(_normalised(d["payee_name"]), _normalised(d["contract_payee_name"]))
    entrusted = pl.col("payment_mode") == "entrusted"
    cols = []
    for e, (paid, contract) in ELEMENTS.items():
        c = pl.col(contract)
        status = (pl.when(c.is_null() | (c == "")).then(pl.lit(NOT_STATED))
                  .when(pl.col(paid).is_not_null() & (pl.col(paid) == c)).then(pl.lit(MATCH))
                  .otherwise(pl.lit(MISMATCH)))
        cols.append(pl.when(entrusted).then(status).otherwise(None).alias(f"pl_payee_{e}_check"))
    return d.select("event_id", *cols)
