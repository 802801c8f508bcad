"""Same seed + same key ⇒ byte-identical files; no plaintext identity element reaches any output byte."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
from sim_world_fixtures import KEY, small_world, tokenizer  # noqa: F401

from fengkong.events import pii
from fengkong.simulate import SimConfig, plaintext_identities, simulate_world
from fengkong.simulate.identities import id_check_digit, luhn_check_digit


def _files(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_same_seed_same_key_is_byte_identical(tmp_path, small_world):  # noqa: F811
    out, _, cfg = small_world
    again = tmp_path / "again"
    simulate_world(again, cfg, tokenizer=pii.Tokenizer(KEY))
    a, b = _files(out), _files(again)
    assert a.keys() == b.keys() and len(a) == 12
    for name in a:
        assert a[name] == b[name], name
    other = tmp_path / "other"
    simulate_world(other, SimConfig(customers=2000, months=3, seed=cfg.seed + 1), tokenizer=pii.Tokenizer(KEY))
    assert _files(other)["purchase.parquet"] != a["purchase.parquet"]
    # the key changes tokens, not the world's shape
    rekey = tmp_path / "rekey"
    m = simulate_world(rekey, cfg, tokenizer=pii.Tokenizer(b"another-key-of-32-bytes-000000000"))
    assert _files(rekey)["application.parquet"] != a["application.parquet"]
    assert m["rows"] == small_world[1]["rows"]


def test_plaintext_identities_are_realistic(small_world):  # noqa: F811
    _, _, cfg = small_world
    pt = plaintext_identities(cfg)
    assert set(pt) == {"id", "name", "phone", "card"}
    ids = pt["id"]
    assert len(ids) >= cfg.customers and len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"\d{17}[\dX]", v) for v in ids)
    body = np.array([int(v[:17]) for v in ids], dtype=np.int64)
    assert (id_check_digit(body) == np.array([v[17] for v in ids])).all()
    assert all(re.fullmatch(r"1[3-9]\d{9}", v) for v in pt["phone"]) and len(set(pt["phone"])) == len(pt["phone"])
    cards = pt["card"]
    assert all(16 <= len(v) <= 19 and v.isdigit() for v in cards)
    payload = np.array([int(v[:-1]) for v in cards], dtype=np.int64)
    assert (luhn_check_digit(payload) == np.array([int(v[-1]) for v in cards])).all()
    assert all(2 <= len(v) <= 3 and re.fullmatch(r"[\u4e00-\u9fff]+", v) for v in pt["name"])
    assert plaintext_identities(cfg) == pt  # regenerated from the seed


def _decoded_text(path) -> str:
    df = pl.read_parquet(path)
    cols = []
    for name, dtype in df.schema.items():
        s = df[name]
        if isinstance(dtype, pl.List):
            s = s.list.join("|")
        cols.append(s.cast(pl.Utf8).fill_null(""))
    return "\n".join("\n".join(c.to_list()) for c in cols)


def _scan(blob: str, numbers: set[str], names: set[str]) -> set[str]:
    """Plaintext values found in text: any window of a digit run or of a run of Chinese characters."""
    hits = set()
    for run in re.findall(r"[\dX]{11,}", blob):
        for w in (11, 16, 17, 18, 19):
            hits.update(run[i:i + w] for i in range(len(run) - w + 1) if run[i:i + w] in numbers)
    for run in re.findall(r"[\u4e00-\u9fff]{2,}", blob):
        for w in (2, 3):
            hits.update(run[i:i + w] for i in range(len(run) - w + 1) if run[i:i + w] in names)
    return hits


def test_no_plaintext_in_any_output_byte(small_world):  # noqa: F811
    out, _, cfg = small_world
    pt = plaintext_identities(cfg)
    numbers = set(pt["id"]) | set(pt["phone"]) | set(pt["card"])
    names = set(pt["name"])
    texts = []
    for p in sorted(out.iterdir()):
        raw = p.read_bytes()
        texts.append(raw.decode("utf-8", errors="ignore"))
        texts.append(raw.decode("latin-1"))
        if p.suffix == ".parquet":
            texts.append(_decoded_text(p))
    blob = "\n".join(texts)
    assert len(blob) > 100_000
    hits = _scan(blob, numbers, names)
    assert not hits, f"{len(hits)} plaintext identity values found, e.g. {pii.redact(sorted(hits)[0])[:3]}…"
    # the scan itself can fail: planted plaintext is found
    planted = f"投诉人{pt['name'][5]}，电话{pt['phone'][3]}，卡号{pt['card'][2]}，证件{pt['id'][1]}"
    assert _scan(planted, numbers, names) == {pt["name"][5], pt["phone"][3], pt["card"][2], pt["id"][1]}


def test_identical_from_a_fresh_process_with_another_hash_seed(tmp_path, small_world):  # noqa: F811
    import os
    import subprocess
    import sys

    out, _, cfg = small_world
    env = dict(os.environ, PYTHONHASHSEED="12345", FENGKONG_PII_KEY=KEY.hex())
    code = ("from fengkong.simulate import SimConfig, simulate_world; "
            f"simulate_world({str(tmp_path / 'p')!r}, SimConfig(customers={cfg.customers}, months={cfg.months}, "
            f"seed={cfg.seed}))")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert _files(tmp_path / "p") == _files(out)
