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
workflow keeps the logs first.
"""

from __future__ import annotations

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
