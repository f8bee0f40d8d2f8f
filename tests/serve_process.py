"""``clusterforge serve`` in a process of its own on a free loopback port.

Why a retry: the port is found by binding port 0 and closing the socket, and
the server binds it again a moment later; meanwhile another run on the
machine may take it (its own free port, or an outgoing connection's local
port: they come from the same range). The server then exits saying the
address is in use — that exit, and only that one, is retried on a new port.

A restart (``port=`` the one the server had) must keep its port: a page or a
client still points at it. There the same port is tried again while the
server exits saying it is in use, until ``timeout``: whoever took it in the
moment it was free (a bind(0) probe, a short connection) lets it go.

Its output goes to a log file, appended to across restarts; only the part one
attempt wrote is searched for that message. :func:`stop_serve` echoes the log
when the server stops, so pytest shows it with a failure.
"""

from __future__ import annotations

import contextlib
import os
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
    args: list[str],
    env: dict[str, str],
    log: Path,
    timeout: float = 60.0,
    *,
    port: int | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``serve --port <port> *args``; the process and its URL once ``/readyz``
    is 200. Without ``port``, a free one (a new one after each "address in use")."""
    log.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    attempts = 0
    while True:
        attempts += 1
        bound = free_port() if port is None else port
        offset = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "clusterforge.cli", "serve", "--port", str(bound), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if _ready(process, bound, time.monotonic() + timeout):
            return process, f"http://127.0.0.1:{bound}"
        with log.open("rb") as out:
            out.seek(offset)
            said = out.read().decode(errors="replace")
        if "address already in use" not in said.lower():
            raise RuntimeError(f"the server exited with {process.returncode}:\n{said}")
        if port is None and attempts >= _ATTEMPTS:
            raise RuntimeError(f"{_ATTEMPTS} free ports were taken before the server bound them")
        if port is not None and time.monotonic() > deadline:
            raise RuntimeError(f"port {port} stayed in use after the server stopped:\n{said}")


def _ready(process: subprocess.Popen[bytes], port: int, deadline: float) -> bool:
    """True once the server answers ready on ``port``, listening there itself; False
    if it exited first. (Whoever took the port may be a server too, and answer.)"""
    while process.poll() is None:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            if answer.status_code == 200 and _listens(process.pid, port):
                return process.poll() is None
        except httpx.TransportError:
            pass
        if process.poll() is not None:  # it exited while the probe waited
            break
        if time.monotonic() > deadline:
            stop_serve(process, None)
            raise RuntimeError("the server did not become ready")
        time.sleep(0.1)
    return False


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a socket listening on TCP ``port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                    inodes.add(f"socket:[{fields[9]}]")
    fds = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return True
    return False


def stop_serve(process: subprocess.Popen[bytes], log: Path | None) -> None:
    """SIGTERM and wait; then echo its log (pytest shows it with a failure)."""
    if process.poll() is None:
        process.terminate()
        process.wait(30)
    if log is not None and log.exists():
        sys.stderr.write(log.read_text(errors="replace"))
