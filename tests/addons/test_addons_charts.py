"""The catalog charts: lint clean, and render what the catalog promises.

Every test here runs the pinned helm (``helm lint``, ``helm template``
through :func:`clusterforge.addons.render`); they skip, saying so, only when
helm is not installed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterforge.addons import ADDON_LABEL, CATALOG, KEEP_LABEL, render
from clusterforge.errors import InvalidInput

pytestmark = pytest.mark.usefixtures("helm")

NAMES = sorted(CATALOG)
# Values that switch on every optional part, so every template is exercised.
EVERYTHING: dict[str, dict[str, Any]] = {
    "coredns": {
        "service": {"clusterIP": "10.96.0.10"},
        "extraConfig": "example.org:53 {\n  forward . 10.0.0.53\n}",
    },
    "metrics-server": {"apiService": {"create": True}, "kubeletInsecureTLS": True},
    "cluster-autoscaler": {"nodeGroups": [{"name": "workers", "minSize": 1, "maxSize": 5}]},
    "fluent-bit": {},
    "ingress-nginx": {"admissionWebhooks": {"enabled": True}, "ingressClass": {"default": True}},
    "cert-manager": {"webhook": {"enabled": True}, "crds": {"keep": True}},
}
MIRROR = "mirror.invalid:5000/platform"
SYSTEM_TOLERATIONS = [
    {"key": "CriticalAddonsOnly", "operator": "Exists"},
    {"key": "node-role.kubernetes.io/system", "operator": "Exists", "effect": "NoSchedule"},
]


def objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def pod_specs(objs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in objs:
        kind = obj["kind"]
        if kind in ("Deployment", "DaemonSet", "StatefulSet", "Job"):
            yield f"{kind}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield kind, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind == "Pod":
            yield kind, obj["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def default_registries(values: Any) -> set[str]:
    """Every image registry named in a chart's default values."""
    found: set[str] = set()
    if isinstance(values, dict) or hasattr(values, "items"):
        for key, value in values.items():
            if key == "registry" and value:
                found.add(value)
            found |= default_registries(value)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_chart_lints_strictly(helm: str, name: str, tmp_path: Any) -> None:
    chart = CATALOG[name].chart
    done = subprocess.run(
        [helm, "lint", "--strict", str(chart), "--namespace", CATALOG[name].namespace],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_chart_lints_strictly_with_every_option_on(helm: str, name: str, tmp_path: Any) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(EVERYTHING[name]))
    done = subprocess.run(
        [helm, "lint", "--strict", str(CATALOG[name].chart), "--values", str(values)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_every_object_is_labelled_and_namespaced_for_the_add_on(name: str) -> None:
    addon = CATALOG[name]
    objs = objects(render(name, values=EVERYTHING[name]))
    assert objs
    for obj in objs:
        labels = obj["metadata"]["labels"]
        assert labels[ADDON_LABEL] == name, obj["metadata"]["name"]
        if obj["kind"] != "Namespace":
            assert labels["app.kubernetes.io/name"] == name
            assert labels["app.kubernetes.io/part-of"] == "clusterforge"
        namespace = obj["metadata"].get("namespace")
        assert namespace in (None, addon.namespace, "kube-system")
    own_namespace = [o for o in objs if o["kind"] == "Namespace"]
    if addon.namespace == "kube-system":
        assert own_namespace == []
    else:
        assert [o["metadata"]["name"] for o in own_namespace] == [addon.namespace]
        assert objs[0]["kind"] == "Namespace"


@pytest.mark.parametrize("name", NAMES)
def test_registry_override_reaches_every_image(name: str) -> None:
    text = render(name, values=EVERYTHING[name], registry=MIRROR)
    specs = list(pod_specs(objects(text)))
    assert specs
    for where, spec in specs:
        for container in containers(spec):
            assert container["image"].startswith(f"{MIRROR}/"), (where, container["image"])
    # No default registry is left anywhere — not in args (cert-manager's solver image) either.
    for registry in default_registries(CATALOG[name].default_values):
        assert registry not in text


@pytest.mark.parametrize("name", NAMES)
def test_without_override_images_come_from_their_own_registries(name: str) -> None:
    registries = default_registries(CATALOG[name].default_values)
    for _, spec in pod_specs(objects(render(name, values=EVERYTHING[name]))):
        for container in containers(spec):
            assert container["image"].split("/")[0] in registries


@pytest.mark.parametrize("name", NAMES)
def test_version_sets_every_image_tag(name: str) -> None:
    catalog_version = CATALOG[name].version
    tag = "v9.8.7" if catalog_version.startswith("v") else "9.8.7"
    for _, spec in pod_specs(objects(render(name, values=EVERYTHING[name], version="9.8.7"))):
        for container in containers(spec):
            assert container["image"].endswith(f":{tag}")
    for _, spec in pod_specs(objects(render(name))):
        for container in containers(spec):
            assert container["image"].endswith(f":{catalog_version}")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    host=st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z]{2,5}){0,2}", fullmatch=True),
    port=st.none() | st.integers(min_value=1, max_value=65535),
    path=st.from_regex(r"(/[a-z0-9]{1,6}){0,2}", fullmatch=True),
)
def test_any_registry_prefixes_images(host: str, port: int | None, path: str) -> None:
    registry = f"{host}{f':{port}' if port else ''}{path}"
    for _, spec in pod_specs(objects(render("coredns", registry=registry))):
        for container in containers(spec):
            assert container["image"] == f"{registry}/coredns/coredns:{CATALOG['coredns'].version}"


@pytest.mark.parametrize("name", NAMES)
def test_pods_tolerate_system_node_groups_and_request_small_resources(name: str) -> None:
    for where, spec in pod_specs(objects(render(name, values=EVERYTHING[name]))):
        tolerations = spec["tolerations"]
        if name == "fluent-bit":
            # A log shipper runs on every node: it tolerates every taint.
            assert tolerations == [{"operator": "Exists"}]
        else:
            assert tolerations == SYSTEM_TOLERATIONS, where
        for container in containers(spec):
            requests = container["resources"]["requests"]
            assert set(requests) == {"cpu", "memory"}, where
            cpu = requests["cpu"]
            assert cpu.endswith("m"), where
            assert int(cpu[:-1]) <= 100, where


def test_tolerations_are_a_value() -> None:
    custom = [{"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}]
    for _, spec in pod_specs(objects(render("metrics-server", values={"tolerations": custom}))):
        assert spec["tolerations"] == custom


def test_autoscaler_args_come_from_node_groups() -> None:
    values = {
        "cloudProvider": "kwok",
        "nodeGroups": [
            {"name": "system", "minSize": 1, "maxSize": 3},
            {"name": "workers", "minSize": 0, "maxSize": 20},
        ],
    }
    (deployment,) = [
        o for o in objects(render("cluster-autoscaler", values=values)) if o["kind"] == "Deployment"
    ]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith("--nodes=")] == [
        "--nodes=1:3:system",
        "--nodes=0:20:workers",
    ]
    assert "--cloud-provider=kwok" in args


def test_autoscaler_without_node_groups_has_no_nodes_args() -> None:
    (deployment,) = [o for o in objects(render("cluster-autoscaler")) if o["kind"] == "Deployment"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert not [a for a in args if a.startswith("--nodes")]
    assert all(a.strip() for a in args)


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([{"name": "a", "minSize": 3, "maxSize": 2}], "maxSize: 2 is below minSize 3"),
        ([{"name": "a", "minSize": 1}], "maxSize"),
        ([{"name": "a:b", "minSize": 1, "maxSize": 2}], "does not match pattern"),
        ([{"name": "a", "minSize": 1, "maxSize": 2}] * 2, "listed twice"),
        ([{"name": "a", "minSize": -1, "maxSize": 2}], "minimum"),
    ],
)
def test_bad_node_groups_are_invalid_input(groups: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(InvalidInput, match="add-on 'cluster-autoscaler'") as err:
        render("cluster-autoscaler", values={"nodeGroups": groups})
    assert message in str(err.value)


def test_metrics_apiservice_is_off_unless_asked_for() -> None:
    kinds = {o["kind"] for o in objects(render("metrics-server"))}
    assert "APIService" not in kinds
    (api,) = [
        o
        for o in objects(render("metrics-server", values={"apiService": {"create": True}}))
        if o["kind"] == "APIService"
    ]
    assert api["metadata"]["name"] == "v1beta1.metrics.k8s.io"
    assert api["spec"]["service"] == {
        "name": "metrics-server",
        "namespace": "kube-system",
        "port": 443,
    }


def test_webhooks_are_off_unless_asked_for() -> None:
    webhook_kinds = {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
    for name in ("ingress-nginx", "cert-manager"):
        assert not webhook_kinds & {o["kind"] for o in objects(render(name))}
    on = objects(render("ingress-nginx", values={"admissionWebhooks": {"enabled": True}}))
    (hook,) = [o for o in on if o["kind"] == "ValidatingWebhookConfiguration"]
    # Its certificate comes from cert-manager, the add-on ingress-nginx depends on.
    assert (
        hook["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
        == "ingress-nginx/ingress-nginx-admission"
    )
    assert {"Certificate", "Issuer"} <= {o["kind"] for o in on}


def test_cert_manager_ships_its_four_crds() -> None:
    crds = [o for o in objects(render("cert-manager")) if o["kind"] == "CustomResourceDefinition"]
    assert sorted(c["spec"]["names"]["kind"] for c in crds) == [
        "Certificate",
        "CertificateRequest",
        "ClusterIssuer",
        "Issuer",
    ]
    assert {c["spec"]["group"] for c in crds} == {"cert-manager.io"}
    scopes = {c["spec"]["names"]["kind"]: c["spec"]["scope"] for c in crds}
    assert scopes["ClusterIssuer"] == "Cluster"
    assert scopes["Certificate"] == "Namespaced"
    for crd in crds:
        assert KEEP_LABEL not in crd["metadata"]["labels"]
    kept = [
        o
        for o in objects(render("cert-manager", values={"crds": {"keep": True}}))
        if o["kind"] == "CustomResourceDefinition"
    ]
    assert all(c["metadata"]["labels"][KEEP_LABEL] == "keep" for c in kept)
    none = objects(render("cert-manager", values={"crds": {"enabled": False}}))
    assert not [o for o in none if o["kind"] == "CustomResourceDefinition"]


def test_coredns_serves_kube_dns_with_a_fixed_ip_when_given() -> None:
    (service,) = [o for o in objects(render("coredns")) if o["kind"] == "Service"]
    assert service["metadata"]["name"] == "kube-dns"
    assert "clusterIP" not in service["spec"]
    fixed = objects(render("coredns", values={"service": {"clusterIP": "10.96.0.10"}}))
    (service,) = [o for o in fixed if o["kind"] == "Service"]
    assert service["spec"]["clusterIP"] == "10.96.0.10"
    (deployment,) = [o for o in fixed if o["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 2


def test_fluent_bit_config_comes_from_values() -> None:
    values = {
        "config": {
            "outputs": [{"Name": "forward", "Match": "*", "Host": "logs.invalid", "Port": 24224}]
        }
    }
    (config,) = [
        o
        for o in objects(render("fluent-bit", values=values))
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "fluent-bit"
    ]
    conf = config["data"]["fluent-bit.conf"]
    output = conf[conf.index("[OUTPUT]") :]
    for line in ("Name forward", "Host logs.invalid", "Port 24224"):
        assert line in output
    assert "Name stdout" not in conf
    assert "[INPUT]" in conf
    assert "Name tail" in conf


def test_ingress_service_type_is_a_value() -> None:
    for kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        (service,) = [
            o
            for o in objects(render("ingress-nginx", values={"service": {"type": kind}}))
            if o["kind"] == "Service"
        ]
        assert service["spec"]["type"] == kind
    with pytest.raises(InvalidInput, match="ingress-nginx"):
        render("ingress-nginx", values={"service": {"type": "Magic"}})


def test_render_is_deterministic() -> None:
    assert render("cert-manager") == render("cert-manager")


def test_unknown_add_on_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not a catalog add-on"):
        render("istio")
