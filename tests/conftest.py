"""Fixtures shared by every test area."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from tests.management import argo_cluster  # noqa: F401  (one management cluster per session)

if TYPE_CHECKING:
    from tests.artifacts.seaweed import S3Server

# Every workflow step gets a private /tmp, so directories a test hands to its
# steps must live outside /tmp. pytest's temp root moves under the checkout;
# each run still gets its own numbered directory (concurrent runs don't clash).
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(Path(__file__).parent.parent / ".pytest-tmp"))
(Path(os.environ["PYTEST_DEBUG_TEMPROOT"])).mkdir(exist_ok=True)

# Tests never assert wall-clock time: Hypothesis' per-example deadline (200 ms)
# is one, and it fails property tests on a loaded CI machine. Speed lives in bench/.
settings.register_profile(
    "clusterforge", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("clusterforge")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (SeaweedFS) on loopback, one per session (and worker):
    the artifact tests and the build end to end share it."""
    from tests.artifacts.seaweed import seaweed_server

    with seaweed_server(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture(scope="session")
def tool_path() -> Path:
    """The directory of symlinks to the pinned toolchain (put it first on PATH).

    ``make test`` runs ``clusterforge tools install`` first; a missing required
    tool fails the test with the command that installs it.
    """
    from clusterforge.tools import Toolchain

    toolchain = Toolchain()
    missing = [s.name for s in toolchain.status() if s.required and not s.ok]
    if missing:
        pytest.fail(f"tools missing: {', '.join(missing)}; run `clusterforge tools install`")
    return toolchain.link_bin()


class KwokCluster:
    """A running kwok cluster shared by a test session (one per xdist worker)."""

    def __init__(self, name: str, home: Path, kubeconfig: Path, kubectl: Path) -> None:
        self.name = name
        self.home = home
        self.kubeconfig = kubeconfig
        self.kubectl = kubectl


@pytest.fixture(scope="session")
def kwok_cluster(
    tmp_path_factory: pytest.TempPathFactory, tool_path: Path
) -> Iterator[KwokCluster]:
    """A real cluster: 4 fake nodes, a general group and a tainted system group.

    Created once per session worker in its own data directory, deleted at the
    end (no process or port is left behind).
    """
    from clusterforge.providers import kwok
    from clusterforge.tools import resolve

    home = tmp_path_factory.mktemp("kwok-home")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    name = f"shared-{worker}"
    groups = [
        kwok.NodeGroup("general", instance_type="m5.large", count=2),
        kwok.NodeGroup(
            "system",
            instance_type="m5.xlarge",
            count=2,
            labels={"tier": "system"},
            taints=(kwok.Taint("node-role.kubernetes.io/system", "", "NoSchedule"),),
        ),
    ]
    previous = os.environ.get("CLUSTERFORGE_HOME")
    os.environ["CLUSTERFORGE_HOME"] = str(home)
    try:
        kwok.create_cluster(name, groups)
        kubeconfig = kwok.kubeconfig_path(name)
    finally:
        _restore("CLUSTERFORGE_HOME", previous)
    try:
        yield KwokCluster(name, home, kubeconfig, resolve("kubectl"))
    finally:
        os.environ["CLUSTERFORGE_HOME"] = str(home)
        try:
            kwok.delete_cluster(name, missing_ok=True)
        finally:
            _restore("CLUSTERFORGE_HOME", previous)


def _restore(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value
