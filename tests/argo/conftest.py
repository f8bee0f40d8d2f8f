"""Fixtures for the Argo manifests: rendered output, the pinned helm and validator."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterforge.errors import NotFound
from tests.addons.conftest import helm  # noqa: F401  (the pinned helm, shared)

# The session's management cluster (argo_cluster) lives in tests/management.py, as
# the backend suite shares it; re-exported for the modules here that name these.
from tests.management import CLI, MANAGEMENT, Cluster, run_cli

__all__ = ["CLI", "MANAGEMENT", "REPO", "Cluster", "run_cli"]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``argo render`` of examples/dev-cluster.yaml: manifests/ and chart/ under one root."""
    out = tmp_path_factory.mktemp("argo-render")
    done = run_cli("argo", "render", str(REPO / "examples" / "dev-cluster.yaml"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="session")
def argo_validate() -> Path:
    """The pinned argo-validate; ``make setup`` builds it, so a missing one fails."""
    from clusterforge.tools import resolve

    try:
        return resolve("argo-validate")
    except NotFound as err:
        pytest.fail(f"argo-validate is not installed: {err}")
