"""Fixtures for the Argo manifests: rendered output, the pinned helm and validator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clusterforge.errors import NotFound
from tests.addons.conftest import helm  # noqa: F401  (the pinned helm, shared)

CLI = str(Path(sys.executable).parent / "clusterforge")
REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, check=False)


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
