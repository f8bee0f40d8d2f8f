"""Where clusterforge keeps its files on this machine.

One place decides the directories so that the engine's store, the kwok
clusters and the tool cache agree, and so tests can move all of them with one
environment variable:

* ``CLUSTERFORGE_HOME`` — data (state database, run logs, clusters); default
  ``$XDG_DATA_HOME/clusterforge`` or ``~/.local/share/clusterforge``.
* ``CLUSTERFORGE_CACHE`` — rebuildable things (built tools); default
  ``$XDG_CACHE_HOME/clusterforge`` or ``~/.cache/clusterforge``.
* ``CLUSTERFORGE_SCRATCH`` — where steps' working directories and private
  /tmp live while a workflow runs; default ``/dev/shm/clusterforge-<uid>``
  (memory-backed: creating a directory there costs microseconds, on a busy
  ext4 volume it can cost a millisecond, and every step needs two), or the
  run directory when /dev/shm is unusable. ``CLUSTERFORGE_SCRATCH=runs``
  keeps scratch next to the logs, on disk.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def data_home() -> Path:
    """The data directory (state database, run directories, clusters)."""
    explicit = os.environ.get("CLUSTERFORGE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "clusterforge"


def cache_home() -> Path:
    """The cache directory (built tools, downloads)."""
    explicit = os.environ.get("CLUSTERFORGE_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "clusterforge"


def state_db() -> Path:
    """The SQLite database holding workflows, nodes and events."""
    return data_home() / "state.db"


def runs_dir() -> Path:
    """Per-workflow run directories: each attempt's working dir, /tmp and logs."""
    return data_home() / "runs"


def scratch_home() -> Path | None:
    """The root for steps' scratch directories, or None for "inside the run directory".

    The default under /dev/shm is created private (0700) and used only if it
    is a real directory owned by us — never a path someone else prepared.
    """
    explicit = os.environ.get("CLUSTERFORGE_SCRATCH")
    if explicit == "runs":
        return None
    if explicit:
        return Path(explicit).expanduser()
    shm = Path("/dev/shm")  # noqa: S108 — a private 0700 dir we own is checked below
    if not (shm.is_dir() and os.access(shm, os.W_OK | os.X_OK)):
        return None
    root = shm / f"clusterforge-{os.getuid()}"
    try:
        root.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    info = root.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return None
    return root
