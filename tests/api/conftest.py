"""A real API server per test module: uvicorn on a free loopback port, in a thread.

The test binds and listens on that port itself and hands uvicorn the socket:
a port picked with bind(0) and closed could be taken (say by another run's
outgoing connection) before uvicorn bound it again.

Each server has its own state directory under pytest's basetemp (outside
/tmp, which steps see privately), the test sensors of ``sensors/``, and a
known token. Steps run as real subprocesses; nothing is mocked.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

TOKEN = "test-token-0123456789abcdef"
OTHER_TOKEN = "other-token-0123456789abcdef"
SENSORS = Path(__file__).parent / "sensors"


@dataclass
class Server:
    url: str
    home: Path
    token: str
    thread: threading.Thread
    server: Any

    def client(self, token: str | None = TOKEN, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kwargs)

    def wait_done(
        self, client: httpx.Client, build_id: str, timeout: float = 60.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            doc: dict[str, Any] = client.get(f"/api/v1/builds/{build_id}").json()
            if doc["status"]["phase"] in ("Succeeded", "Failed", "Error"):
                return doc
            if time.monotonic() > deadline:
                raise AssertionError(f"{build_id} still {doc['status']['phase']} after {timeout}s")
            time.sleep(0.1)


def start_server(home: Path, **overrides: Any) -> Server:
    import uvicorn

    from clusterforge.api import Settings, create_app

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(2048)
    settings = Settings(
        host="127.0.0.1",
        port=listening.getsockname()[1],
        data_dir=home,
        tokens=(TOKEN, OTHER_TOKEN),
        sensor_dirs=(SENSORS,),
        rate_limit=10_000.0,
        workers=2,
    )
    for key, value in overrides.items():
        setattr(settings, key, value)
    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listening]}, name="api-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    return Server(f"http://127.0.0.1:{settings.port}", home, TOKEN, thread, server)


def stop_server(server: Server) -> None:
    server.server.should_exit = True
    server.thread.join(15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("api-home")
    previous = os.environ.get("CLUSTERFORGE_HOME")
    os.environ["CLUSTERFORGE_HOME"] = str(home)  # the pipeline's artifact paths agree
    running = start_server(home)
    try:
        yield running
    finally:
        stop_server(running)
        if previous is None:
            os.environ.pop("CLUSTERFORGE_HOME", None)
        else:
            os.environ["CLUSTERFORGE_HOME"] = previous


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


PUSH: dict[str, Any] = {
    "ref": "refs/heads/main",
    "head_commit": {"id": "abc123"},
    "commits": [{"id": "a"}, {"id": "b"}],
    "repository": {"name": "web", "size": 42, "stars": 7, "owner": {"login": "acme"}},
}
