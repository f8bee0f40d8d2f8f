"""The per-step supervisor's files: how a step outlives the engine.

Each step runs under ``_shim`` (see ``_shim.c``), a tiny program detached
from the engine in the step's own session, as containerd's shim or conmon
keep a container's exit status when their daemon dies. It writes two files
into the attempt's directory: ``shim`` (its pid and kernel start time, before
the step starts) and ``exit`` (the step's exit code, atomically and fsync'd,
once it ended). The step's logs are plain files in the same directory, so
they keep filling while no engine runs.

A restarted engine reads these files to decide, per attempt a dead engine
left (:func:`leftover`): finished while it was down (read its exit code and
outputs), still running (adopt it: wait for its shim, identified by pid *and*
start time, never by pid alone), never started (start it), or lost.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

EXIT = "exit"
IDENTITY = "shim"
START_ERROR = "start-error"


@functools.cache
def program() -> str | None:
    """The built ``_shim`` next to this module, or None (then steps do not outlive
    the engine). ``CLUSTERFORGE_SHIM=none`` turns it off."""
    if os.environ.get("CLUSTERFORGE_SHIM") == "none":
        return None
    path = Path(__file__).with_name("_shim")
    return str(path) if os.access(path, os.X_OK) else None


@dataclass(frozen=True)
class ExitRecord:
    """What the shim recorded: the step's code (-N: killed by signal N), or
    the errno of a command that could not be executed at all."""

    code: int
    start_errno: int | None = None


def read_exit(attempt_dir: str) -> ExitRecord | None:
    """The attempt's ``exit`` file, or None while the step runs (or if it was lost)."""
    try:
        with open(os.path.join(attempt_dir, EXIT), "rb") as handle:
            words = handle.read(64).split()
    except OSError:
        return None
    try:
        if len(words) == 2 and words[0] == START_ERROR.encode():
            return ExitRecord(127, int(words[1]))
        return ExitRecord(int(words[0])) if len(words) == 1 else None
    except ValueError:
        return None


def live_shim(attempt_dir: str) -> int | None:
    """The pid of the attempt's shim if that very process still runs (its start
    time matches the recorded one; a reused pid does not)."""
    try:
        words = Path(attempt_dir, IDENTITY).read_text().split()
        pid, started = int(words[0]), words[1]
    except (OSError, ValueError, IndexError):
        return None
    return pid if start_time(pid) == started and not _zombie(pid) else None


def fence(attempt_dir: str) -> bool:
    """Make sure no shim starts the step in this attempt from now on; True when
    none did (we created its ``shim`` file first: a shim still on its way, whose
    engine died mid-launch, finds it taken and exits without starting the step).
    False: a shim recorded itself before us."""
    try:
        fd = os.open(
            os.path.join(attempt_dir, IDENTITY), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644
        )
    except FileExistsError:
        return False
    except FileNotFoundError:
        return True  # the attempt directory was never made: nothing started there
    os.write(fd, b"fenced\n")
    os.close(fd)
    return True


def _stat_fields(pid: int) -> list[str]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # Counted after the ")" that closes the command name (which may hold spaces).
    return stat.rsplit(")", 1)[-1].split()


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells a live process from a reused pid)."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else None  # field 22, starttime


def _zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] in ("Z", "X")
