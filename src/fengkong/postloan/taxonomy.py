"""The counterparty-use taxonomy (DOMAIN §3.1): a versioned YAML dictionary and its scalar and Polars classifiers."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from fengkong.errors import InputError

DEFAULT_PATH = Path(__file__).with_name("taxonomy.yaml")
UNKNOWN = "UNKNOWN"


class TaxonomyError(InputError, ValueError):
    """The dictionary file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Taxonomy:
    """A loaded dictionary: ``classes`` (name → prohibited?), the four evidence maps and the keyword rules."""

    name: str
    version: str
    classes: Mapping[str, bool]
    labels: Mapping[str, str]
    counterparty_type: Mapping[str, str]
    keywords: tuple[tuple[str, tuple[str, ...]], ...]
    merchant_category: Mapping[str, str]
    account_type: Mapping[str, str]

    @property
    def ref(self) -> str:
        """``name@version``, recorded with every classification."""
        return f"{self.name}@{self.version}"

    @property
    def prohibited(self) -> tuple[str, ...]:
        return tuple(c for c, p in self.classes.items() if p)

    # ------------------------------------------------------------ one counterparty

    def name_class(self, name: str | None) -> str | None:
        if not name:
            return None
        for cls, words in self.keywords:
            if any(w in name for w in words):
                return cls
        return None

    def classify(self, counterparty_type: str | None = None, category: str | None = None, name: str | None = None,
                 account_type: str | None = None) -> str:
        """The class of one counterparty. Evidence order: the counterparty type (own account, person, cash);
        a prohibited class from the name keywords, the category or the account type; a non-prohibited class
        from the name or the category; else ``UNKNOWN``."""
        t = self.counterparty_type.get(counterparty_type) if counterparty_type else None
        if t is not None:
            return t
        n = self.name_class(name)
        c = self.merchant_category.get(category) if category else None
        a = self.account_type.get(account_type) if account_type else None
        for x in (n, c, a):
            if x is not None and self.classes[x]:
                return x
        for x in (n, c):
            if x is not None:
                return x
        return UNKNOWN

    # ------------------------------------------------------------ a frame

    def expr(self, type_col: str = "counterparty_type", category_col: str = "counterparty_category",
             name_col: str = "counterparty_name", account_type_col: str | None = None) -> pl.Expr:
        """The Polars twin of :meth:`classify` (a Utf8 expression); absent columns count as missing."""
        def mapped(col: str, mapping: Mapping[str, str]) -> pl.Expr:
            return pl.col(col).replace_strict(dict(mapping), default=None, return_dtype=pl.Utf8)

        t = mapped(type_col, self.counterparty_type)
        name = pl.col(name_col).fill_null("")
        n: pl.Expr = pl.lit(None, dtype=pl.Utf8)
        for cls, words in reversed(self.keywords):
            n = pl.when(name.str.contains_any(list(words))).then(pl.lit(cls)).otherwise(n)
        c = mapped(category_col, self.merchant_category)
        a = mapped(account_type_col, self.account_type) if account_type_col else pl.lit(None, dtype=pl.Utf8)
        pro = list(self.prohibited)

        def if_pro(x: pl.Expr) -> pl.Expr:
            return pl.when(x.is_in(pro)).then(x)

        return pl.coalesce(t, if_pro(n), if_pro(c), if_pro(a), n, c, pl.lit(UNKNOWN))

    def classify_frame(self, frame: pl.DataFrame, out: str = "use_class") -> pl.DataFrame:
        """``frame`` with a class column ``out``; missing columns (name, category, account type) are missing."""
        cols = {"counterparty_type": pl.Utf8, "counterparty_category": pl.Utf8, "counterparty_name": pl.Utf8}
        add = [pl.lit(None, dtype=d).alias(c) for c, d in cols.items() if c not in frame.columns]
        f = frame.with_columns(add) if add else frame
        at = "counterparty_account_type" if "counterparty_account_type" in frame.columns else None
        # classify each distinct counterparty once (names repeat: merchants, lenders, brokers) and look it up
        keys = ["counterparty_type", "counterparty_category", "counterparty_name", *([at] if at else [])]
        uniq = f.select(keys).unique().with_columns(self.expr(account_type_col=at).alias(out))
        res = f.join(uniq, on=keys, how="left", nulls_equal=True, maintain_order="left")
        return res.drop([c for c in cols if c not in frame.columns])


def _strs(v: Any, where: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise TaxonomyError(f"{where}: must be a non-empty list of words")
    return tuple(v)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and check a dictionary (default: the shipped ``taxonomy.yaml``)."""
    p = Path(path) if path is not None else DEFAULT_PATH
    return _load(str(p.resolve()))


@functools.cache
def _load(path: str) -> Taxonomy:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path}: {exc}") from None
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{path}: not a mapping")
    for key in ("name", "version", "classes", "keywords"):
        if key not in raw:
            raise TaxonomyError(f"{path}: missing '{key}'")
    classes = raw["classes"]
    if not isinstance(classes, dict) or UNKNOWN not in classes:
        raise TaxonomyError(f"{path}: 'classes' must be a mapping that includes {UNKNOWN}")
    pro = {}
    labels = {}
    for c, spec in classes.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("prohibited"), bool):
            raise TaxonomyError(f"{path}: classes.{c}: needs 'prohibited: true|false'")
        pro[c] = spec["prohibited"]
        labels[c] = str(spec.get("label", c))

    def cmap(key: str) -> dict[str, str]:
        m = raw.get(key) or {}
        if not isinstance(m, dict):
            raise TaxonomyError(f"{path}: '{key}' must be a mapping")
        for k, v in m.items():
            if v not in pro:
                raise TaxonomyError(f"{path}: {key}.{k}: unknown class {v!r}")
        return {str(k): str(v) for k, v in m.items()}

    kws = []
    for i, rule in enumerate(raw["keywords"]):
        where = f"{path}: keywords[{i}]"
        if not isinstance(rule, dict) or rule.get("class") not in pro:
            raise TaxonomyError(f"{where}: needs a known 'class'")
        kws.append((rule["class"], _strs(rule.get("any"), where + ".any")))
    return Taxonomy(name=str(raw["name"]), version=str(raw["version"]), classes=pro, labels=labels,
                    counterparty_type=cmap("counterparty_type"), keywords=tuple(kws),
                    merchant_category=cmap("merchant_category"), account_type=cmap("account_type"))
