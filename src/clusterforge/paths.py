"""Where clusterforge keeps its files on this machine.

One place decides the directories so that the engine's store, the kwok
clusters and the tool cache agree, and so tests can move all of them with one
environment variable:

* ``CLUSTERFORGE_HOME`` — data (state database, run logs, clusters); default
  ``$XDG_DATA_HOME/clusterforge`` or ``~/.local/share/clusterforge``.
* ``CLUSTERFORGE_CACHE`` — rebuildable things (built tools); default
  ``$XDG_CACHE_HOME/clusterforge`` or ``~/.cache/clusterforge``.
"""

from __future__ import annotations

import os
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
