"""The shared directory of a multi-process server, and the ones dead servers left.

``serve --processes`` keeps its shared files (the rate-limit table, the
metrics of every child) in ``<scratch>/serve-XXXX/``. The supervisor removes
it when it stops — but a supervisor killed with ``-9`` cannot, and
``/dev/shm`` is memory. So each supervisor holds an exclusive ``flock`` on
``serve-XXXX/lock`` for as long as it lives (the kernel drops it when the
process dies, however it dies), and the next supervisor to start removes
every ``serve-*`` directory whose lock it can take. A directory without a
lock file is removed only once it is a minute old (a starting supervisor has
created its directory but not its lock yet).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

__all__ = ["RuntimeDir", "remove_stale"]

_LOCK = "lock"
_GRACE_SECONDS = 60.0


class RuntimeDir:
    """A fresh ``serve-*`` directory under ``base``, locked while this object lives."""

    def __init__(self, base: Path) -> None:
        base.mkdir(parents=True, exist_ok=True)
        self.removed = remove_stale(base)
        self.path = Path(tempfile.mkdtemp(prefix="serve-", dir=base))
        self._fd = os.open(self.path / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def remove(self) -> None:
        """Delete the directory and release the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def remove_stale(base: Path) -> list[Path]:
    """Remove the ``serve-*`` directories under ``base`` that no live supervisor holds."""
    removed = []
    for candidate in sorted(base.glob("serve-*")):
        if candidate.is_dir() and not candidate.is_symlink() and _abandoned(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _abandoned(directory: Path) -> bool:
    try:
        fd = os.open(directory / _LOCK, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            return time.time() - directory.stat().st_mtime > _GRACE_SECONDS
        return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live supervisor holds it
    finally:
        os.close(fd)
    return True
