"""``clusterforge serve`` in a process of its own on a free loopback port.

Why a retry: the port is found by binding port 0 and closing the socket, and
the server binds it again a moment later; meanwhile another run on the
machine may take it (an outgoing connection's local port comes from the same
range). The server then exits saying the address is in use — that exit, and
only that one, is retried on a new port. Its stderr goes to a file (so that
message can be read) and is echoed when the server stops.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

_ATTEMPTS = 3


def free_port() -> int:
    """A loopback port nobody listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_serve(
    args: list[str], env: dict[str, str], log: Path, timeout: float = 60.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``serve --port <free> *args``; the process and its URL once ``/readyz`` is 200."""
    log.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(_ATTEMPTS):
        port = free_port()
        with log.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "clusterforge.cli", "serve", "--port", str(port), *args],
                env=env,
                stderr=err,
            )
        url = f"http://127.0.0.1:{port}"
        if _ready(process, url, time.monotonic() + timeout):
            return process, url
        said = log.read_text(errors="replace")
        if "address already in use" not in said.lower():
            raise RuntimeError(f"the server exited with {process.returncode}:\n{said}")
    raise RuntimeError(f"{_ATTEMPTS} free ports were taken before the server bound them")


def _ready(process: subprocess.Popen[bytes], url: str, deadline: float) -> bool:
    """True once the server answers ready; False if it exited first."""
    while process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return process.poll() is None
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_serve(process, None)
            raise RuntimeError("the server did not become ready")
        time.sleep(0.1)
    return False


def stop_serve(process: subprocess.Popen[bytes], log: Path | None) -> None:
    """SIGTERM and wait; then echo its stderr (pytest shows it with a failure)."""
    if process.poll() is None:
        process.terminate()
        process.wait(30)
    if log is not None and log.exists():
        sys.stderr.write(log.read_text(errors="replace"))
