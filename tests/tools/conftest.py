"""Stand-ins for the outside world the resolver talks to.

* ``make_binary`` writes a tiny executable script that prints a version, the
  way a real tool answers ``--version``.
* ``file_server`` serves files over HTTP on loopback (an official download).
* ``module_proxy`` speaks the Go module proxy protocol for a few in-memory
  modules (``/@v/list``, ``.info``, ``.mod``, ``.zip``) and refuses others with
  a 403, like a registry that does not carry a version.
"""

from __future__ import annotations

import io
import json
import shutil
import textwrap
import threading
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

MakeBinary = Callable[[Path, str, str], Path]


@pytest.fixture
def make_binary() -> MakeBinary:
    def make(directory: Path, name: str, version: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        path.write_text(f'#!/bin/sh\necho "{name} version {version}"\n', encoding="utf-8")
        path.chmod(0o755)
        return path

    return make


class _Server:
    def __init__(self, routes: dict[str, tuple[int, bytes]]) -> None:
        self.routes = routes
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, body = server.routes.get(
                    self.path, (404, b"not found: " + self.path.encode())
                )
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server() -> Iterator[_Server]:
    server = _Server({})
    yield server
    server.close()


def _module_zip(module: str, version: str, files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"{module}@{version}/{name}", content)
    return buffer.getvalue()


def add_module(
    server: _Server, module: str, version: str, files: dict[str, str], time: str
) -> None:
    """Publish ``module@version`` (``files`` must include ``go.mod``)."""
    base = f"/{module}/@v/"
    info = {"Version": version, "Time": time}
    server.routes[base + "list"] = (200, f"{version}\n".encode())
    server.routes[base + f"{version}.info"] = (200, json.dumps(info).encode())
    server.routes[base + f"{version}.mod"] = (200, files["go.mod"].encode())
    server.routes[base + f"{version}.zip"] = (200, _module_zip(module, version, files))


@pytest.fixture
def module_proxy() -> Iterator[_Server]:
    """A module proxy with ``example.com/hello`` v1.2.3, built like k8s.io/kubernetes.

    ``hello`` replaces its sibling ``example.com/greeting`` with a path in its
    own repository (``./staging/greeting``) and requires it at v0.0.0 — the
    pattern that makes ``go install`` refuse it and a wrapper module necessary.
    The sibling is published on its own at v0.2.3. Everything else is refused.
    """
    server = _Server({})
    refused = b"This module version is not available."
    server.routes["/example.com/refused/@v/v9.9.9.info"] = (403, refused)
    server.routes["/example.com/refused/@v/v9.9.9.mod"] = (403, refused)
    server.routes["/example.com/refused/@v/list"] = (403, refused)
    add_module(
        server,
        "example.com/greeting",
        "v0.2.3",
        {
            "go.mod": "module example.com/greeting\n\ngo 1.21\n",
            "greeting.go": 'package greeting\n\nfunc Word() string { return "hello" }\n',
        },
        "2025-01-02T03:04:05Z",
    )
    add_module(
        server,
        "example.com/hello",
        "v1.2.3",
        {
            "go.mod": textwrap.dedent(
                """\
                module example.com/hello

                go 1.21

                require example.com/greeting v0.0.0

                replace example.com/greeting => ./staging/greeting

                replace example.com/forbidden => ./FORBIDDEN_DEPENDENCY
                """
            ),
            "cmd/hello/main.go": textwrap.dedent(
                """\
                package main

                import (
                \t"fmt"

                \t"example.com/greeting"
                )

                var version = "v0.0.0-unset"

                func main() { fmt.Println(greeting.Word(), "version", version) }
                """
            ),
        },
        "2025-06-07T08:09:10Z",
    )
    yield server
    server.close()


@pytest.fixture
def go_env(module_proxy: _Server, tmp_path: Path) -> dict[str, str]:
    """An environment whose ``go`` fetches only from ``module_proxy``."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed")
    import os

    env = dict(os.environ)
    env.update(
        {
            "GOPROXY": module_proxy.url,
            "GOSUMDB": "off",
            "GONOSUMDB": "*",
            "GOMODCACHE": str(tmp_path / "gomodcache"),
            "GOFLAGS": "-modcacherw",
            "GOTOOLCHAIN": "local",
        }
    )
    return env
