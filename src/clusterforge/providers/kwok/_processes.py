"""The processes of one local cluster, found through kwokctl's pid files.

kwokctl's binary runtime starts each component (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok-controller) in its own session
and writes ``<cluster>/pids/<component>.pid``. A pid alone is not proof — it
may have been reused since — so a process counts as the cluster's only if its
command line mentions the cluster's directory (every component is started
with paths inside it). That check is what lets ``delete`` guarantee nothing of
the cluster is left running without ever signalling a stranger.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def component_pids(directory: Path) -> dict[str, int]:
    """``{component: pid}`` from the cluster's pid files (alive or not)."""
    pids: dict[str, int] = {}
    for pid_file in sorted((directory / "pids").glob("*.pid")):
        try:
            pids[pid_file.stem] = int(pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            continue
    return pids


def belongs(pid: int, directory: Path) -> bool:
    """Whether ``pid`` is alive and one of this cluster's processes."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    # A zombie has exited; it only waits for its parent to reap it.
    if state.rpartition(")")[2].split()[:1] == ["Z"]:
        return False
    return str(directory).encode() in raw


def running_pids(directory: Path) -> dict[str, int]:
    """The cluster's components that are running now."""
    return {name: pid for name, pid in component_pids(directory).items() if belongs(pid, directory)}


def rss_bytes(pids: dict[str, int]) -> int:
    """Resident memory of the given processes, summed."""
    total = 0
    for pid in pids.values():
        try:
            for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


def stop(directory: Path, pids: dict[str, int], *, grace: float = 10.0) -> list[int]:
    """Stop ``pids`` (this cluster's): SIGTERM, then SIGKILL; returns any survivors."""
    deadline = time.monotonic() + grace
    remaining = {pid for pid in pids.values() if belongs(pid, directory)}
    for pid in remaining:
        _signal(pid, signal.SIGTERM)
    while remaining and time.monotonic() < deadline:
        time.sleep(0.1)
        remaining = {pid for pid in remaining if belongs(pid, directory)}
    for pid in remaining:
        _signal(pid, signal.SIGKILL)
    end = time.monotonic() + 5.0
    while remaining and time.monotonic() < end:
        time.sleep(0.05)
        remaining = {pid for pid in remaining if belongs(pid, directory)}
    return sorted(remaining)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
