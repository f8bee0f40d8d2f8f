"""The cluster a conformance case runs against (``cluster: true`` in its expectations).

Cases with resource templates run against the session's kwok management
cluster (``argo_cluster``, tests/management.py), each in a namespace of its own
that is deleted afterwards, so cases never see each other's objects.
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent


@contextlib.contextmanager
def case_cluster(
    expect: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[tuple[str | None, str | None, Any]]:
    """``(kubeconfig, namespace, cluster)`` for a case that needs one, else Nones."""
    if not expect.get("cluster"):
        yield None, None, None
        return
    cluster = request.getfixturevalue("argo_cluster")
    namespace = f"cf-{uuid.uuid4().hex[:10]}"
    cluster.kubectl_run("create", "namespace", namespace)
    for manifest in expect.get("cluster_apply") or []:  # objects the case reads there
        cluster.kubectl_run("apply", "-n", namespace, "-f", str(HERE / manifest))
    try:
        yield str(cluster.kubeconfig), namespace, cluster
    finally:
        cluster.kubectl_run("delete", "namespace", namespace, "--wait=false")


def objects_present(cluster: Any, namespace: str, names: list[str]) -> dict[str, bool]:
    """Whether each ``kind/name`` exists in ``namespace`` now."""
    found = {}
    for name in names:
        done = subprocess.run(
            [
                cluster.kubectl,
                f"--kubeconfig={cluster.kubeconfig}",
                "-n",
                namespace,
                "get",
                name,
                "--ignore-not-found",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found[name] = bool(done.stdout.strip())
    return found
