"""The catalog on a real kwok cluster: install in order, prove it, converge, remove cleanly.

Each test starts from and leaves a cluster without the add-ons it touches,
so tests can run in any order (or on different xdist workers' clusters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clusterforge.addons import (
    ADDON_LABEL,
    CATALOG,
    ChartSource,
    UserAddon,
    install,
    install_order,
    install_user_addon,
    uninstall,
)
from clusterforge.checks.detik import assert_sentence

from .conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(900)]


def labelled(cluster: Cluster, name: str) -> list[str]:
    """Everything in the cluster labelled as part of add-on ``name``, of any kind."""
    types = cluster.run("api-resources", "--verbs=list", "-o", "name").stdout.split()
    done = cluster.run("get", ",".join(types), "-A", "-l", f"{ADDON_LABEL}={name}", "-o", "json")
    items = json.loads(done.stdout)["items"] if done.stdout.strip() else []
    return [
        f"{i['kind']}/{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items
    ]


def pods(cluster: Cluster, namespace: str, app: str) -> list[dict[str, Any]]:
    data = cluster.json("get", "pods", "-n", namespace, "-l", f"app.kubernetes.io/name={app}")
    items: list[dict[str, Any]] = data["items"]  # type: ignore[assignment]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def remove_all(cluster: Cluster) -> None:
    for level in reversed(install_order(CATALOG)):
        for name in level:
            uninstall(name, kubeconfig=cluster.kubeconfig)


def test_catalog_lifecycle(cluster: Cluster) -> None:
    kubeconfig = cluster.kubeconfig
    remove_all(cluster)
    autoscaler = {"nodeGroups": [{"name": "workers", "minSize": 1, "maxSize": 5}]}
    values = {"cluster-autoscaler": autoscaler}

    # Install every catalog add-on, dependencies first.
    for level in install_order(CATALOG):
        for name in level:
            result = install(name, kubeconfig=kubeconfig, values=values.get(name))
            assert result.changed, name
            assert result.objects
    for name, addon in CATALOG.items():
        running = [
            p for p in pods(cluster, addon.namespace, name) if p["status"]["phase"] == "Running"
        ]
        assert running, f"{name}: no Running pod in {addon.namespace}"
        for sentence in addon.sentences:
            assert_sentence(
                sentence, kubeconfig=kubeconfig, namespace=addon.namespace, client=cluster.kubectl
            )
    assert len(pods(cluster, "kube-system", "coredns")) == 2
    # The log shipper runs on every node, the tainted system node included.
    fluent_nodes = {p["spec"]["nodeName"] for p in pods(cluster, "logging", "fluent-bit")}
    assert set(cluster.nodes) <= fluent_nodes

    # Re-installing changes nothing.
    for level in install_order(CATALOG):
        for name in level:
            again = install(name, kubeconfig=kubeconfig, values=values.get(name))
            assert not again.changed, f"{name} changed on re-install:\n{again.diff}"
            assert again.diff == ""

    # A hand edit to a field the add-on sets is put back.
    done = cluster.run("scale", "deployment/coredns", "-n", "kube-system", "--replicas=4")
    assert done.returncode == 0, done.stderr
    fixed = install("coredns", kubeconfig=kubeconfig)
    assert fixed.changed
    spec = cluster.json("get", "deployment/coredns", "-n", "kube-system")["spec"]
    assert spec["replicas"] == 2  # type: ignore[index]

    # Switching an option off removes what it added.
    with_hook = install(
        "ingress-nginx", kubeconfig=kubeconfig, values={"admissionWebhooks": {"enabled": True}}
    )
    assert with_hook.changed
    assert (
        cluster.run(
            "get", "validatingwebhookconfiguration", "ingress-nginx-admission-ingress-nginx"
        ).returncode
        == 0
    )
    without = install("ingress-nginx", kubeconfig=kubeconfig)
    assert without.changed
    assert sorted(ref.kind for ref in without.pruned) == [
        "Certificate",
        "Issuer",
        "Service",
        "ValidatingWebhookConfiguration",
    ]
    gone = cluster.run(
        "get", "validatingwebhookconfiguration", "ingress-nginx-admission-ingress-nginx"
    )
    assert gone.returncode != 0
    assert not install("ingress-nginx", kubeconfig=kubeconfig).changed

    # Uninstall, dependents first, leaves nothing labelled behind.
    remove_all(cluster)
    for name in CATALOG:
        assert labelled(cluster, name) == [], name
    namespaces = {n["metadata"]["name"] for n in cluster.json("get", "namespaces")["items"]}  # type: ignore[union-attr, index]
    assert not {"cert-manager", "ingress-nginx", "logging"} & namespaces
    crds = cluster.run("get", "crd", "-o", "name").stdout
    assert "cert-manager.io" not in crds
    # kube-system itself is shared: it stays.
    assert "kube-system" in namespaces


def test_cert_manager_crds_can_be_kept(cluster: Cluster) -> None:
    kubeconfig = cluster.kubeconfig
    uninstall("cert-manager", kubeconfig=kubeconfig)
    install("cert-manager", kubeconfig=kubeconfig, values={"crds": {"keep": True}})
    try:
        uninstall("cert-manager", kubeconfig=kubeconfig)
        left = labelled(cluster, "cert-manager")
        assert sorted(left) == sorted(
            f"CustomResourceDefinition//{plural}.cert-manager.io"
            for plural in ("certificates", "certificaterequests", "clusterissuers", "issuers")
        )
    finally:
        cluster.run("delete", "crd", "-l", f"{ADDON_LABEL}=cert-manager", "--wait=true")


def test_user_manifests_in_a_namespace_that_existed(cluster: Cluster, tmp_path: Path) -> None:
    kubeconfig = cluster.kubeconfig
    cluster.run("create", "namespace", "team-a")
    try:
        manifest = tmp_path / "cm.yaml"
        manifest.write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n"
        )
        addon = UserAddon("team-settings", manifests=(manifest,), namespace="team-a")
        first = install_user_addon(addon, kubeconfig=kubeconfig)
        assert first.changed
        assert "Namespace" not in {ref.kind for ref in first.objects}  # used, not adopted
        assert not install_user_addon(addon, kubeconfig=kubeconfig).changed
        data = cluster.json("get", "configmap/settings", "-n", "team-a")["data"]
        assert data == {"a": "1"}
        uninstall("team-settings", kubeconfig=kubeconfig)
        assert labelled(cluster, "team-settings") == []
        assert cluster.run("get", "namespace", "team-a").returncode == 0  # not ours to delete
    finally:
        cluster.run("delete", "namespace", "team-a", "--wait=false")


def test_user_chart_converges_and_uninstalls(cluster: Cluster, tmp_path: Path, helm: str) -> None:
    kubeconfig = cluster.kubeconfig
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 1\nextra: false\n")
    (chart / "templates" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
        "      containers: [{name: web, image: example.invalid/web:1}]\n"
        "      tolerations: [{operator: Exists}]\n"
    )
    (chart / "templates" / "extra.yaml").write_text(
        "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: web-extra}\n{{- end }}\n"
    )
    uninstall("web", kubeconfig=kubeconfig)
    with_extra = UserAddon(
        "web", chart=ChartSource(path=chart), values={"replicas": 2, "extra": True}
    )
    result = install_user_addon(with_extra, kubeconfig=kubeconfig)
    assert result.changed
    running = [p for p in pods_by_app(cluster, "web") if p["status"]["phase"] == "Running"]
    assert len(running) == 2
    assert not install_user_addon(with_extra, kubeconfig=kubeconfig).changed
    plain = install_user_addon(
        UserAddon("web", chart=ChartSource(path=chart)), kubeconfig=kubeconfig
    )
    assert [str(ref) for ref in plain.pruned] == ["ConfigMap/web-extra"]
    uninstall("web", kubeconfig=kubeconfig)
    assert labelled(cluster, "web") == []
    assert cluster.run("get", "namespace", "web").returncode != 0


def pods_by_app(cluster: Cluster, app: str) -> list[dict[str, Any]]:
    data = cluster.json("get", "pods", "-n", app, "-l", f"app={app}")
    items: list[dict[str, Any]] = data["items"]  # type: ignore[assignment]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]
