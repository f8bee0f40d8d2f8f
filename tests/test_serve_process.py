"""The shared ``clusterforge serve`` starter (:mod:`tests.serve_process`) when its
port is taken: the races it exists for, made to happen on purpose with real
processes. The port is held by another HTTP server that answers 200 to
everything, ``/readyz`` included, so only the check that the child itself
listens tells the two apart."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests import serve_process
from tests.serve_process import start_serve, stop_serve

TOKEN = "serve-process-token-0123456789"
ARGS = ["--workers", "1"]


class _AlwaysReady(BaseHTTPRequestHandler):
    """Answers 200 to every GET, ``/readyz`` included: a server that is not ours."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _other_server(port: int = 0) -> Iterator[ThreadingHTTPServer]:
    """Another HTTP server on loopback ``port`` (a free one by default)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _AlwaysReady)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "CLUSTERFORGE_HOME": str(home), "CLUSTERFORGE_TOKENS": TOKEN}


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _ours(process: subprocess.Popen[bytes], url: str) -> bool:
    """The child answers ``url`` ready and holds its listening socket."""
    ready = httpx.get(f"{url}/readyz", timeout=30).json()["status"] == "ready"
    return ready and serve_process._listens(process.pid, _port(url))


def test_a_free_port_taken_by_another_server_is_retried_on_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "serve.log"
    with _other_server() as other:
        taken = other.server_address[1]
        offered = iter([taken])  # the first "free" port: taken meanwhile, by a server
        real = serve_process.free_port
        monkeypatch.setattr(serve_process, "free_port", lambda: next(offered, None) or real())
        process, url = start_serve(ARGS, _env(tmp_path / "home"), log)
    try:
        assert _port(url) != taken  # the other server's answer was not taken for ours
        assert "address already in use" in log.read_text().lower()
        assert _ours(process, url)
    finally:
        stop_serve(process, None)


def test_a_restart_waits_for_its_port_and_keeps_it(tmp_path: Path) -> None:
    """Restarted with ``port=``, the server gets the port it had back once whoever
    took it meanwhile lets go; the log goes on from the first run's."""
    log, env = tmp_path / "serve.log", _env(tmp_path / "home")
    process, url = start_serve(ARGS, env, log)
    stop_serve(process, None)
    first = log.read_text()
    restarted: list[tuple[subprocess.Popen[bytes], str]] = []
    failed: list[BaseException] = []

    def restart() -> None:
        try:
            restarted.append(start_serve(ARGS, env, log, port=_port(url)))
        except BaseException as err:  # reported by the test's thread
            failed.append(err)

    with _other_server(_port(url)):
        thread = threading.Thread(target=restart)
        thread.start()
        deadline = time.monotonic() + 120
        while "address already in use" not in log.read_text()[len(first) :].lower():
            assert thread.is_alive(), failed  # it must keep trying while the port is taken
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    thread.join(120)
    assert not failed, failed
    ((process, again),) = restarted
    try:
        assert again == url
        assert _ours(process, url)
        assert log.read_text().startswith(first)  # appended to, not overwritten
    finally:
        stop_serve(process, None)


def test_a_restart_says_so_when_its_port_stays_taken(tmp_path: Path) -> None:
    with _other_server() as other:
        port = other.server_address[1]
        with pytest.raises(RuntimeError, match=f"port {port} stayed in use"):
            start_serve(ARGS, _env(tmp_path / "home"), tmp_path / "serve.log", 10.0, port=port)
