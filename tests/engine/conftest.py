"""Fixtures of the engine tests: ``launcher`` runs a test once through each way
a step can be started (the C extension, ``unshare`` + ``sh``)."""

from __future__ import annotations

import pytest

LAUNCHERS = ["c-extension", "unshare-sh"]


@pytest.fixture(params=LAUNCHERS)
def launcher(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test once through the C extension, once through ``unshare`` + ``sh``."""
    name: str = request.param
    if name == "unshare-sh":
        monkeypatch.setenv("CLUSTERFORGE_LAUNCHER", "sh")
    else:
        monkeypatch.delenv("CLUSTERFORGE_LAUNCHER", raising=False)
    return name
