"""Fixtures for the add-on tests: the pinned helm, and a kwok cluster with nodes."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clusterforge.errors import NotFound


@pytest.fixture(scope="session")
def helm() -> str:
    """The pinned helm; chart tests skip (saying why) only when it is not installed."""
    from clusterforge.tools import resolve

    try:
        return str(resolve("helm"))
    except NotFound as err:
        pytest.skip(f"helm is not resolvable, so charts cannot be linted or rendered: {err}")


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    kubectl: str
    nodes: tuple[str, ...]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.kubectl, f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )

    def json(self, *args: str) -> dict[str, object]:
        done = self.run(*args, "-o", "json")
        assert done.returncode == 0, done.stderr
        data: dict[str, object] = json.loads(done.stdout)
        return data


def _node(name: str, *, system: bool) -> dict[str, object]:
    spec: dict[str, object] = {}
    if system:
        # The taint platform teams put on system node groups; the catalog tolerates it.
        spec["taints"] = [
            {"key": "node-role.kubernetes.io/system", "value": "true", "effect": "NoSchedule"}
        ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake"},
            "labels": {"type": "kwok", "kubernetes.io/hostname": name, "addons-test": "true"},
        },
        "spec": spec,
    }


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The session's kwok cluster plus two fake nodes of our own (one a tainted system node)."""
    try:
        kwok = request.getfixturevalue("kwok_cluster")
    except pytest.FixtureLookupError:
        pytest.skip(
            "needs the session fixture kwok_cluster (tests/conftest.py, from the kwok "
            "provider) — it is not defined"
        )
    from clusterforge.tools import resolve

    suffix = secrets.token_hex(3)
    names = (f"addons-system-{suffix}", f"addons-worker-{suffix}")
    found = Cluster(Path(kwok.kubeconfig), str(resolve("kubectl")), names)
    nodes = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            _node(names[0], system=True),
            _node(names[1], system=False),
        ],
    }
    done = found.run("apply", "-f", "-", stdin=json.dumps(nodes))
    assert done.returncode == 0, done.stderr
    done = found.run(
        "wait", "--for=condition=Ready", *(f"node/{n}" for n in names), "--timeout=60s"
    )
    assert done.returncode == 0, done.stderr
    yield found
    found.run("delete", "node", *names, "--ignore-not-found", "--wait=false")
