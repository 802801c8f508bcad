"""Benchmark of the decision service with wrk on loopback: throughput and latency, kill test, memory.

Run: make bench-service  (or .venv/bin/python benchmarks/bench_service.py [--quick]; needs `wrk`, Debian package)

Measures, in one run:
  * a bare FastAPI/uvicorn endpoint returning a constant JSON body (the framework ceiling, the anchor);
  * ``fengkong serve`` embedded default (1 worker, SQLite store, SQLite feature state);
  * ``fengkong serve --workers 2`` with shared state (PostgreSQL store, Redis feature state);
each under an application + purchase mix with plaintext identity (tokenised by the service), keep-alive
connections, unique request ids; then SIGKILLs a worker under load and checks the audit chain, retries
and feature state; then samples one worker's memory over a bounded run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine, use_quick_results, write_section

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PG = os.environ.get("FENGKONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("FENGKONG_TEST_REDIS", "redis://127.0.0.1:6379/0")
KEY_HEX = "5e" * 32
BASE_TS = 1_780_000_000  # a fixed instant (2026-05-28); request k of thread t is at BASE_TS + (t*1e6 + k) ms

LUA = r"""
local templates = {}
local counter = 0
local tid = 0
local log = nil
local key = "__KEY__"
local tag = "__TAG__"
local record = __RECORD__
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  tid = tonumber(wrk.thread:get("tid"))
  for line in io.lines("__TEMPLATES__") do table.insert(templates, line) end
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
  if record then log = io.open("__LOGDIR__/wrk-" .. tid .. ".log", "w") end
end

function request()
  counter = counter + 1
  local n = tid * 1000000 + counter
  local id = tag .. "-" .. tid .. "-" .. counter
  local ms = n % 3000000
  local secs = __BASE__ + math.floor(ms / 1000)
  local ts = os.date("!%Y-%m-%dT%H:%M:%S", secs) .. string.format(".%03dZ", ms % 1000)
  local t = templates[(counter % #templates) + 1]
  local body = t:gsub("@@ID@@", id):gsub("@@TS@@", ts)
  if log then log:write("sent ", id, "\n") end
  return wrk.format("POST", "__PATH__", nil, body)
end

function response(status, headers, body)
  if log then
    local id = body:match('"request_id":"([^"]+)"')
    log:write("got ", status, " ", id or "-", "\n")
  end
end

function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, '
    .. '"p50": %d, "p99": %d, "p999": %d, "max": %d}\n', summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max))
end
"""

ANCHOR = r"""
import sys
import uvicorn
from fastapi import FastAPI, Request
try:
    from fengkong.service.respond import json_response
except ImportError:  # a baseline tree from before service/respond.py
    from fengkong.service.app import json_response
app = FastAPI()
BODY = {"ok": True, "outcome": "approve", "version": "1"}
@app.post("/const")
async def const(request: Request):
    await request.body()
    return json_response(BODY)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
            workers=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, path: str = "/readyz", timeout: float = 90) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            r = httpx.request("GET" if path != "/const" else "POST", url + path, timeout=2)
            if r.status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready")


def templates(path: Path, n: int = 2000, seed: int = 3) -> list[dict]:
    """Request bodies (application + purchase mix, plaintext identity) with @@ID@@ / @@TS@@ placeholders."""
    from fengkong.service.loadgen import mix

    reqs = mix(n, customers=max(n // 4, 1), seed=seed, purchase_share=0.6)
    out = []
    for r in reqs:
        r = dict(r, event_id="@@ID@@", ts="@@TS@@")
        out.append(r)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in out) + "\n", encoding="utf-8")
    return out


def body_for(tmpls: list[dict], rid: str) -> dict:
    """The exact body wrk sent for request id ``TAG-<thread>-<counter>`` (for retries)."""
    _tag, t, c = rid.rsplit("-", 2)
    tid, counter = int(t), int(c)
    n = tid * 1_000_000 + counter
    ms = n % 3_000_000
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(BASE_TS + ms // 1000)) + f".{ms % 1000:03d}Z"
    return dict(tmpls[counter % len(tmpls)], event_id=rid, ts=ts)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (from /proc)."""
    tot = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            tot += int(f[11]) + int(f[12])
    return tot / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, path: str, tmp: Path, key: str, seconds: float, conns: int, threads: int = 1,
            record: bool = False, tag: str | None = None, pids: list[int] | None = None) -> dict:
    tag = tag or uuid.uuid4().hex[:6]
    script = tmp / f"wrk-{tag}.lua"
    lua = (LUA.replace("__KEY__", key).replace("__TAG__", tag).replace("__TEMPLATES__", str(tmp / "templates.jsonl"))
           .replace("__RECORD__", "true" if record else "false").replace("__LOGDIR__", str(tmp))
           .replace("__BASE__", str(BASE_TS)).replace("__PATH__", path))
    script.write_text(lua)
    cmd = ["wrk", f"-t{threads}", f"-c{max(conns, threads)}", f"-d{int(seconds)}s", "--timeout", "10s", "-s",
           str(script), url]
    c0 = cpu_seconds(pids or [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    res = json.loads(line[8:])
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    # server CPU (every worker, all threads) per answered request: the cost that load on the machine hides
    res["cpu_ms"] = 1000 * (cpu_seconds(pids) - c0) / max(res["requests"], 1) if pids else float("nan")
    res["tag"] = tag
    return res


class Server:
    """``fengkong serve`` in a subprocess (own session, so a worker can be found and killed)."""

    def __init__(self, tmp: Path, env: dict[str, str], args: list[str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = tmp / f"serve-{self.port}.toml"
        cfg.write_text("[service]\naccess_log = false\nlog_level = \"warning\"\nrequest_timeout_s = 10.0\n"
                       + "".join(f"{k} = {v}\n" for k, v in env.pop("_toml", {}).items()))
        self.log = open(tmp / f"serve-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen([PY, "-m", "fengkong.cli", "serve", "--port", str(self.port), "--config",
                                      str(cfg), *args], cwd=tmp, env={**os.environ, **env}, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(self.url, self.proc)

    def workers(self) -> list[int]:
        """PIDs of the uvicorn worker processes (children of the master), or the master itself."""
        kids = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(stat[1]) == self.proc.pid:
                        kids.append(int(d.name))
        return kids or [self.proc.pid]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.log.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_store(url: str) -> str:
    from fengkong.runtime import strategy_kinds
    from fengkong.store import open_store
    from fengkong.strategy import SHIPPED, load_strategy

    st = open_store(url)
    for f in ("application.yaml", "purchase.yaml"):
        s = load_strategy(SHIPPED / f, features=strategy_kinds())
        st.versions.deploy(s)
        st.versions.activate(s.name, s.version)
    key = st.users.create_key("bench", ["decision_client"], "bench")
    st.close()
    return key


def pg_schema() -> tuple[str, str]:
    import sqlalchemy as sa

    schema = f"fk_bench_{uuid.uuid4().hex[:8]}"
    eng = sa.create_engine(PG)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    eng.dispose()
    return schema, f"{PG}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(PG)
    with eng.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    eng.dispose()


def redis_snapshot(prefix: str) -> str:
    import redis

    r = redis.Redis.from_url(REDIS)
    h = hashlib.sha256()
    for k in sorted(r.scan_iter(match=prefix + "*", count=1000)):
        kind = r.type(k)
        if kind == b"hash":
            val = b"\1".join(a + b"=" + b for a, b in sorted(r.hgetall(k).items()))
        elif kind == b"zset":
            val = b"\1".join(m + b"=" + repr(sc).encode() for m, sc in r.zrange(k, 0, -1, withscores=True))
        elif kind == b"set":
            val = b"\1".join(sorted(r.smembers(k)))
        elif kind == b"list":
            val = b"\1".join(r.lrange(k, 0, -1))
        else:
            val = r.get(k) or b""
        h.update(k + b"\0" + kind + b"\0" + val + b"\0")
    r.close()
    return h.hexdigest()


def redis_clear(prefix: str) -> None:
    import redis

    r = redis.Redis.from_url(REDIS)
    keys = list(r.scan_iter(match=prefix + "*", count=1000))
    for i in range(0, len(keys), 1000):
        r.delete(*keys[i:i + 1000])
    r.close()


def fmt(res: dict) -> str:
    cpu = res.get("cpu_ms", float("nan"))
    return (f"{res['rps']:,.0f} | {res['p50'] / 1000:.2f} | {res['p99'] / 1000:.2f} | {res['p999'] / 1000:.2f} | "
            f"{res['non2xx']} | {res['errors']} | {'–' if cpu != cpu else f'{cpu:.2f}'}")


def kill_test(tmp: Path, tmpls: list[dict], seconds: float) -> dict:
    """Two shared-state workers under load; SIGKILL one; then audit chain, retries and feature state."""
    import httpx

    from fengkong.store import open_store

    schema, url = pg_schema()
    prefix = f"fkbench:{uuid.uuid4().hex[:6]}:"
    key = make_store(url)
    srv = Server(tmp, {"FENGKONG_DB": url, "FENGKONG_REDIS": REDIS, "_toml": {"redis_prefix": f'"{prefix}"'}},
                 ["--workers", "2"])
    try:
        import threading

        box: dict = {}
        t = threading.Thread(target=lambda: box.update(run_wrk(srv.url, "/v1/decisions", tmp, key, seconds, 8,
                                                               record=True, tag="KILL")))
        for f in tmp.glob("wrk-*.log"):
            f.unlink()
        t.start()
        time.sleep(seconds / 3)
        victim = srv.workers()[0]
        os.kill(victim, signal.SIGKILL)
        t.join()
        sent, ok = set(), {}
        for f in tmp.glob("wrk-*.log"):
            for line in f.read_text().splitlines():
                parts = line.split()
                if parts[0] == "sent":
                    sent.add(parts[1])
                elif parts[0] == "got" and parts[1].startswith("2") and parts[2] != "-":
                    ok[parts[2]] = True
        st = open_store(url)
        missing = [rid for rid in ok if st.decisions.get(rid) is None]
        verify = subprocess.run([PY, "-m", "fengkong.cli", "audit", "verify", "--db", url], capture_output=True,
                                text=True)
        time.sleep(2)  # let the supervisor restart the worker
        before = redis_snapshot(prefix)
        stored = {rid: st.decisions.get(rid) for rid in ok}
        same, differ, retried = 0, 0, 0
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
            for rid in sorted(ok)[:2000]:
                d = c.post("/v1/decisions", json=body_for(tmpls, rid)).json()
                retried += 1
                rec = stored[rid]
                if rec is not None and d.get("replayed") and d["outcome"] == rec["outcome"] and \
                        d["decided_at"] == rec["decided_at"]:
                    same += 1
                else:
                    differ += 1
        after = redis_snapshot(prefix)
        unanswered = sent - set(ok)
        count = st.decisions.count()
        st.close()
        return {"sent": len(sent), "ok": len(ok), "unanswered": len(unanswered), "missing": len(missing),
                "verify": verify.returncode == 0, "verify_out": verify.stdout.strip() or verify.stderr.strip(),
                "retried": retried, "same": same, "differ": differ, "state_unchanged": before == after,
                "audit_rows": count, "victim": victim, "rps": box.get("rps", 0.0)}
    finally:
        srv.stop()
        redis_clear(prefix)
        drop_schema(schema)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="Short runs (smoke test of the script); writes benchmarks/RESULTS-quick.md.")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--memory-seconds", type=float, default=None)
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="Also run the embedded rows on the fengkong source tree in this directory (its src/, e.g. "
                         "`git archive REV src | tar -x -C DIR`): before/after figures in the same run.")
    ap.add_argument("--baseline-label", default="baseline", help="Name of the baseline in the table (e.g. a rev).")
    args = ap.parse_args()
    if args.quick:
        use_quick_results()
    secs = args.seconds or (3 if args.quick else 12)
    mem_secs = args.memory_seconds or (6 if args.quick else 180)
    os.environ["FENGKONG_PII_KEY"] = KEY_HEX
    tmp = Path(tempfile.mkdtemp(prefix="fk-bench-service-"))
    tmpls = templates(tmp / "templates.jsonl")
    rows: list[tuple[str, str, dict]] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()[0]

    # anchor: the framework ceiling
    port = free_port()
    anchor = subprocess.Popen([PY, "-c", ANCHOR, str(port)], start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}", anchor, "/const")
        for c in (1, 8):
            rows.append(("anchor: constant JSON, 1 worker", str(c),
                         run_wrk(f"http://127.0.0.1:{port}", "/const", tmp, "x", secs, c, pids=[anchor.pid])))
            print(rows[-1][0], c, fmt(rows[-1][2]), flush=True)
    finally:
        os.killpg(anchor.pid, signal.SIGTERM)
        anchor.wait(10)

    # embedded default: one worker, SQLite store + SQLite feature state
    emb = tmp / "embedded"
    emb.mkdir()
    key = make_store(f"sqlite:///{emb / 'fengkong.db'}")
    srv = Server(emb, {}, ["--db", f"sqlite:///{emb / 'fengkong.db'}"])
    try:
        for c in (1, 4, 16):
            rows.append(("fengkong serve, embedded (SQLite + SQLite state), 1 worker", str(c),
                         run_wrk(srv.url, "/v1/decisions", tmp, key, secs, c, pids=srv.workers())))
            print(rows[-1][0], c, fmt(rows[-1][2]), flush=True)
    finally:
        srv.stop()

    if args.baseline_src is not None:  # the same rows on an earlier source tree, for before/after
        base = tmp / "baseline"
        base.mkdir()
        key = make_store(f"sqlite:///{base / 'fengkong.db'}")
        srv = Server(base, {"PYTHONPATH": str(args.baseline_src.resolve() / "src")},
                     ["--db", f"sqlite:///{base / 'fengkong.db'}"])
        try:
            for c in (1, 4, 16):
                rows.append((f"before ({args.baseline_label}): embedded (SQLite + SQLite state), 1 worker", str(c),
                             run_wrk(srv.url, "/v1/decisions", tmp, key, secs, c, pids=srv.workers())))
                print(rows[-1][0], c, fmt(rows[-1][2]), flush=True)
        finally:
            srv.stop()

    # the service without the feature-state cost: SQLite store, in-memory feature state (not durable)
    mem0 = tmp / "memstate"
    mem0.mkdir()
    key = make_store(f"sqlite:///{mem0 / 'fengkong.db'}")
    srv = Server(mem0, {}, ["--db", f"sqlite:///{mem0 / 'fengkong.db'}", "--state", "memory"])
    try:
        for c in (1, 4):
            rows.append(("reference: SQLite store, in-memory feature state (not durable), 1 worker", str(c),
                         run_wrk(srv.url, "/v1/decisions", tmp, key, secs, c, pids=srv.workers())))
            print(rows[-1][0], c, fmt(rows[-1][2]), flush=True)
    finally:
        srv.stop()

    # shared state: two workers, PostgreSQL + Redis
    schema, url = pg_schema()
    prefix = f"fkbench:{uuid.uuid4().hex[:6]}:"
    key = make_store(url)
    srv = Server(tmp, {"FENGKONG_DB": url, "FENGKONG_REDIS": REDIS, "_toml": {"redis_prefix": f'"{prefix}"'}},
                 ["--workers", "2"])
    try:
        for c in (1, 4, 16):
            rows.append(("fengkong serve, shared (PostgreSQL + Redis), 2 workers", str(c),
                         run_wrk(srv.url, "/v1/decisions", tmp, key, secs, c, threads=1, pids=srv.workers())))
            print(rows[-1][0], c, fmt(rows[-1][2]), flush=True)
    finally:
        srv.stop()
        redis_clear(prefix)
        drop_schema(schema)

    kill = kill_test(tmp, tmpls, max(secs, 9))
    print("kill test", kill, flush=True)

    # memory of one worker over a bounded run (embedded default)
    mem = tmp / "memory"
    mem.mkdir()
    key = make_store(f"sqlite:///{mem / 'fengkong.db'}")
    srv = Server(mem, {}, ["--db", f"sqlite:///{mem / 'fengkong.db'}"])
    samples = []
    from fengkong.store import open_store

    try:
        pid = srv.workers()[0]
        samples.append((0, rss_mb(pid)))
        slice_s = max(mem_secs / 6, 3)
        t_end = time.time() + mem_secs
        while time.time() < t_end:
            run_wrk(srv.url, "/v1/decisions", tmp, key, slice_s, 4)
            st = open_store(f"sqlite:///{mem / 'fengkong.db'}")
            samples.append((st.decisions.count(), rss_mb(pid)))
            st.close()
            print("memory", samples[-1], flush=True)
        wal_mb = {f.name: f.stat().st_size / 2**20 for f in sorted(mem.glob("*-wal"))}
    finally:
        srv.stop()

    anchor_rps = max(r[2]["rps"] for r in rows if r[0].startswith("anchor"))
    table = ["| server | connections | requests/s | p50 ms | p99 ms | p99.9 ms | non-2xx | socket errors | "
             "server CPU ms/request | ÷ anchor |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, c, res in rows:
        table.append(f"| {name} | {c} | {fmt(res)} | {res['rps'] / anchor_rps:.3f} |")
    emb_rows = [r[2] for r in rows if r[0].startswith("fengkong serve, embedded")]
    sh_rows = [r[2] for r in rows if "shared" in r[0]]

    def best(rs: list[dict], p99_ms: float) -> str:
        ok = [r for r in rs if r["p99"] / 1000 <= p99_ms and r["non2xx"] == 0]
        return f"{max(r['rps'] for r in ok):,.0f}/s" if ok else "none of the runs"

    goal = [f"Goal embedded: ≥ 2 000 decisions/s with p99 ≤ 10 ms — best run meeting p99 ≤ 10 ms: "
            f"{best(emb_rows, 10)}; highest throughput {max(r['rps'] for r in emb_rows):,.0f}/s "
            f"({'met' if any(r['rps'] >= 2000 and r['p99'] <= 10000 for r in emb_rows) else 'NOT met'}).",
            f"Goal shared state: ≥ 1 500 decisions/s with p99 ≤ 10 ms — best run meeting p99 ≤ 10 ms: "
            f"{best(sh_rows, 10)}; highest throughput {max(r['rps'] for r in sh_rows):,.0f}/s "
            f"({'met' if any(r['rps'] >= 1500 and r['p99'] <= 10000 for r in sh_rows) else 'NOT met'})."]
    killtxt = (f"Kill test (2 workers, PostgreSQL + Redis, 8 connections, {max(secs, 9):.0f} s, SIGKILL of worker "
               f"pid {kill['victim']} a third of the way in): {kill['sent']:,} requests sent, {kill['ok']:,} answered "
               f"2xx, {kill['unanswered']:,} without an answer (in flight on the killed worker or refused while it "
               f"restarted); 2xx decisions missing from the audit chain: **{kill['missing']}**; `fengkong audit "
               f"verify`: **{'ok' if kill['verify'] else 'BROKEN'}** ({kill['verify_out']}); {kill['retried']:,} "
               f"clients retried with the same request id: {kill['same']:,} got the same stored decision, "
               f"{kill['differ']} did not; feature state (Redis, hashed) unchanged by the retries: "
               f"**{kill['state_unchanged']}**.")
    memtxt = (f"Memory of one embedded worker (VmRSS) while deciding (bounded run of {mem_secs:.0f} s; 1 M decisions "
              f"at this rate would take longer than the benchmark budget; the SQLite feature-state cache is capped at "
              f"200 000 keys): "
              + ", ".join(f"{n:,} decisions → {m:.0f} MB" for n, m in samples) + ". SQLite WAL files at the end of "
              "that run (checkpointed in the background, reused from the start once a checkpoint catches up): "
              + ", ".join(f"{k} {v:.0f} MB" for k, v in wal_mb.items() if v >= 1) + ".")
    notes = (f"Machine: {machine()} (shared with other helpers; wrk runs on the same 2 cores as the server, the "
             f"database and Redis; 1-minute load average {load_start:.1f} at the start of the run and "
             f"{os.getloadavg()[0]:.1f} at the end — on 2 cores). Run {started}. wrk 4.1 (Debian), 1 thread, keep-alive, {secs:.0f} s per row, "
             f"closed loop (each connection sends its next request when the answer arrives). Bodies: "
             f"application + purchase mix (40 % / 60 %), plaintext ID number, name, phone and card tokenised by the "
             f"service, unique request ids, every request decided, recorded in the hash-chained audit log and "
             f"answered only after its commit. Anchor: a FastAPI route on the same uvicorn (uvloop + httptools) that "
             f"reads the body and returns a constant JSON body. Server CPU ms/request: user + system CPU of the server's "
             f"worker processes (all their threads) during the row ÷ requests answered; unlike requests/s it is "
             f"hardly moved by other load on the machine.")
    md = "\n".join(table) + "\n\n" + "\n\n".join([*goal, killtxt, memtxt, notes])
    print(md)
    write_section("Decision service (fengkong serve, wrk on loopback)", md)


if __name__ == "__main__":
    main()
