"""``clusterforge serve --processes N``: several acceptors and a controller behind one port.

Real servers in their own process trees (supervisor, controller, acceptors),
driven over fresh loopback connections so requests land on different
acceptors; nothing is mocked. What must hold across processes: every accepted
event is stored once and run by the controller, one idempotency key starts
one build, the rate limit is per token for the whole server, ``/metrics``
sums every process, a multi-dependency sensor fires once, a dead child is
replaced without losing work (nor refusing a connection meanwhile), and
stopping (or killing) the supervisor leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import SENSORS, TOKEN
from tests.serve_process import free_port, start_serve, stop_serve


@dataclass
class Served:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path

    def children(self) -> dict[str, int]:
        """The supervisor's children by name (``controller``, ``acceptor-0``…)."""
        found: dict[str, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(stat[1]) == self.process.pid and len(argv) > 3:
                found[argv[3].decode()] = int(entry.name)
        return found


def _start(home: Path, *extra: str) -> Served:
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "CLUSTERFORGE_TOKENS": TOKEN}
    args = [
        "--processes", "2", "--workers", "2", "--log-level", "warning",
        "--sensor-dir", str(SENSORS), *extra,
    ]  # fmt: skip
    log = home.parent / f"{home.name}.stderr"
    process, url = start_serve(args, env, log)
    served = Served(url, home, process, log)
    deadline = time.monotonic() + 60
    while len(served.children()) < 3:  # the controller and both acceptors
        assert time.monotonic() < deadline, served.children()
        time.sleep(0.1)
    return served


def _stop(served: Served) -> None:
    stop_serve(served.process, served.log)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = _start(tmp_path_factory.mktemp("mp-home"), "--rate-limit", "0")
    try:
        yield running
    finally:
        _stop(running)


def _post(url: str, path: str, body: Any, **headers: str) -> httpx.Response:
    """One request on a connection of its own (so requests spread over the acceptors)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        return client.post(path, json=body, headers={"Authorization": f"Bearer {TOKEN}", **headers})


def _concurrently(count: int, call: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda i: call(i), range(count)))


def _wait_done(url: str, build_id: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=30) as client:
        while True:
            doc = client.get(
                f"/api/v1/builds/{build_id}", headers={"Authorization": f"Bearer {TOKEN}"}
            ).json()
            phase: str = doc["status"]["phase"]
            if phase in ("Succeeded", "Failed", "Error"):
                return phase
            assert time.monotonic() < deadline, f"{build_id} still {phase}"
            time.sleep(0.1)


def _triggers_accepted(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    for line in text.splitlines():
        ours = 'source="event:test"' in line and 'result="accepted"' in line
        if line.startswith("clusterforge_triggers_total{") and ours:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_events_over_many_connections_are_stored_once_each_and_run(served: Served) -> None:
    answers = _concurrently(
        24, lambda i: _post(served.url, "/api/v1/events/test/steps", {"pause": "0"})
    )
    assert [a.status_code for a in answers] == [202] * 24
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 24
    # the acceptors stored them handed off; the controller runs every one
    assert {_wait_done(served.url, build_id) for build_id in ids} == {"Succeeded"}


def test_every_acceptor_takes_requests_and_metrics_sum_them(served: Served) -> None:
    before = _triggers_accepted(served.url)
    acceptors = {n: p for n, p in served.children().items() if n.startswith("acceptor")}
    answers = _concurrently(
        30, lambda i: _post(served.url, "/api/v1/events/test/steps", {"pause": "0"})
    )
    assert all(a.status_code == 202 for a in answers)
    # each acceptor keeps its own counter file; both counted some of these
    metrics_dir = _environ(next(iter(acceptors.values())))["PROMETHEUS_MULTIPROC_DIR"]
    counted = {pid for pid in acceptors.values() if Path(metrics_dir, f"counter_{pid}.db").exists()}
    assert counted == set(acceptors.values())
    # whichever acceptor answers the scrape, it reports the whole server
    totals = {_triggers_accepted(served.url) for _ in range(8)}
    assert totals == {before + 30}


def test_one_idempotency_key_starts_one_build_across_processes(served: Served) -> None:
    answers = _concurrently(
        16,
        lambda i: _post(
            served.url, "/api/v1/events/test/steps", {"pause": "0"}, **{"Idempotency-Key": "k-1"}
        ),
    )
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(1 for a in answers if not a.json().get("replayed")) == 1
    # a different body under the same key is refused, whichever process answers
    again = _post(
        served.url, "/api/v1/events/test/steps", {"pause": "1"}, **{"Idempotency-Key": "k-1"}
    )
    assert again.status_code == 422
    assert again.json()["error"]["field"] == "Idempotency-Key"


def test_a_two_dependency_sensor_fires_once_per_pair(served: Served) -> None:
    fired: list[str] = []
    for _round in range(6):
        answers = _concurrently(
            2,
            lambda i: _post(served.url, f"/api/v1/events/pair/{('left', 'right')[i]}", {"v": "x"}),
        )
        assert [a.status_code for a in answers] == [202, 202]
        builds = [b["id"] for a in answers for b in a.json()["builds"]]
        waiting = [a for a in answers if a.json()["waiting"]]
        assert len(builds) == 1, [a.json() for a in answers]
        assert len(waiting) == 1, [a.json() for a in answers]
        fired.extend(builds)
    assert len(set(fired)) == 6


def test_a_killed_child_is_replaced_and_nothing_accepted_is_lost(served: Served) -> None:
    before = served.children()
    os.kill(before["controller"], signal.SIGKILL)
    os.kill(before["acceptor-0"], signal.SIGKILL)
    # meanwhile the other acceptor (or the backlog) still takes events
    answers = _concurrently(
        6, lambda i: _post(served.url, "/api/v1/events/test/steps", {"pause": "0"})
    )
    assert [a.status_code for a in answers] == [202] * 6
    deadline = time.monotonic() + 30
    while True:
        now = served.children()
        replaced = all(now.get(n) not in (None, before[n]) for n in ("controller", "acceptor-0"))
        if replaced:
            break
        assert time.monotonic() < deadline, now
        time.sleep(0.1)
    # the new controller runs what was accepted while there was none
    assert {_wait_done(served.url, a.json()["id"]) for a in answers} == {"Succeeded"}


def test_requests_wait_for_replacements_while_no_acceptor_runs(served: Served) -> None:
    before = served.children()
    acceptors = [n for n in before if n.startswith("acceptor")]
    for name in acceptors:
        os.kill(before[name], signal.SIGKILL)
    # the supervisor still listens on their sockets: the connections queue, none is refused
    answers = _concurrently(
        4, lambda i: _post(served.url, "/api/v1/events/test/steps", {"pause": "0"})
    )
    assert [a.status_code for a in answers] == [202] * 4
    now = served.children()
    assert all(now.get(n) not in (None, before[n]) for n in acceptors), now
    assert {_wait_done(served.url, a.json()["id"]) for a in answers} == {"Succeeded"}


def test_the_rate_limit_is_per_token_for_the_whole_server(tmp_path: Path) -> None:
    running = _start(tmp_path / "home", "--rate-limit", "0.6/min")  # burst: one request
    try:
        answers = _concurrently(
            12, lambda i: _post(running.url, "/api/v1/events/test/steps", {"pause": "0"})
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [202] + [429] * 11
        assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)
    finally:
        _stop(running)


def test_sigterm_stops_every_process_and_frees_the_port(tmp_path: Path) -> None:
    running = _start(tmp_path / "home")
    children = running.children()
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(30) == 0
    for pid in children.values():
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    port = int(running.url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nobody holds it any more


def test_children_exit_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    running = _start(tmp_path / "home")
    children = running.children()
    running.process.kill()
    running.process.wait(10)
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{pid}").exists() and not _is_zombie(pid) for pid in children.values()):
        assert time.monotonic() < deadline, "a child outlived its supervisor"
        time.sleep(0.1)


def _environ(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(e.split("=", 1) for e in entries if "=" in e)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--processes", "0"], {}, "--processes"),
        ([], {"CLUSTERFORGE_PROCESSES": "many"}, "CLUSTERFORGE_PROCESSES"),
    ],
)
def test_a_bad_process_count_is_one_clear_error(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clusterforge.cli", "serve", "--port", str(free_port()), *args],
        env={**os.environ, "CLUSTERFORGE_HOME": str(tmp_path), "CLUSTERFORGE_TOKENS": TOKEN, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_clear_error_before_any_child_starts(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "clusterforge.cli", "serve", "--port", str(port),
             "--processes", "2"],
            env={**os.environ, "CLUSTERFORGE_HOME": str(tmp_path), "CLUSTERFORGE_TOKENS": TOKEN,
                 "CLUSTERFORGE_SCRATCH": str(scratch)},
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"--port {port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(scratch.iterdir()) == []  # nothing half-made is left behind


def test_one_idempotency_key_starts_one_build_request_across_processes(tmp_path: Path) -> None:
    import yaml

    spec = yaml.safe_load((Path(__file__).parents[2] / "examples" / "dev-cluster.yaml").read_text())
    spec["metadata"]["name"] = "mp-once"
    running = _start(tmp_path / "home", "--workers", "0")  # stored, never run: no cluster
    try:
        headers = {"Idempotency-Key": "build-once"}
        answers = _concurrently(10, lambda i: _post(running.url, "/api/v1/builds", spec, **headers))
        # the first claims the key; a twin is replayed, or told to retry while it is held
        assert {a.status_code for a in answers} <= {202, 409}
        held = [a for a in answers if a.status_code == 409]
        assert all(a.headers["Retry-After"] == "1" for a in held)
        ids = {a.json()["id"] for a in answers if a.status_code == 202}
        assert len(ids) == 1
        again = _post(running.url, "/api/v1/builds", spec, **headers)
        assert again.status_code == 202
        assert again.json()["id"] in ids
        with httpx.Client(base_url=running.url, timeout=30) as client:
            listed = client.get(
                "/api/v1/builds",
                params={"cluster": "mp-once"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ).json()["items"]
        assert [b["id"] for b in listed] == list(ids)
    finally:
        _stop(running)
