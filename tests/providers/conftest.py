"""Fixtures for tests that start real kwok clusters.

Every cluster test gets its own ``CLUSTERFORGE_HOME`` so clusters of parallel
test workers never meet, and whatever a test leaves behind is deleted (and
its processes stopped) when it ends, pass or fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def cluster_home(
    tmp_path: Path, tool_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A private data directory for clusters; leftovers are deleted afterwards."""
    home = tmp_path / "home"
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(home))
    yield home
    from clusterforge.providers import kwok

    for info in kwok.list_clusters():
        kwok.delete_cluster(info.name, missing_ok=True)
