"""The demo runs end to end and no plaintext identity element appears in anything it writes."""

import io
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from fengkong import demo
from fengkong.simulate import SimConfig, plaintext_identities

CJK = re.compile(r"[\u4e00-\u9fff]+")
DIGITS = re.compile(r"[0-9X]{11,}")


def _texts(path: Path) -> list[str]:
    """Every readable text inside a file: raw bytes, decoded Parquet, the XML parts of xlsx."""
    raw = path.read_bytes()
    out = [raw.decode("utf-8", errors="ignore")]
    if path.suffix == ".parquet":
        buf = io.StringIO()
        df = pl.read_parquet(path)
        df = df.with_columns([pl.col(c).cast(pl.List(pl.Utf8)).list.join("|") for c, d in df.schema.items()
                              if isinstance(d, pl.List)])
        df.write_csv(buf)
        out.append(buf.getvalue())
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            out += [z.read(n).decode("utf-8", errors="ignore") for n in z.namelist()]
    return out


def _leaks(text: str, numbers: set[str], names: set[str]) -> set[str]:
    found = set()
    for run in DIGITS.findall(text):
        for width in (11, 16, 17, 18, 19):
            for i in range(len(run) - width + 1):
                if run[i:i + width] in numbers:
                    found.add(run[i:i + width])
    for run in CJK.findall(text):
        for width in (2, 3, 4):
            for i in range(len(run) - width + 1):
                if run[i:i + width] in names:
                    found.add(run[i:i + width])
    return found


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    console = Console(record=True, width=120, file=io.StringIO())
    cfg = demo.DemoConfig(customers=600)
    import fengkong.events.files as files
    import fengkong.features.providers as providers

    calls = {"read_world": 0, "backfill_all": 0}

    def counted(name, real):
        def wrapper(*a, **kw):
            calls[name] += 1
            return real(*a, **kw)
        return wrapper

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "read_world", counted("read_world", files.read_world))
        mp.setattr(providers, "backfill_all", counted("backfill_all", providers.backfill_all))
        world = demo.run(out, cfg, console)
    # every section shares one read of the world and one backfill (the service stage's server is its own process)
    assert (world.reads, world.backfills) == (1, 1) and calls == {"read_world": 1, "backfill_all": 1}, calls
    return out, cfg


def test_demo_writes_world_and_log(demo_out):
    out, _ = demo_out
    log = (out / "demo.log").read_text()
    assert "Events per type" in log and "identity_theft" in log
    assert (out / "world" / "manifest.json").exists()


def test_no_plaintext_identity_in_any_demo_output(demo_out):
    out, cfg = demo_out
    ids = plaintext_identities(SimConfig(customers=cfg.customers, months=cfg.months, seed=cfg.seed))
    numbers = {v for k, vals in ids.items() if k != "name" for v in vals}
    names = set(ids["name"])
    assert len(numbers) > 1000 and len(names) > 100
    # the scanner itself must be able to fail
    some_phone = next(iter(ids["phone"]))
    assert _leaks(f"x{some_phone}y", numbers, names) == {some_phone}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 9
    leaks = {str(p.relative_to(out)): found for p in files for t in _texts(p) if (found := _leaks(t, numbers, names))}
    assert not leaks


def test_demo_ends_by_deciding_over_http(demo_out):
    out, _ = demo_out
    log = (out / "demo.log").read_text()
    assert "POST /v1/decisions" in log and '"replayed": true' in log and "→ 409" in log
