"""Asking a binary which version it is.

The only trustworthy answer to "is this the pinned kubectl?" is the binary's
own ``--version`` output: a file name or a package's claim says nothing about
what a PATH entry really is (this very machine has a ``kubectl`` that is a
cloud SDK dispatcher at another version). Answers are memoised per process by
file identity, so resolving the same tool repeatedly costs one subprocess.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from clusterforge.tools._manifest import ToolSpec

_lock = threading.Lock()
_memo: dict[tuple[str, int, int, str], str | None] = {}


def probe_version(path: Path, spec: ToolSpec, *, timeout: float = 30.0) -> str | None:
    """The version ``path`` reports for ``spec``'s version command, or None."""
    try:
        real = path.resolve(strict=True)
        stat = real.stat()
    except OSError:
        return None
    key = (str(real), stat.st_size, stat.st_mtime_ns, spec.version_pattern)
    with _lock:
        if key in _memo:
            return _memo[key]
    if not os.access(real, os.X_OK):
        return None
    try:
        done = subprocess.run(
            [str(path), *spec.version_args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        found = spec.parse_version(done.stdout + "\n" + done.stderr)
    except (OSError, subprocess.SubprocessError):
        found = None
    with _lock:
        _memo[key] = found
    return found
