"""Merchants (purchase acceptors) and non-merchant counterparties: companies, lenders, personal accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fengkong.simulate import geo, identities, texts

# category: (share of purchases, median yuan, log-sd, share of merchants)
PURCHASE_CATEGORIES: dict[str, tuple[float, float, float, float]] = {
    "everyday_retail": (0.30, 45, 0.8, 0.25),
    "catering": (0.20, 60, 0.6, 0.20),
    "home_appliance": (0.04, 1200, 0.7, 0.05),
    "electronics": (0.05, 1800, 0.8, 0.06),
    "furniture": (0.02, 1500, 0.7, 0.03),
    "decoration": (0.01, 3000, 0.8, 0.02),
    "auto": (0.01, 2000, 1.0, 0.02),
    "education": (0.02, 2500, 0.7, 0.04),
    "travel": (0.04, 900, 0.8, 0.05),
    "healthcare": (0.04, 200, 1.0, 0.06),
    "elderly_childcare": (0.03, 300, 0.8, 0.04),
    "culture_sports": (0.05, 150, 0.8, 0.06),
    "jewelry_luxury": (0.02, 2500, 0.8, 0.03),
    "public_service": (0.04, 120, 0.6, 0.04),
    "insurance": (0.01, 500, 0.5, 0.02),
}
CASH_OUT_CATEGORIES = ("jewelry_luxury", "electronics", "home_appliance", "public_service", "culture_sports")
ENTRUSTED_PURPOSE = {"home_appliance": "appliance", "education": "education", "decoration": "home_decoration",
                     "travel": "travel", "healthcare": "medical", "furniture": "furniture", "auto": "auto_service"}


@dataclass
class Directory:
    """All counterparties: ``ids``, ``category``, ``name`` and ``kind`` (merchant, company, financial)."""

    ids: np.ndarray
    category: np.ndarray
    name: np.ndarray
    cp_type: np.ndarray
    region: np.ndarray
    merchants: int  # the first ``merchants`` entries accept purchases
    colluding: np.ndarray  # indices of cash-out merchants
    by_category: dict[str, np.ndarray]  # purchase-merchant indices per category, by popularity
    popularity: dict[str, np.ndarray]  # cumulative popularity per category
    linked_account: np.ndarray  # per colluding merchant: id of a personal account it pays back from


def _merchant_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    v = identities._unique(lambda k: rng.integers(10**7, 10**8, k), n)
    return np.array([f"M{x}" for x in v.tolist()], dtype=object)


def company_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unified-social-credit-code style ids (same format as employer ids)."""
    return np.array([f"91{v:016X}" for v in rng.integers(0, 2**62, n).tolist()], dtype=object)


def account_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Opaque personal account ids (not card numbers) of individual counterparties."""
    v = identities._unique(lambda k: rng.integers(10**10, 10**11, k), n)
    return np.array([f"A{x}" for x in v.tolist()], dtype=object)


def build_directory(rng: np.random.Generator, customers: int, n_colluding: int) -> Directory:
    """Ordinary merchants, colluding cash-out merchants, prohibited-category companies and lenders."""
    n_m = max(400, customers // 10)
    cats = list(PURCHASE_CATEGORIES)
    share = np.array([PURCHASE_CATEGORIES[c][3] for c in cats])
    mcat = np.array(cats, dtype=object)[rng.choice(len(cats), n_m, p=share / share.sum())]
    mcat[: 2 * len(cats)] = cats * 2  # every category has merchants
    ccat = np.array(CASH_OUT_CATEGORIES, dtype=object)[rng.integers(0, len(CASH_OUT_CATEGORIES), n_colluding)]
    pro_cats = ["real_estate"] * 4 + ["securities"] * 3 + ["fund_wealth"] * 2 + ["futures"]
    n_p = max(40, customers // 500)
    pcat = np.array(pro_cats, dtype=object)[rng.integers(0, len(pro_cats), n_p)]
    n_l = max(20, customers // 2000)
    lcat = np.full(n_l, "lender", dtype=object)
    category = np.concatenate([mcat, ccat, pcat, lcat])
    n_all = len(category)
    region = rng.choice(geo.N_REGIONS, n_all, p=geo.WEIGHT)
    names = np.empty(n_all, dtype=object)
    for c in np.unique(category):
        idx = np.nonzero(category == c)[0]
        names[idx] = texts.company_names(rng, geo.CITY[region[idx]], c)
    n_pm = n_m + n_colluding
    ids = np.concatenate([_merchant_ids(rng, n_pm), company_ids(rng, n_p + n_l)])
    cp_type = np.array(["merchant"] * n_pm + ["company" if c == "real_estate" else "financial" for c in pcat]
                       + ["financial"] * n_l, dtype=object)
    # shuffle the purchase merchants so the colluding ones are not at the end
    order = rng.permutation(n_pm)
    ids[:n_pm], category[:n_pm], names[:n_pm], region[:n_pm] = (
        ids[:n_pm][order], category[:n_pm][order], names[:n_pm][order], region[:n_pm][order])
    colluding = np.nonzero(order >= n_m)[0]
    pop = rng.zipf(1.6, n_pm).astype(float)
    pop[colluding] = 1.0
    by_cat, cum = {}, {}
    for c in cats:
        idx = np.nonzero(category[:n_pm] == c)[0]
        if len(idx) == 0:
            continue
        by_cat[c] = idx
        cum[c] = np.cumsum(pop[idx]) / pop[idx].sum()
    return Directory(ids=ids, category=category, name=names, cp_type=cp_type, region=region, merchants=n_pm,
                     colluding=colluding, by_category=by_cat, popularity=cum,
                     linked_account=account_ids(rng, n_colluding))


def pick_merchants(rng: np.random.Generator, d: Directory, names: list[str], codes: np.ndarray) -> np.ndarray:
    """A popularity-weighted merchant index for each requested category (``names[codes]``)."""
    out = np.empty(len(codes), dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    for c, name in enumerate(names):
        idx = order[bounds[c]:bounds[c + 1]]
        if len(idx) == 0:
            continue
        pool = d.by_category[name]
        pick = np.searchsorted(d.popularity[name], rng.random(len(idx)))
        out[idx] = pool[np.minimum(pick, len(pool) - 1)]
    return out


def of_category(d: Directory, category: str) -> np.ndarray:
    """Indices of all non-merchant counterparties of a category."""
    idx = np.nonzero(d.category == category)[0]
    return idx[idx >= d.merchants]


def payees(d: Directory, cp: np.ndarray) -> dict[str, np.ndarray]:
    """The directory's columns (``ids``, ``type``, ``cat``, ``name``, ``region``) of the counterparties ``cp``."""
    return {"ids": d.ids[cp], "type": d.cp_type[cp], "cat": d.category[cp], "name": d.name[cp],
            "region": d.region[cp]}
