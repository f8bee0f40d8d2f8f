"""A real HTTP server on loopback for conformance workflows with ``http`` templates.

Routes: ``/status/N`` answers status N with body ``status N``; ``/echo``
answers 200 with a JSON document of the request's method, body and the
``X-``/``Host`` headers it got; ``/slow`` answers after two seconds (for
``timeoutSeconds``). Every answer carries ``Server: clusterforge-test``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server_version = "clusterforge-test"  # the Server header a successCondition reads
    sys_version = ""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
            self._send(code, f"status {code}")
        elif self.path == "/echo":
            headers = {
                k: v for k, v in self.headers.items() if k.lower().startswith("x-") or k == "Host"
            }
            doc = {"method": self.command, "body": body, "headers": headers}
            self._send(200, json.dumps(doc, sort_keys=True))
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, "late")
        else:
            self._send(404, "no such route")

    def _send(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client timed out
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def http_server() -> Iterator[str]:
    """Serve on a free loopback port; yields the base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, name="conformance-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port free on loopback right now (for a daemon step to listen on)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def case_parameters(given: dict[str, object], tmp: object, url: str) -> dict[str, str]:
    """A case's ``parameters`` with ``{tmp}``, ``{http}``, ``{port}``, ``{port2}`` filled in."""
    ports = {"port": free_port(), "port2": free_port()}
    return {k: str(v).format(tmp=tmp, http=url, **ports) for k, v in given.items()}
