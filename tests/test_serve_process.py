"""The shared ``clusterforge serve`` starter (:mod:`tests.serve_process`) when its
port is taken: the race it exists for, made to happen on purpose."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests import serve_process
from tests.serve_process import start_serve, stop_serve

TOKEN = "serve-process-token-0123456789"


class _AlwaysReady(BaseHTTPRequestHandler):
    """Answers 200 to every GET, ``/readyz`` included: a server that is not ours."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def foreign() -> Iterator[int]:
    """The port of another HTTP server, listening on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysReady)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "CLUSTERFORGE_HOME": str(home), "CLUSTERFORGE_TOKENS": TOKEN}


def test_a_port_taken_by_another_server_is_retried_on_a_new_one(
    foreign: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered = iter([foreign])  # the first "free" port: taken meanwhile, by a server
    real = serve_process.free_port
    monkeypatch.setattr(serve_process, "free_port", lambda: next(offered, None) or real())
    log = tmp_path / "serve.log"
    process, url = start_serve(["--workers", "1"], _env(tmp_path / "home"), log)
    try:
        assert url != f"http://127.0.0.1:{foreign}"  # its answer was not taken for ours
        assert "address already in use" in log.read_text().lower()
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
    finally:
        stop_serve(process, None)


def test_a_restart_keeps_its_port_and_says_so_when_it_stays_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"port {port} stayed in use"):
            start_serve(
                ["--workers", "1"], _env(tmp_path / "home"), tmp_path / "log", 5.0, port=port
            )
