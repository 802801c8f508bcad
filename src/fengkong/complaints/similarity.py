"""Near-duplicate complaint texts: character shingles, MinHash + LSH (datasketch), exact verification.

Two texts are near-duplicates when their character 3-gram sets have Jaccard similarity ≥ ``min_jaccard``
*and* share at least ``min_shared`` shingles (a common passage of about that many characters), so that
short, generic complaints ("客服电话打不通") that happen to match are not taken for a template.
The index keeps a sliding window (90 days by default) and verifies LSH candidates exactly.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

#: Jaccard similarity of shingle sets at or above which two complaint texts are near-duplicates.
MIN_JACCARD = 0.3
#: Shingles two near-duplicates must share (≈ a common passage of this many characters).
MIN_SHARED = 40
SHINGLE = 3
NUM_PERM = 64
#: LSH candidates verified per query (the most recent first); enough for every threshold used on counts.
MAX_VERIFY = 64

_DROP = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=1)


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
    m = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=_TEMPLATE.permutations,
                scheme=_TEMPLATE.scheme)
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


class TextIndex:
    """Complaint texts of the last ``window_days`` days; :meth:`query` returns the near-duplicates."""

    def __init__(self, window_days: float = 90.0, min_jaccard: float = MIN_JACCARD, min_shared: int = MIN_SHARED):
        self.window_us = int(window_days * 86_400_000_000)
        self.min_jaccard = min_jaccard
        self.min_shared = min_shared
        self.lsh = MinHashLSH(threshold=min_jaccard, num_perm=NUM_PERM)
        self.docs: dict[int, _Doc] = {}
        self.order: deque[int] = deque()
        self._next = 0

    def __len__(self) -> int:
        return len(self.docs)

    def expire(self, now_us: int) -> None:
        while self.order and self.docs[self.order[0]].ts_us <= now_us - self.window_us:
            k = self.order.popleft()
            self.lsh.remove(k)
            del self.docs[k]

    def query(self, sh: np.ndarray, m: MinHash | None = None, now_us: int | None = None) -> list[int]:
        """Keys of indexed near-duplicates of ``sh`` (most recent first, at most ``MAX_VERIFY`` checked)."""
        if len(sh) < self.min_shared or not self.docs:
            return []
        cands = sorted(self.lsh.query(m or minhash(sh)), reverse=True)[:MAX_VERIFY]
        lo = None if now_us is None else now_us - self.window_us
        return [k for k in cands if (lo is None or self.docs[k].ts_us > lo)
                and similar(sh, self.docs[k].sh, self.min_jaccard, self.min_shared)]

    def add(self, sh: np.ndarray, ts_us: int, customer: str | None, m: MinHash | None = None) -> int:
        """Index a text; returns its key (texts too short to be a template are kept out of the LSH)."""
        k = self._next
        self._next += 1
        if len(sh) >= self.min_shared:
            self.docs[k] = _Doc(k, ts_us, customer, sh)
            self.order.append(k)
            self.lsh.insert(k, m or minhash(sh))
        return k
