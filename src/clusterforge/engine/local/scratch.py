"""Where an attempt's working directory, private /tmp and logs live while it runs.

Each attempt needs two fresh directories and two log files. On this project's
reference machine (a VM on a busy ext4 volume) creating them costs more than
running a short step, so while a workflow runs they live under a
memory-backed scratch root (``paths.scratch_home``). When an attempt ends,
what is worth keeping — non-empty logs and a script template's source — is
copied to the workflow's run directory on disk, off the event loop; the node's
``log_dir`` moves there once the copy is complete. The scratch of a workflow
is removed when it ends (as Argo garbage-collects a pod's filesystem); an
engine killed meanwhile leaves it in place, and the next engine to resume the
workflow keeps the logs first. One exception: while a process a step left
running still lives in an attempt's private /tmp, that workflow's scratch
lingers (see :func:`remove`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

KEPT = ("stdout.log", "stderr.log", "script")
"""The files of an attempt that outlive it."""


def keep(scratch: Path, dest: Path) -> None:
    """Copy the attempt's non-empty logs (and script) from ``scratch`` to ``dest``."""
    for name in KEPT:
        source = scratch / name
        try:
            if not os.stat(source).st_size:
                continue
        except FileNotFoundError:
            continue
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest / name)


LINGERING = ".lingering"
"""Under the scratch root: finished workflows' scratch that a live process still uses."""


def remove(scratch_dir: Path) -> None:
    """Remove a finished workflow's scratch — unless a process one of its steps
    left running (a daemon: ``kwokctl`` starts a cluster's etcd and apiserver
    that way) still has an attempt's private /tmp as its own /tmp.

    Deleting that directory would not just empty the daemon's /tmp: Linux
    detaches, in every mount namespace, the mounts whose mount point is
    removed, so the host paths the launcher bound into that /tmp (a checkout
    or an engine home under /tmp, see reachable.py) would vanish from under
    the daemon. Such a scratch moves to ``<root>/.lingering/`` instead (a
    rename keeps the mounts) and goes once no process uses it: every removal
    sweeps the ones whose daemons have ended.
    """
    in_use = tmp_dirs_in_use()
    if _attempt_tmps(scratch_dir) & in_use:
        lingering = scratch_dir.parent / LINGERING
        lingering.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(OSError):  # else left in place: never removed under it
            os.rename(scratch_dir, lingering / scratch_dir.name)
    else:
        shutil.rmtree(scratch_dir, ignore_errors=True)
    sweep(scratch_dir.parent, in_use)


def sweep(root: Path, in_use: set[tuple[int, int]] | None = None) -> None:
    """Remove the lingering scratch under ``root`` that no live process uses any more."""
    try:
        entries = list(os.scandir(root / LINGERING))
    except OSError:
        return
    if in_use is None:
        in_use = tmp_dirs_in_use()
    for entry in entries:
        if not _attempt_tmps(Path(entry.path)) & in_use:
            shutil.rmtree(entry.path, ignore_errors=True)


def tmp_dirs_in_use() -> set[tuple[int, int]]:
    """``(st_dev, st_ino)`` of the /tmp of each live process in another mount
    namespace than ours (a step's, or a daemon it left) that we may inspect."""
    try:
        own = os.readlink("/proc/self/ns/mnt")
        pids = [entry.name for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return set()
    seen: set[tuple[str, str]] = set()
    found: set[tuple[int, int]] = set()
    for pid in pids:
        try:
            namespace = os.readlink(f"/proc/{pid}/ns/mnt")
            if namespace == own:
                continue
            key = (namespace, os.readlink(f"/proc/{pid}/root"))
            if key in seen:
                continue
            seen.add(key)
            info = os.stat(f"/proc/{pid}/root/tmp")
        except OSError:  # gone meanwhile, or another user's
            continue
        found.add((info.st_dev, info.st_ino))
    return found


def _attempt_tmps(scratch_dir: Path) -> set[tuple[int, int]]:
    """``(st_dev, st_ino)`` of each attempt's private /tmp in a workflow's scratch."""
    found: set[tuple[int, int]] = set()
    try:
        attempts = list(os.scandir(scratch_dir))
    except OSError:
        return found
    for attempt in attempts:
        try:
            info = os.stat(os.path.join(attempt.path, "tmp"), follow_symlinks=False)
        except OSError:
            continue
        found.add((info.st_dev, info.st_ino))
    return found
