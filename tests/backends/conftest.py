"""One engine per backend: the suite in this folder runs against each.

Every test here is engine-independent behaviour — what a user of the
``Engine`` interface, the pipeline or the CLI sees, whichever backend runs
the workflows. A new backend joins by adding its name to ``BACKENDS`` and a
branch to :func:`_environment` that gives it what it needs.

The Argo backend runs on the session's one management cluster
(``argo_cluster``: kwok, the real workflow-controller, the host executor),
emptied before each test, so a test sees only its own workflows and records
as it does on the local engine's fresh data directory. Its cases are marked
``cluster``/``slow`` (``make test-fast`` leaves them out).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from clusterforge.engine import Engine, open_argo_engine, open_engine
from tests.management import Cluster

BACKENDS = [
    "local",
    pytest.param("argo", marks=[pytest.mark.cluster, pytest.mark.slow]),
]


@dataclass
class Backend:
    """A backend under test: its name, an engine of it, and the environment
    under which the CLI and other processes reach the same engine."""

    kind: str
    engine: Engine
    env: dict[str, str]


def _local(home: Path) -> Backend:
    env = {**os.environ, "CLUSTERFORGE_ENGINE": "local", "CLUSTERFORGE_HOME": str(home)}
    return Backend("local", open_engine("local", home=home), env)


def _argo(cluster: Cluster, home: Path) -> Backend:
    cluster.clean()
    env = {
        **os.environ,
        "CLUSTERFORGE_ENGINE": "argo",
        "CLUSTERFORGE_HOME": str(home),
        "CLUSTERFORGE_KUBECONFIG": str(cluster.kubeconfig),
        "CLUSTERFORGE_NAMESPACE": "default",
    }
    return Backend("argo", open_argo_engine(str(cluster.kubeconfig), home=home), env)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each backend in turn, with its own empty state."""
    kind = str(request.param)
    if kind == "argo":
        return _argo(request.getfixturevalue("argo_cluster"), tmp_path / "home")
    return _local(tmp_path / "home")
