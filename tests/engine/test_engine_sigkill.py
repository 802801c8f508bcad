"""SIGKILL in the middle of `fengkong decide -`: no returned decision is lost, nothing is counted twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from fengkong.events import TZ
from fengkong.store import open_store

SHIPPED = Path(__file__).parents[2] / "src" / "fengkong" / "strategies" / "application.yaml"


def _events(n: int) -> list[dict]:
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=TZ)
    out = []
    for i in range(n):
        out.append({
            "event_id": f"K{i:04d}", "event_type": "application", "ts": (t0 + dt.timedelta(minutes=7 * i)).isoformat(),
            "customer_id": f"C{i % 4}", "product": "credit_line", "amount_fen": 2_000_000, "term_months": 12,
            "id_token": f"idtok{i % 4}", "phone_token": f"ph{i % 3}", "device_id": f"dev{i % 2}", "ip": "10.0.0.1",
            "age": 33, "declared_income_fen": 1_200_000, "monthly_debt_payment_fen": 100_000, "channel": "app",
            "province": "GD", "ip_province": "GD", "bureau_score": 700, "phone_tenure_months": 30,
            "social_insurance_months": 30, "bureau_hard_inquiries_30d": 0,
        })
    return out


def _record(d: dict) -> dict:
    """A `decide --json` line without the per-call ``replayed`` flag: what the audit log stores."""
    return {k: v for k, v in d.items() if k != "replayed"}


def _proc(tmp: Path, tag: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "fengkong.cli", "decide", "-", "--json", "--strategy", str(SHIPPED),
           "--db", f"sqlite:///{tmp / (tag + '.db')}", "--state", str(tmp / (tag + '_state.db'))]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1, env=dict(os.environ), cwd=tmp)


def _run_all(tmp: Path, tag: str, events: list[dict]) -> list[dict]:
    p = _proc(tmp, tag)
    out, err = p.communicate("".join(json.dumps(e) + "\n" for e in events), timeout=120)
    assert p.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_sigkill_mid_stream_loses_nothing_and_double_counts_nothing(tmp_path):
    events = _events(40)
    probe = _events(41)[-1]
    # reference: one uninterrupted run
    ref = {d["request_id"]: d for d in _run_all(tmp_path, "ref", [*events, probe])}

    p = _proc(tmp_path, "crash")
    printed: list[dict] = []
    for e in events[:25]:
        p.stdin.write(json.dumps(e) + "\n")
        p.stdin.flush()
        printed.append(json.loads(p.stdout.readline()))
    for e in events[25:30]:  # in flight when the process dies
        p.stdin.write(json.dumps(e) + "\n")
    p.stdin.flush()
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    rest = p.stdout.read()
    for f in (p.stdin, p.stdout, p.stderr):
        with contextlib.suppress(BrokenPipeError):
            f.close()
    printed += [json.loads(line) for line in rest.splitlines() if line.strip()]
    assert p.returncode == -signal.SIGKILL
    assert len(printed) >= 25

    st = open_store(f"sqlite:///{tmp_path / 'crash.db'}")
    assert all(d["replayed"] is False for d in printed)  # first decisions, not stored ones
    for d in printed:  # every decision the caller saw is stored, unchanged
        stored = st.decisions.get(d["request_id"])
        assert stored is not None and stored == _record(d)
    st.close()

    # restart and re-send everything, then the probe
    again = _run_all(tmp_path, "crash", [*events, probe])
    by_id = {d["request_id"]: d for d in again}
    for d in printed:  # the stored decision is returned, not a new one, and says so
        assert _record(by_id[d["request_id"]]) == _record(d) and by_id[d["request_id"]]["replayed"] is True
    assert by_id[probe["event_id"]]["replayed"] is False
    # feature state is not double counted: the probe sees the same features as the uninterrupted run
    assert by_id[probe["event_id"]]["features"] == ref[probe["event_id"]]["features"]
    assert by_id[probe["event_id"]]["outcome"] == ref[probe["event_id"]]["outcome"]
    for e in events:
        assert by_id[e["event_id"]]["outcome"] == ref[e["event_id"]]["outcome"]
    st = open_store(f"sqlite:///{tmp_path / 'crash.db'}")
    assert st.decisions.count() == len(events) + 1 and st.decisions.verify().ok
    st.close()
