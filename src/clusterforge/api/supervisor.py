"""Several processes behind one port: ``clusterforge serve --processes N``.

Why: a Python process accepts triggers on one core at most (the GIL), and
the webhook path must take a thousand a second. So a server can run as

* this **supervisor** — the process ``serve`` started: it holds the port
  (every acceptor's listening socket), starts the children, restarts a child
  that dies, and on SIGTERM/SIGINT stops the acceptors first (no new
  requests) and the controller last;
* one **controller** — the run queue's workers: it takes the workflows the
  acceptors handed off from the state database and runs them (and takes back
  what a dead server left unfinished, as a single-process server does);
* N **acceptors** — uvicorn serving the app, each on its own listening
  socket bound to the same port with ``SO_REUSEPORT``: the kernel spreads
  new connections evenly over them. (On one shared socket, whichever process
  woke first accepted every queued connection at once — two thirds of 64
  keep-alive connections landed on one acceptor.) They check, store and
  answer, and run nothing.

The supervisor creates those listening sockets and each acceptor inherits its
own. While an acceptor starts, or dies and is replaced, its socket stays open
and listening in the supervisor: the kernel keeps sending it its share of
connections and queues them for the replacement, instead of refusing them
(no listener yet) or resetting its queue (the last holder closed it).

The processes share state only through files, so any of them may die without
losing what was accepted: the state database (workflows, idempotency keys,
sensors' partial matches — each claimed inside a transaction), a rate-limit
table mapped by every acceptor (one bucket per token for the whole server)
and prometheus_client's multiprocess directory (``/metrics`` on any acceptor
sums every process). Settings reach a child on its stdin, so tokens never
appear in an environment or a command line. A child asks the kernel for
SIGTERM when the supervisor dies, so no orphan keeps the port. The supervisor
binds the port before it creates anything else, so a port in use is one clear
error before any child starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from clusterforge.api.collector import quiet_collector
from clusterforge.api.runtime_dir import RuntimeDir
from clusterforge.api.settings import Settings

__all__ = ["child_main", "serve_processes"]

log = logging.getLogger("clusterforge.api")

_RESTARTS = 5  # more crashes than this within _RESTART_WINDOW: give up
_RESTART_WINDOW = 60.0
_STOP_TIMEOUT = 10.0
_CHILD = "from clusterforge.api.supervisor import child_main; child_main()"


@dataclasses.dataclass
class _Child:
    role: str  # "controller" or "acceptor"
    name: str
    process: subprocess.Popen[bytes] | None = None
    listening: socket.socket | None = None  # an acceptor's, held across restarts
    crashes: list[float] = dataclasses.field(default_factory=list)


class _Supervisor:
    """The children of one multi-process server, and their lifecycle."""

    def __init__(self, settings: Settings, log_level: str) -> None:
        from clusterforge.api.metrics import reset_multiprocess_dir
        from clusterforge.engine import open_hosted_engine
        from clusterforge.paths import scratch_home

        # the port first: if it is taken, nothing has been created yet
        sockets = [listen(settings.host, settings.port) for _ in range(settings.processes)]
        self.log_level = log_level
        self.runtime_dir = RuntimeDir(scratch_home() or settings.data_dir)
        for stale in self.runtime_dir.removed:
            log.info("removed %s, left by a server that died", stale)
        self.runtime = self.runtime_dir.path
        self.settings = dataclasses.replace(
            settings,
            processes=1,
            hand_to=open_hosted_engine(settings.data_dir).handoff_owner(),
            shared_dir=self.runtime,
        )
        assert self.settings.metrics_dir is not None
        self.metrics_dir = self.settings.metrics_dir
        reset_multiprocess_dir(self.metrics_dir)
        self.children = [_Child("controller", "controller")] + [
            _Child("acceptor", f"acceptor-{i}", listening=sock) for i, sock in enumerate(sockets)
        ]
        self.stopping = threading.Event()
        self.failed: str | None = None

    def _spawn(self, child: _Child) -> None:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)}
        fds = (child.listening.fileno(),) if child.listening else ()
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, child.name],  # the name shows in ps
            stdin=subprocess.PIPE,
            env=env,
            pass_fds=fds,  # the same number in the child
        )
        order = {
            "role": child.role,
            "name": child.name,
            "settings": self.settings,
            "log_level": self.log_level,
            "parent": os.getpid(),
            "listening": fds[0] if fds else None,
        }
        assert process.stdin is not None
        try:
            process.stdin.write(pickle.dumps(order))
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died at once; the watch loop sees it exit
        child.process = process

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            for child in self.children:
                self._spawn(child)
            while not self.stopping.wait(0.2):
                self._watch()
        finally:
            self._stop()
        if self.failed:
            print(f"error: {self.failed}", file=sys.stderr)
            return 1
        return 0

    def _watch(self) -> None:
        from clusterforge.api.metrics import mark_process_dead

        for child in self.children:
            process = child.process
            if process is None or process.poll() is None:
                continue
            mark_process_dead(self.metrics_dir, process.pid)
            now = time.monotonic()
            child.crashes = [t for t in child.crashes if now - t < _RESTART_WINDOW] + [now]
            if len(child.crashes) > _RESTARTS:
                self.failed = (
                    f"the {child.name} process keeps exiting (last exit code "
                    f"{process.returncode}); see the messages above"
                )
                self.stopping.set()
                return
            log.warning("%s exited with code %s; restarting it", child.name, process.returncode)
            self._spawn(child)

    def _stop(self) -> None:
        # Let go of the listening sockets: each closes when its acceptor does (so a
        # connection arriving meanwhile is refused, not queued for nobody).
        for child in self.children:
            if child.listening is not None:
                child.listening.close()
        # acceptors first, so nothing new is accepted while the controller winds down
        for role in ("acceptor", "controller"):
            group = [c.process for c in self.children if c.role == role and c.process]
            for process in group:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + _STOP_TIMEOUT
            for process in group:
                try:
                    process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.runtime_dir.remove()


def listen(host: str, port: int, *, share: bool = True) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` that shares the port with the
    other acceptors of this server (``SO_REUSEPORT``; the kernel admits only
    sockets of the same user to the group). ``share=False``: the port is this
    socket's alone (a one-process server)."""
    from clusterforge.errors import InvalidInput

    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as err:
        raise InvalidInput(f"--host {host!r}: cannot be resolved: {err.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if share:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(4096)
    except OSError as err:
        sock.close()
        raise InvalidInput(
            f"--port {port}: cannot listen on {host}:{port}: {err.strerror}; "
            "choose another --port or stop what uses it"
        ) from None
    return sock


def serve_processes(settings: Settings, *, log_level: str = "info") -> int:
    """Serve with ``settings.processes`` acceptors and one controller; the exit code."""
    from clusterforge.api.app import create_app

    # Build the app once here, so a broken sensor or token file stops the server
    # with its message before any child starts (each child builds its own).
    create_app(settings)
    return _Supervisor(settings, log_level).run()


# -- the children ------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the supervisor dies (Linux ``PR_SET_PDEATHSIG``)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the request took effect
        raise SystemExit(1)


def _run_controller(settings: Settings, parent: int) -> None:
    from clusterforge.api.metrics import Metrics
    from clusterforge.api.runner import QueuedEngine
    from clusterforge.engine import open_hosted_engine

    engine = open_hosted_engine(settings.data_dir)
    holder: list[Metrics] = []
    queued = QueuedEngine(
        engine,
        workers=settings.workers,
        on_finished=lambda view: holder[0].finished(view),
        take_from=settings.hand_to,
    )
    holder.append(
        Metrics(
            lambda: [view.phase for view in engine.list()],
            lambda: (queued.queued, queued.running),
            multiprocess_dir=settings.metrics_dir,
        )
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    queued.start()
    while not stop.wait(1.0):
        if os.getppid() != parent:  # PR_SET_PDEATHSIG did not reach us: check ourselves
            log.warning("the supervisor is gone; handing this controller's workflows back")
            break
    queued.close(timeout=1.0)


def _run_acceptor(settings: Settings, log_level: str, listening: int) -> None:
    import uvicorn

    from clusterforge.api.app import create_app

    app = create_app(settings)
    quiet_collector()
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=log_level == "debug",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    # the supervisor's socket, inherited: it outlives this process
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=listening)])


def child_main() -> None:
    """Entry point of a child process: its order comes pickled on stdin."""
    order: dict[str, Any] = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 — our own parent's pipe
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _die_with_parent(order["parent"])
    level = str(order["log_level"]).upper()
    logging.basicConfig(level=level, format=f"%(levelname)s {order['name']}: %(message)s")
    settings: Settings = order["settings"]
    if order["role"] == "controller":
        _run_controller(settings, int(order["parent"]))
    else:
        _run_acceptor(settings, str(order["log_level"]), int(order["listening"]))
