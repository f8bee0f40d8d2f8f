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


def _stat(pid: int) -> tuple[str, int] | None:
    """``(state, start time)`` of a process, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3, starttime field 22 of proc(5).
    return fields[0], int(fields[19])


def belongs(pid: int, directory: Path) -> bool:
    """Whether ``pid`` is alive and one of this cluster's processes."""
    stat = _stat(pid)
    if stat is None or stat[0] in ("Z", "X"):
        return False
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(directory).encode() in raw


def _alive(pid: int, started: int) -> bool:
    """Still the same process (not a reused pid), and not yet exited.

    A process that is tearing down has an empty command line for a while, so
    after the first check a process is followed by its start time instead.
    """
    stat = _stat(pid)
    return stat is not None and stat[1] == started and stat[0] not in ("Z", "X")


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


def identify(directory: Path) -> dict[int, int]:
    """``{pid: start time}`` of the cluster's live processes, to follow them by."""
    targets: dict[int, int] = {}
    for pid in component_pids(directory).values():
        stat = _stat(pid)
        if stat is not None and belongs(pid, directory):
            targets[pid] = stat[1]
    return targets


def stop(targets: dict[int, int], *, grace: float = 10.0) -> list[int]:
    """Stop identified processes: SIGTERM, then SIGKILL; returns any survivors."""
    remaining = _wait(targets, 0.0)
    for pid in remaining:
        _signal(pid, signal.SIGTERM)
    remaining = _wait(remaining, grace)
    for pid in remaining:
        _signal(pid, signal.SIGKILL)
    return sorted(_wait(remaining, 5.0))


def _wait(targets: dict[int, int], timeout: float) -> dict[int, int]:
    deadline = time.monotonic() + timeout
    remaining = dict(targets)
    while True:
        remaining = {pid: start for pid, start in remaining.items() if _alive(pid, start)}
        if not remaining or time.monotonic() > deadline:
            return remaining
        time.sleep(0.05)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
