"""``clusterforge argo install`` into a plain kwok cluster, and the errors a user meets
first with ``--engine argo``: each one clear message, exit ≠ 0, nothing half-created.

One test, in the order a user lives it, on the session's shared kwok cluster (no
Argo in it yet): a build is refused for the missing CRDs; a user without RBAC can
neither install nor build; ``install`` applies the CRDs, the controller's
ConfigMap and the chart; a build then finds no controller and is removed again.
At the end the release and CRDs are removed, so the shared cluster is as found.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import KwokCluster
from tests.management import CLI

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "cf-install"
SPEC = str(REPO / "examples" / "dev-cluster.yaml")


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        env={**os.environ, "CLUSTERFORGE_ENGINE": "local", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _kubectl(cluster: KwokCluster, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        [str(cluster.kubectl), f"--kubeconfig={cluster.kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 or not check, done.stderr
    return done.stdout


def _one_error(done: subprocess.CompletedProcess[str], words: str) -> None:
    assert done.returncode != 0, done.stdout
    assert words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def _restricted(cluster: KwokCluster, path: Path) -> Path:
    """A kubeconfig for a ServiceAccount with no rights beyond discovery."""
    _kubectl(cluster, "create", "serviceaccount", "nobody", "-n", "default", check=False)
    token = _kubectl(cluster, "create", "token", "nobody", "-n", "default").strip()
    config: dict[str, Any] = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    server = next(c for c in config["clusters"] if c["name"] == context["context"]["cluster"])
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [server],
                "contexts": [
                    {"name": "nobody", "context": {"cluster": server["name"], "user": "nobody"}}
                ],
                "current-context": "nobody",
                "users": [{"name": "nobody", "user": {"token": token}}],
            }
        )
    )
    return path


def _argo_objects(cluster: KwokCluster) -> list[str]:
    found = _kubectl(cluster, "get", "crd", "-o", "name").split()
    return [name for name in found if name.endswith(".argoproj.io")]


def test_install_and_the_errors_before_and_after(kwok_cluster: KwokCluster, tmp_path: Path) -> None:
    kubeconfig = str(kwok_cluster.kubeconfig)
    assert _argo_objects(kwok_cluster) == [], "the shared kwok cluster already has Argo's CRDs"
    argo = ("--engine", "argo", "--kubeconfig", kubeconfig)

    # No CRDs: the build is refused before anything is created.
    _one_error(_cli("build", SPEC, *argo), "has no Argo Workflows CRDs")

    # No RBAC: neither install nor a build gets anywhere.
    nobody = str(_restricted(kwok_cluster, tmp_path / "nobody.yaml"))
    refused = _cli("argo", "install", "--kubeconfig", nobody, "--namespace", NAMESPACE)
    _one_error(refused, "may not create customresourcedefinitions")
    _one_error(_cli("build", SPEC, "--engine", "argo", "--kubeconfig", nobody), "refused (403")
    assert _argo_objects(kwok_cluster) == []
    # --events without Argo Events' CRDs: refused before anything is applied.
    _one_error(
        _cli("argo", "install", "--kubeconfig", kubeconfig, "--namespace", NAMESPACE, "--events"),
        "no Argo Events CRDs",
    )
    assert _argo_objects(kwok_cluster) == []
    namespaces = _kubectl(kwok_cluster, "get", "namespaces", "-o", "name").split()
    assert f"namespace/{NAMESPACE}" not in namespaces

    try:
        done = _cli("argo", "install", "--kubeconfig", kubeconfig, "--namespace", NAMESPACE)
        assert done.returncode == 0, done.stderr
        assert "without Argo Events objects" in done.stdout
        crds = _argo_objects(kwok_cluster)
        assert "customresourcedefinition.apiextensions.k8s.io/workflows.argoproj.io" in crds
        full = json.loads(
            _kubectl(
                kwok_cluster,
                "get",
                "crd",
                "workflows.argoproj.io",
                "-o=json",
                "--show-managed-fields",
            )
        )
        schema = full["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert "templates" in schema["properties"]["spec"]["properties"]  # the full CRD
        managers = {m["manager"] for m in full["metadata"]["managedFields"]}
        assert "kubectl" in managers, managers  # server-side apply's field manager
        assert "kubectl-client-side-apply" not in managers
        cm = json.loads(
            _kubectl(kwok_cluster, "get", "configmap", "workflow-controller-configmap",
                     "-n", NAMESPACE, "-o=json")
        )  # fmt: skip
        assert "metricsConfig" in cm["data"]
        templates = _kubectl(kwok_cluster, "get", "workflowtemplates", "-n", NAMESPACE, "-o=name")
        assert {t.split("/")[-1] for t in templates.split()} >= {
            "preflight", "cluster-core", "addons", "validation", "cluster-build",
            "cluster-teardown",
        }  # fmt: skip
        roles = _kubectl(kwok_cluster, "get", "roles", "-n", NAMESPACE, "-o=name")
        assert roles.split(), "the chart's least-privilege Roles"
        secret = _kubectl(
            kwok_cluster, "get", "secrets", "-n", NAMESPACE, "-l", "owner=helm", "-o=json"
        )
        releases = json.loads(secret)["items"]
        assert [r["metadata"]["labels"]["status"] for r in releases] == ["deployed"]
        assert base64.b64decode(releases[0]["data"]["release"])  # helm's own record

        # CRDs and templates, but no controller: the workflow never starts, and is deleted.
        left = _cli(
            "build", SPEC, *argo, "--namespace", NAMESPACE,
            CLUSTERFORGE_ARGO_START_TIMEOUT="3",
        )  # fmt: skip
        _one_error(left, "was not picked up by a workflow-controller within 3s")
        assert _kubectl(kwok_cluster, "get", "workflows", "-n", NAMESPACE, "-o=name") == ""

        again = _cli("argo", "install", "--kubeconfig", kubeconfig, "--namespace", NAMESPACE)
        assert again.returncode == 0, again.stderr  # idempotent: an upgrade
    finally:
        _uninstall(kwok_cluster)


def _uninstall(cluster: KwokCluster) -> None:
    from clusterforge.tools import resolve

    subprocess.run(
        [str(resolve("helm")), f"--kubeconfig={cluster.kubeconfig}", "-n", NAMESPACE,
         "uninstall", "clusterforge", "--wait"],
        capture_output=True, check=False, timeout=300,
    )  # fmt: skip
    for crd in _argo_objects(cluster):
        _kubectl(cluster, "delete", crd, "--wait=true", check=False)
    _kubectl(cluster, "delete", "namespace", NAMESPACE, "--wait=false", check=False)
