"""Near-duplicate complaint texts: character shingles, MinHash + LSH (datasketch), exact verification.

Two texts are near-duplicates when their character 3-gram sets have Jaccard similarity ≥ ``min_jaccard``
*and* share at least ``min_shared`` shingles (a common passage of about that many characters), so that
short, generic complaints ("客服电话打不通") that happen to match are not taken for a template.
The index keeps a sliding window (90 days by default) and verifies LSH candidates exactly.

The banding (bands × rows chosen by datasketch's ``MinHashLSH`` for the threshold) keeps only the most recent
``BUCKET`` keys per band bucket: a template copied thousands of times would otherwise make every query walk
thousands of candidates (datasketch's buckets are unbounded, so its query time grows with the cluster).
Counts read from the index are therefore "at least" counts, capped well above every threshold that uses them.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

#: Jaccard similarity of shingle sets at or above which two complaint texts are near-duplicates.
MIN_JACCARD = 0.3
#: Shingles two near-duplicates must share (≈ a common passage of this many characters).
MIN_SHARED = 40
SHINGLE = 3
NUM_PERM = 64
#: LSH candidates verified per query (the most recent first), and near-duplicates after which a query stops:
#: counts read from the index are capped at ``ENOUGH`` (every threshold that uses them is lower).
MAX_VERIFY = 24
ENOUGH = 8
#: Keys kept per band bucket (the most recent).
BUCKET = 32

_DROP = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")


@cache
def _template() -> MinHash:
    """The permutations every signature shares (datasketch, and the SciPy it loads, only when first needed)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1)


def normalise(text: str | None) -> str:
    """Text without punctuation or spaces, every number as ``0`` (fill-ins vary between copies)."""
    return _DIGITS.sub("0", _DROP.sub("", text or ""))


def shingles(text: str | None) -> np.ndarray:
    """Sorted unique 32-bit hashes of the character 3-grams of the normalised text (deterministic)."""
    t = normalise(text)
    if len(t) < SHINGLE:
        return np.zeros(0, dtype=np.uint32)
    cp = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    h = (cp[:-2] * np.uint64(1_000_003) ^ cp[1:-1]) * np.uint64(1_000_003) ^ cp[2:]
    h = (h * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)
    return np.unique(h.astype(np.uint32))


def minhash(sh: np.ndarray) -> MinHash:
    from datasketch import MinHash

    tpl = _template()
    m = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=tpl.permutations, scheme=tpl.scheme)
    if len(sh):
        m.update_batch(sh.astype(np.uint64))
    return m


def similar(a: np.ndarray, b: np.ndarray, min_jaccard: float = MIN_JACCARD, min_shared: int = MIN_SHARED) -> bool:
    """The near-duplicate test on two shingle arrays."""
    if len(a) < min_shared or len(b) < min_shared:
        return False
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter >= min_shared and inter / (len(a) + len(b) - inter) >= min_jaccard


@dataclass
class _Doc:
    key: int
    ts_us: int
    customer: str | None
    sh: np.ndarray
    bands: list[bytes]


class TextIndex:
    """Complaint texts of the last ``window_days`` days; :meth:`query` returns the near-duplicates."""

    def __init__(self, window_days: float = 90.0, min_jaccard: float = MIN_JACCARD, min_shared: int = MIN_SHARED):
        self.window_us = int(window_days * 86_400_000_000)
        self.min_jaccard = min_jaccard
        self.min_shared = min_shared
        from datasketch import MinHashLSH

        params = MinHashLSH(threshold=min_jaccard, num_perm=NUM_PERM)
        self.bands, self.rows = params.b, params.r
        self.buckets: list[dict[bytes, deque[int]]] = [{} for _ in range(self.bands)]
        self.docs: dict[int, _Doc] = {}
        self.order: deque[int] = deque()
        self._next = 0

    def __len__(self) -> int:
        return len(self.docs)

    def _keys(self, m: MinHash) -> list[bytes]:
        hv = m.hashvalues.astype(np.uint32)
        r = self.rows
        return [hv[i * r:(i + 1) * r].tobytes() for i in range(self.bands)]

    def expire(self, now_us: int) -> None:
        while self.order and self.docs[self.order[0]].ts_us <= now_us - self.window_us:
            k = self.order.popleft()
            for b, key in zip(self.buckets, self.docs[k].bands, strict=True):
                q = b.get(key)
                if q is not None and q and q[0] == k:
                    q.popleft()
                    if not q:
                        del b[key]
            del self.docs[k]

    def query(self, sh: np.ndarray, m: MinHash | None = None, now_us: int | None = None) -> list[int]:
        """Keys of indexed near-duplicates of ``sh`` (most recent first; at most ``MAX_VERIFY`` checked and
        ``ENOUGH`` returned)."""
        if len(sh) < self.min_shared or not self.docs:
            return []
        found: set[int] = set()
        for b, key in zip(self.buckets, self._keys(m or minhash(sh)), strict=True):
            q = b.get(key)
            if q:
                found.update(q)
        lo = None if now_us is None else now_us - self.window_us
        out: list[int] = []
        for k in sorted((k for k in found if k in self.docs), reverse=True)[:MAX_VERIFY]:
            d = self.docs[k]
            if (lo is None or d.ts_us > lo) and similar(sh, d.sh, self.min_jaccard, self.min_shared):
                out.append(k)
                if len(out) >= ENOUGH:
                    break
        return out

    def add(self, sh: np.ndarray, ts_us: int, customer: str | None, m: MinHash | None = None) -> int:
        """Index a text; returns its key (texts too short to be a template are kept out of the LSH)."""
        k = self._next
        self._next += 1
        if len(sh) >= self.min_shared:
            keys = self._keys(m or minhash(sh))
            self.docs[k] = _Doc(k, ts_us, customer, sh, keys)
            self.order.append(k)
            for b, key in zip(self.buckets, keys, strict=True):
                q = b.get(key)
                if q is None:
                    q = b[key] = deque(maxlen=BUCKET)
                q.append(k)
        return k
