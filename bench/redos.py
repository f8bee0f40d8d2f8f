"""ReDoS: the catastrophic pattern on RE2, against Python's backtracking ``re``.

``^([a-z0-9]+-?)*$`` against ``"a" * n + "!"`` costs a backtracking engine
about 2^n steps. The baseline is Python's ``re`` on the same pattern at a
length it can still finish (``--baseline-chars``, default 22), measured in this
run; then RE2 (:func:`clusterforge.safety.compile_re2`) at 28 characters (the
issue's 11-second case) and at 10,000. Then a real API server (in-process,
loopback) with a sensor filtering on that pattern receives the 28-character
payload in a loop while ``/healthz`` is polled: its worst latency is printed
next to the baseline of ``/healthz`` on the idle server.

Writes ``bench/results/redos.json``. Usage: ``python bench/redos.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).parent / "results"
EVIL = "^([a-z0-9]+-?)*$"


def timed(call: object, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()  # type: ignore[operator]
    return (time.perf_counter() - start) / repeat


def healthz_worst(url: str, stop: threading.Event) -> list[float]:
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            start = time.perf_counter()
            client.get("/healthz")
            latencies.append(time.perf_counter() - start)
    return latencies


def server_under_attack(payload: str, seconds: float) -> dict[str, float]:
    from tests.api.conftest import start_server, stop_server

    home = Path(tempfile.mkdtemp(prefix="cf-redos-", dir=ROOT / ".bench-scratch"))
    server = start_server(home, sensor_dirs=(ROOT / "tests" / "hostile" / "sensors",))
    try:
        idle_stop = threading.Event()
        timer = threading.Timer(2.0, idle_stop.set)
        timer.start()
        idle = healthz_worst(server.url, idle_stop)
        busy_stop = threading.Event()
        sent = 0
        result: dict[str, list[float]] = {}
        poller = threading.Thread(
            target=lambda: result.setdefault("busy", healthz_worst(server.url, busy_stop))
        )
        poller.start()
        deadline = time.monotonic() + seconds
        answer_times: list[float] = []
        with server.client() as client:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                client.post("/api/v1/events/redos/check", json={"name": payload})
                answer_times.append(time.perf_counter() - start)
                sent += 1
        busy_stop.set()
        poller.join()
        busy = result["busy"]
        return {
            "payloads_sent": sent,
            "payload_answer_max_ms": max(answer_times) * 1000,
            "healthz_idle_max_ms": max(idle) * 1000,
            "healthz_under_attack_max_ms": max(busy) * 1000,
            "healthz_under_attack_p50_ms": sorted(busy)[len(busy) // 2] * 1000,
        }
    finally:
        stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-chars", type=int, default=22)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    from clusterforge.safety import compile_re2

    near = "a" * args.baseline_chars + "!"
    baseline = timed(lambda: re.search(EVIL, near))
    program = compile_re2(EVIL)
    re2_28 = timed(lambda: program.search("a" * 28 + "!"), repeat=100)
    re2_10k = timed(lambda: program.search("a" * 10_000 + "!"), repeat=20)
    result = {
        "baseline": f"python re, {args.baseline_chars} chars",
        "baseline_s": baseline,
        "python_re_28_chars_estimated_s": baseline * 2 ** (28 - args.baseline_chars),
        "re2_28_chars_ms": re2_28 * 1000,
        "re2_10000_chars_ms": re2_10k * 1000,
        "speedup_at_baseline_length": baseline
        / max(timed(lambda: program.search(near), repeat=100), 1e-9),
        **server_under_attack("a" * 28 + "!", args.seconds),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "redos.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
