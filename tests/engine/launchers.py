"""Running one step to its end with its output (the launcher tests share it)."""

from __future__ import annotations

import os
from pathlib import Path

from clusterforge.engine.local import process


def run_step(step: process.StepProcess) -> tuple[int, str, str]:
    """Launch ``step``, wait for it: its exit code, stdout and stderr."""
    handle = process.launch_sync(step)
    _, status = os.waitpid(handle.pid, 0)
    handle.close()
    return (
        os.waitstatus_to_exitcode(status),
        Path(step.stdout).read_text(),
        Path(step.stderr).read_text(),
    )
