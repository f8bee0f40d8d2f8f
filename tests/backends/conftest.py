"""One engine per backend: the suite in this folder runs against each.

Every test here is engine-independent behaviour — what a user of the
``Engine`` interface, the pipeline or the CLI sees, whichever backend runs
the workflows. A new backend joins by adding its name to ``BACKENDS`` and a
branch to :func:`_environment` that gives it what it needs (the Argo backend:
a kubeconfig of a management cluster with the controller running).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clusterforge.engine import Engine, open_engine

BACKENDS = ["local"]


@dataclass
class Backend:
    """A backend under test: its name, an engine of it, and the environment
    under which the CLI and other processes reach the same engine."""

    kind: str
    engine: Engine
    env: dict[str, str]


def _environment(kind: str, home: Path) -> dict[str, str]:
    if kind == "local":
        return {**os.environ, "CLUSTERFORGE_ENGINE": kind, "CLUSTERFORGE_HOME": str(home)}
    raise AssertionError(f"backend {kind!r} has no test environment yet")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each backend in turn, with its own empty state."""
    kind = str(request.param)
    env = _environment(kind, tmp_path / "home")
    engine = open_engine(kind, home=Path(env["CLUSTERFORGE_HOME"]))
    return Backend(kind, engine, env)
