"""Every validation rule of the spec, each with a failing example.

Each case breaks a valid document in one place and asserts that the message
names that exact field path and says what is wrong (and, where there is a
list, what is allowed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from spec_helpers import aws_base, base, problems_of, set_at, valid

Doc = dict[str, Any]


def at(path: str, value: Any, doc: Callable[[], Doc] = base) -> Callable[[], Doc]:
    return lambda: set_at(doc(), path, value)


def addons(**entries: Any) -> Callable[[], Doc]:
    def make() -> Doc:
        doc = base()
        doc["spec"]["addons"].update({k.replace("_", "-"): v for k, v in entries.items()})
        return doc

    return make


def group(**fields: Any) -> Callable[[], Doc]:
    def make() -> Doc:
        doc = base()
        doc["spec"]["nodeGroups"][0].update(fields)
        return doc

    return make


def aws(path: str, value: Any) -> Callable[[], Doc]:
    return at(path, value, aws_base)


def check(**fields: Any) -> Callable[[], Doc]:
    def make() -> Doc:
        doc = base()
        doc["spec"]["preflight"] = {"checks": [{"name": "mirror", "command": ["true"], **fields}]}
        return doc

    return make


KUSTOMIZE = {"kustomize": {"path": "/srv/web"}}

CASES: list[tuple[str, Callable[[], Doc], str, str]] = [
    # document
    ("api-version", at("apiVersion", "v1"), "apiVersion: ", "allowed: clusterforge.dev/v1alpha1"),
    ("kind", at("kind", "Pod"), "kind: ", "allowed: Cluster"),
    ("unknown-top-field", at("status", {}), "status: ", "unknown field 'status'; allowed here"),
    ("missing-spec", at("spec", ...), "spec: ", "required field is missing"),
    ("snake-case-key", at("spec.node_groups", []), "spec.node_groups: ", "unknown field"),
    # metadata
    ("name-case", at("metadata.name", "Dev"), "metadata.name: ", "not a valid cluster name"),
    ("name-long", at("metadata.name", "a" * 41), "metadata.name: ", "at most 40"),
    ("name-dash", at("metadata.name", "-dev"), "metadata.name: ", "starting and ending"),
    ("name-missing", at("metadata.name", ...), "metadata.name: ", "required"),
    ("name-shell", at("metadata.name", "dev;reboot"), "metadata.name: ", "not a valid"),
    (
        "label-key",
        at("metadata.labels", {"bad key": "x"}),
        'metadata.labels["bad key"]: ',
        "label key",
    ),
    (
        "label-prefix",
        at("metadata.labels", {"Ex.com/a": "x"}),
        'metadata.labels["Ex.com/a"]: ',
        "prefix",
    ),
    (
        "label-value",
        at("metadata.labels", {"team": "a b"}),
        "metadata.labels.team: ",
        "label value",
    ),
    (
        "label-value-long",
        at("metadata.labels", {"t": "a" * 64}),
        "metadata.labels.t: ",
        "at most 63",
    ),
    # provider
    (
        "provider-type",
        at("spec.provider", {"type": "gcp"}),
        "spec.provider.type: ",
        "allowed: aws, kwok",
    ),
    ("provider-no-type", at("spec.provider", {}), "spec.provider.type: ", "required"),
    ("provider-string", at("spec.provider", "kwok"), "spec.provider: ", "write a mapping"),
    (
        "kwok-port",
        at("spec.provider.apiServerPort", 80),
        "spec.provider.apiServerPort: ",
        "least allowed is 1024",
    ),
    (
        "kwok-field",
        at("spec.provider.region", "x"),
        "spec.provider.region: ",
        "allowed here: type, apiServerPort",
    ),
    (
        "aws-region",
        aws("spec.provider.region", "Europe"),
        "spec.provider.region: ",
        "not an AWS region",
    ),
    ("aws-vpc", aws("spec.provider.vpcId", "vpc-xyz"), "spec.provider.vpcId: ", "not a VPC id"),
    (
        "aws-subnet-id",
        aws("spec.provider.subnets.0.id", "sub-1"),
        "spec.provider.subnets[0].id: ",
        "not a subnet id",
    ),
    (
        "aws-subnet-zone",
        aws("spec.provider.subnets.1.zone", "us-east-1a"),
        "spec.provider.subnets[1].zone: ",
        "not in region 'eu-west-1'",
    ),
    (
        "aws-one-zone",
        aws("spec.provider.subnets.1.zone", "eu-west-1a"),
        "spec.provider.subnets: ",
        "two availability zones",
    ),
    (
        "aws-subnet-twice",
        aws("spec.provider.subnets.1.id", "subnet-0a1b2c3d"),
        "spec.provider.subnets[1].id: ",
        "listed twice",
    ),
    (
        "aws-no-subnets",
        aws("spec.provider.subnets", []),
        "spec.provider.subnets: ",
        "at least 1 entry",
    ),
    (
        "aws-free-ips",
        aws("spec.provider.minFreeIpsPerSubnet", -1),
        "spec.provider.minFreeIpsPerSubnet: ",
        "least allowed is 0",
    ),
    (
        "aws-export",
        aws("spec.provider.requiredExports", ["a b"]),
        "spec.provider.requiredExports[0]: ",
        "export name",
    ),
    (
        "aws-ssm",
        aws("spec.provider.requiredSsmParameters", ["/a b"]),
        "spec.provider.requiredSsmParameters[0]: ",
        "SSM parameter",
    ),
    ("aws-role", aws("spec.provider.roleArn", "admin"), "spec.provider.roleArn: ", "IAM role ARN"),
    (
        "aws-tag-reserved",
        aws("spec.provider.tags", {"aws:x": "y"}),
        'spec.provider.tags["aws:x"]: ',
        "reserved",
    ),
    (
        "aws-tag-value",
        aws("spec.provider.tags", {"team": "$(reboot)"}),
        "spec.provider.tags.team: ",
        "not an AWS tag value",
    ),
    (
        "aws-field",
        aws("spec.provider.apiServerPort", 6443),
        "spec.provider.apiServerPort: ",
        "unknown field",
    ),
    # kubernetesVersion
    (
        "version-format",
        at("spec.kubernetesVersion", "1.34.x"),
        "spec.kubernetesVersion: ",
        "not a Kubernetes version",
    ),
    (
        "version-number",
        at("spec.kubernetesVersion", 1.34),
        "spec.kubernetesVersion: ",
        "is a number",
    ),
    (
        "version-kwok",
        at("spec.kubernetesVersion", "1.33"),
        "spec.kubernetesVersion: ",
        "allowed: 1.34, 1.34.4",
    ),
    (
        "version-kwok-patch",
        at("spec.kubernetesVersion", "v1.34.1"),
        "spec.kubernetesVersion: ",
        "pinned",
    ),
    (
        "version-aws-patch",
        aws("spec.kubernetesVersion", "1.33.2"),
        "spec.kubernetesVersion: ",
        "write '1.33'",
    ),
    (
        "version-aws-old",
        aws("spec.kubernetesVersion", "1.20"),
        "spec.kubernetesVersion: ",
        "EKS offers; allowed",
    ),
    # nodeGroups
    ("groups-empty", at("spec.nodeGroups", []), "spec.nodeGroups: ", "at least 1 entry"),
    (
        "group-name",
        group(name="General"),
        "spec.nodeGroups[0].name: ",
        "not a valid node group name",
    ),
    ("group-name-long", group(name="g" * 41), "spec.nodeGroups[0].name: ", "at most 40"),
    (
        "instance-type",
        group(instanceType="m9.huge"),
        "spec.nodeGroups[0].instanceType: ",
        "'m9.huge' is not a known instance type; allowed: c5.2xlarge, c5.4xlarge, c5.large",
    ),
    ("desired-negative", group(desired=-1), "spec.nodeGroups[0].desired: ", "least allowed is 0"),
    ("desired-string", group(desired="2"), "spec.nodeGroups[0].desired: ", "write a whole number"),
    ("desired-bool", group(desired=True), "spec.nodeGroups[0].desired: ", "boolean"),
    ("min-over-desired", group(min=3), "spec.nodeGroups[0].min: ", "more than desired (2)"),
    ("max-under-desired", group(max=1), "spec.nodeGroups[0].max: ", "less than desired (2)"),
    ("max-zero", group(desired=0, max=0), "spec.nodeGroups[0].max: ", "least allowed is 1"),
    ("max-kwok", group(max=101), "spec.nodeGroups[0].max: ", "at most 100"),
    (
        "max-aws",
        lambda: set_at(aws_base(), "spec.nodeGroups.0.max", 451),
        "spec.nodeGroups[0].max: ",
        "at most 450",
    ),
    (
        "group-twice",
        lambda: _two_groups(),
        "spec.nodeGroups[1].name: ",
        "already the name of spec.nodeGroups[0]",
    ),
    (
        "group-field",
        group(instanceTyp="x"),
        "spec.nodeGroups[0].instanceTyp: ",
        "allowed here: name, instanceType, desired",
    ),
    (
        "reserved-label",
        group(labels={"node.kubernetes.io/instance-type": "x"}),
        'spec.nodeGroups[0].labels["node.kubernetes.io/instance-type"]: ',
        "set by clusterforge",
    ),
    (
        "clusterforge-label",
        group(labels={"clusterforge.dev/x": "y"}),
        'spec.nodeGroups[0].labels["clusterforge.dev/x"]: ',
        "set by clusterforge",
    ),
    (
        "group-label-value",
        group(labels={"app": "fluent bit; rm -rf /"}),
        "spec.nodeGroups[0].labels.app: ",
        "not a label value",
    ),
    (
        "taint-effect",
        group(taints=[{"key": "a", "effect": "NoSchedul"}]),
        "spec.nodeGroups[0].taints[0].effect: ",
        "allowed: NoExecute, NoSchedule, PreferNoSchedule",
    ),
    (
        "taint-key",
        group(taints=[{"key": "a b", "effect": "NoSchedule"}]),
        "spec.nodeGroups[0].taints[0].key: ",
        "label key",
    ),
    (
        "taint-missing-effect",
        group(taints=[{"key": "a"}]),
        "spec.nodeGroups[0].taints[0].effect: ",
        "required",
    ),
    (
        "taint-twice",
        group(
            taints=[
                {"key": "a", "effect": "NoSchedule"},
                {"key": "a", "value": "b", "effect": "NoSchedule"},
            ]
        ),
        "spec.nodeGroups[0].taints[1]: ",
        "listed twice",
    ),
    ("zones-empty", group(zones=[]), "spec.nodeGroups[0].zones: ", "at least 1 entry"),
    ("zone-blank", group(zones=[""]), "spec.nodeGroups[0].zones[0]: ", "must not be empty"),
    ("zone-twice", group(zones=["a", "a"]), "spec.nodeGroups[0].zones[1]: ", "listed twice"),
    (
        "zone-aws",
        lambda: set_at(aws_base(), "spec.nodeGroups.0.zones", ["eu-west-1c"]),
        "spec.nodeGroups[0].zones[0]: ",
        "allowed: eu-west-1a, eu-west-1b",
    ),
    # addons
    (
        "addon-unknown",
        addons(metrics_servr="default"),
        "spec.addons.metrics-servr: ",
        "not a catalog add-on (catalog: cert-manager, cluster-autoscaler, coredns, "
        "fluent-bit, ingress-nginx, metrics-server)",
    ),
    ("addon-unknown-version", addons(web="1.2.3"), "spec.addons.web: ", "needs exactly one source"),
    (
        "addon-latest",
        addons(coredns="latest"),
        "spec.addons.coredns: ",
        "write 'none', 'default', an exact version",
    ),
    ("addon-null", addons(coredns=None), "spec.addons.coredns: ", "write 'none'"),
    ("addon-bool", addons(coredns=False), "spec.addons.coredns: ", "boolean"),
    ("addon-number", addons(coredns=1.11), "spec.addons.coredns: ", "quote versions"),
    ("addon-name", addons(Web=KUSTOMIZE), "spec.addons.Web: ", "not a valid add-on name"),
    (
        "addon-name-long",
        addons(**{"w" * 54: KUSTOMIZE}),
        "spec.addons." + "w" * 54 + ": ",
        "at most 53",
    ),
    (
        "addon-version",
        addons(coredns={"version": "1.x"}),
        "spec.addons.coredns.version: ",
        "not an exact version",
    ),
    (
        "addon-registry",
        addons(fluent_bit={"registry": "https://mirror"}),
        "spec.addons.fluent-bit.registry: ",
        "not an image registry",
    ),
    (
        "addon-values-date",
        addons(fluent_bit={"values": {"when": __import__("datetime").date(2024, 1, 1)}}),
        "spec.addons.fluent-bit.values.when: ",
        "quote it",
    ),
    (
        "addon-values-key",
        addons(fluent_bit={"values": {"a": {1: "x"}}}),
        'spec.addons.fluent-bit.values.a["1"]: ',
        "must be a string",
    ),
    (
        "addon-values-type",
        addons(fluent_bit={"values": ["a"]}),
        "spec.addons.fluent-bit.values: ",
        "write a mapping",
    ),
    (
        "addon-field",
        addons(coredns={"vesion": "1.2.3"}),
        "spec.addons.coredns.vesion: ",
        "allowed here: version, values, registry",
    ),
    (
        "catalog-chart",
        addons(cert_manager={"chart": {"path": "/c"}}),
        "spec.addons.cert-manager.chart: ",
        "catalog add-on",
    ),
    (
        "catalog-depends",
        addons(cert_manager={"dependsOn": ["coredns"]}),
        "spec.addons.cert-manager.dependsOn: ",
        "catalog add-on",
    ),
    (
        "catalog-namespace",
        addons(cert_manager={"namespace": "x"}),
        "spec.addons.cert-manager.namespace: ",
        "catalog add-on",
    ),
    (
        "user-no-source",
        addons(web={"namespace": "web"}),
        "spec.addons.web: ",
        "exactly one source: chart, kustomize or manifests",
    ),
    (
        "user-two-sources",
        addons(web={**KUSTOMIZE, "manifests": {"paths": ["/m.yaml"]}}),
        "spec.addons.web: ",
        "exactly one source, not kustomize, manifests",
    ),
    (
        "user-version",
        addons(web={**KUSTOMIZE, "version": "1.0.0"}),
        "spec.addons.web.version: ",
        "chart.version",
    ),
    (
        "user-registry",
        addons(web={**KUSTOMIZE, "registry": "mirror"}),
        "spec.addons.web.registry: ",
        "catalog add-ons",
    ),
    (
        "user-values",
        addons(web={**KUSTOMIZE, "values": {"a": 1}}),
        "spec.addons.web.values: ",
        "charts only",
    ),
    (
        "user-namespace",
        addons(web={**KUSTOMIZE, "namespace": "Web"}),
        "spec.addons.web.namespace: ",
        "not a valid namespace",
    ),
    (
        "depends-disabled",
        addons(ingress_nginx="none", web={**KUSTOMIZE, "dependsOn": ["ingress-nginx"]}),
        "spec.addons.web.dependsOn[0]: ",
        "'ingress-nginx' is set to 'none'; dependencies must be enabled add-ons: "
        "coredns, metrics-server",
    ),
    (
        "depends-unknown",
        addons(web={**KUSTOMIZE, "dependsOn": ["db"]}),
        "spec.addons.web.dependsOn[0]: ",
        "'db' is not in spec.addons",
    ),
    (
        "depends-self",
        addons(web={**KUSTOMIZE, "dependsOn": ["web"]}),
        "spec.addons.web.dependsOn[0]: ",
        "cannot depend on itself",
    ),
    (
        "depends-twice",
        addons(web={**KUSTOMIZE, "dependsOn": ["coredns", "coredns"]}),
        "spec.addons.web.dependsOn[1]: ",
        "listed twice",
    ),
    (
        "depends-cycle",
        addons(
            a={**KUSTOMIZE, "dependsOn": ["b"]},
            b={**KUSTOMIZE, "dependsOn": ["c"]},
            c={**KUSTOMIZE, "dependsOn": ["a"]},
        ),
        "spec.addons.a.dependsOn: ",
        "dependency cycle: a → b → c → a",
    ),
    (
        "chart-nothing",
        addons(web={"chart": {}}),
        "spec.addons.web.chart: ",
        "exactly one of path, repo",
    ),
    (
        "chart-two",
        addons(web={"chart": {"path": "/c", "oci": "oci://r/c", "version": "1.0.0"}}),
        "spec.addons.web.chart: ",
        "got path, oci",
    ),
    (
        "chart-repo-version",
        addons(web={"chart": {"repo": "https://charts.example.org", "name": "web"}}),
        "spec.addons.web.chart.version: ",
        "needs 'version'",
    ),
    (
        "chart-repo-name",
        addons(web={"chart": {"repo": "https://charts.example.org", "version": "1.0.0"}}),
        "spec.addons.web.chart.name: ",
        "needs 'name'",
    ),
    (
        "chart-repo-url",
        addons(web={"chart": {"repo": "ftp://x", "name": "web", "version": "1.0.0"}}),
        "spec.addons.web.chart.repo: ",
        "not a chart repository URL",
    ),
    (
        "chart-oci-version",
        addons(web={"chart": {"oci": "oci://registry.example/charts/web"}}),
        "spec.addons.web.chart.version: ",
        "needs 'version'",
    ),
    (
        "chart-oci-ref",
        addons(web={"chart": {"oci": "registry.example/web", "version": "1.0.0"}}),
        "spec.addons.web.chart.oci: ",
        "not an OCI chart reference",
    ),
    (
        "chart-oci-name",
        addons(web={"chart": {"oci": "oci://r.example/web", "name": "web", "version": "1.0.0"}}),
        "spec.addons.web.chart.name: ",
        "already names the chart",
    ),
    (
        "chart-path-version",
        addons(web={"chart": {"path": "/c", "version": "1.0.0"}}),
        "spec.addons.web.chart.version: ",
        "Chart.yaml",
    ),
    (
        "chart-version-range",
        addons(web={"chart": {"oci": "oci://r.example/web", "version": "^1.0"}}),
        "spec.addons.web.chart.version: ",
        "ranges",
    ),
    (
        "chart-name",
        addons(web={"chart": {"repo": "https://c.example", "name": "a b", "version": "1.0.0"}}),
        "spec.addons.web.chart.name: ",
        "not a chart name",
    ),
    (
        "manifests-empty",
        addons(web={"manifests": {"paths": []}}),
        "spec.addons.web.manifests.paths: ",
        "at least 1 entry",
    ),
    (
        "path-newline",
        addons(web={"kustomize": {"path": "/a\nb"}}),
        "spec.addons.web.kustomize.path: ",
        "control character",
    ),
    (
        "path-empty",
        addons(web={"kustomize": {"path": ""}}),
        "spec.addons.web.kustomize.path: ",
        "must not be empty",
    ),
    (
        "path-tilde",
        addons(web={"kustomize": {"path": "~/web"}}),
        "spec.addons.web.kustomize.path: ",
        "not expanded",
    ),
    (
        "path-url",
        addons(web={"manifests": {"paths": ["https://x/y.yaml"]}}),
        "spec.addons.web.manifests.paths[0]: ",
        "is a URL",
    ),
    (
        "addon-check-grammar",
        addons(web={**KUSTOMIZE, "checks": ["there are two pods named 'web'"]}),
        "spec.addons.web.checks[0]: ",
        "at \"two pods named 'web'\", expected a number",
    ),
    (
        "addon-check-verb",
        addons(coredns={"checks": ["verify there are 2 pods named 'x'"]}),
        "spec.addons.coredns.checks[0]: ",
        "not a DETIK sentence",
    ),
    # validation
    (
        "checks-newline",
        at("spec.validation", {"checks": ["there are 2 pods named 'a'\nrm -rf /"]}),
        "spec.validation.checks[0]: ",
        "line break",
    ),
    (
        "checks-empty",
        at("spec.validation", {"checks": ["  "]}),
        "spec.validation.checks[0]: ",
        "must not be empty",
    ),
    (
        "checks-long",
        at("spec.validation", {"checks": ["x" * 1001]}),
        "spec.validation.checks[0]: ",
        "longer than 1000",
    ),
    (
        "checks-grammar",
        at("spec.validation", {"checks": ["there are 2 pods"]}),
        "spec.validation.checks[0]: ",
        "not a DETIK sentence: at the end",
    ),
    (
        "checks-type",
        at("spec.validation", {"checks": "there are 2 pods named 'a'"}),
        "spec.validation.checks: ",
        "write a list",
    ),
    (
        "bats-suffix",
        at("spec.validation", {"batsFiles": ["/t/x.sh"]}),
        "spec.validation.batsFiles[0]: ",
        "not a .bats file",
    ),
    (
        "retries-negative",
        at("spec.validation", {"retries": {"limit": -1}}),
        "spec.validation.retries.limit: ",
        "least allowed is 0",
    ),
    (
        "retries-huge",
        at("spec.validation", {"retries": {"limit": 101}}),
        "spec.validation.retries.limit: ",
        "most allowed is 100",
    ),
    (
        "interval-format",
        at("spec.validation", {"retries": {"interval": "5x"}}),
        "spec.validation.retries.interval: ",
        "not a duration",
    ),
    (
        "interval-order",
        at("spec.validation", {"retries": {"interval": "5s1m"}}),
        "spec.validation.retries.interval: ",
        "not a duration",
    ),
    (
        "interval-ms",
        at("spec.validation", {"retries": {"interval": "500ms"}}),
        "spec.validation.retries.interval: ",
        "not a duration",
    ),
    (
        "interval-zero",
        at("spec.validation", {"retries": {"interval": "0s"}}),
        "spec.validation.retries.interval: ",
        "allowed: 1s to 10m",
    ),
    (
        "interval-long",
        at("spec.validation", {"retries": {"interval": "11m"}}),
        "spec.validation.retries.interval: ",
        "allowed: 1s to 10m",
    ),
    (
        "interval-number",
        at("spec.validation", {"retries": {"interval": 5}}),
        "spec.validation.retries.interval: ",
        "is a number",
    ),
    (
        "validation-field",
        at("spec.validation", {"sentences": []}),
        "spec.validation.sentences: ",
        "allowed here: checks, batsFiles, retries",
    ),
    # preflight
    (
        "check-name",
        check(name="Mirror"),
        "spec.preflight.checks[0].name: ",
        "not a valid check name",
    ),
    (
        "check-no-command",
        check(command=[]),
        "spec.preflight.checks[0].command: ",
        "at least 1 entry",
    ),
    (
        "check-shell-string",
        check(command="curl -fsS x | grep ok"),
        "spec.preflight.checks[0].command: ",
        "write a list",
    ),
    (
        "check-program",
        check(command=["curl -fsS x"]),
        "spec.preflight.checks[0].command[0]: ",
        "one argument per element",
    ),
    (
        "check-nul",
        check(command=["echo", "a\x00b"]),
        "spec.preflight.checks[0].command[1]: ",
        "NUL",
    ),
    (
        "check-arg-type",
        check(command=["sleep", 5]),
        "spec.preflight.checks[0].command[1]: ",
        "is a number",
    ),
    ("check-timeout", check(timeout="2d"), "spec.preflight.checks[0].timeout: ", "not a duration"),
    (
        "check-timeout-long",
        check(timeout="2h"),
        "spec.preflight.checks[0].timeout: ",
        "allowed: 1s to 1h",
    ),
    (
        "check-retries",
        check(retries={"limit": 101}),
        "spec.preflight.checks[0].retries.limit: ",
        "most allowed is 100",
    ),
    (
        "check-twice",
        lambda: set_at(
            check()(),
            "spec.preflight.checks",
            [{"name": "a", "command": ["true"]}, {"name": "a", "command": ["false"]}],
        ),
        "spec.preflight.checks[1].name: ",
        "names must be unique",
    ),
    (
        "free-memory",
        at("spec.preflight", {"minFreeMemoryMiB": -5}),
        "spec.preflight.minFreeMemoryMiB: ",
        "least allowed is 0",
    ),
    (
        "free-disk",
        at("spec.preflight", {"minFreeDiskMiB": "lots"}),
        "spec.preflight.minFreeDiskMiB: ",
        "write a whole number",
    ),
    (
        "free-memory-case",
        at("spec.preflight", {"minFreeMemoryMib": 5}),
        "spec.preflight.minFreeMemoryMib: ",
        "allowed here: checks, minFreeMemoryMiB, minFreeDiskMiB",
    ),
]


def _two_groups() -> Doc:
    doc = base()
    doc["spec"]["nodeGroups"].append({"name": "general", "instanceType": "c5.large", "desired": 1})
    return doc


@pytest.mark.parametrize(
    ("make", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(make: Callable[[], Doc], path: str, fragment: str) -> None:
    message = problems_of(make())
    line = next((ln for ln in message.splitlines() if ln.startswith(f"spec.yaml: {path}")), None)
    assert line is not None, f"no line for {path!r} in:\n{message}"
    assert fragment in line, f"{fragment!r} not in {line!r}"


def test_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_base_documents_are_valid() -> None:
    # Every case starts from these; if they were invalid the cases would prove nothing.
    assert valid(base()).name == "dev"
    assert valid(aws_base()).spec.provider.type == "aws"


@pytest.mark.parametrize("doc", [None, [], "cluster", 42], ids=["null", "list", "string", "number"])
def test_a_spec_must_be_a_mapping(doc: Any) -> None:
    message = problems_of(doc)
    assert message.startswith("spec.yaml: is ")
    assert "a spec is a mapping with apiVersion, kind, metadata and spec" in message


def test_every_problem_is_listed_on_its_own_line() -> None:
    doc = base()
    doc["apiVersion"] = "v1"
    doc["metadata"]["name"] = "Bad_Name"
    doc["spec"]["nodeGroups"][0]["instanceType"] = "m9.huge"
    doc["spec"]["validation"] = {"retries": {"interval": "soon"}}
    lines = problems_of(doc).splitlines()
    assert [ln.split(": ", 2)[1] for ln in lines] == [
        "apiVersion",
        "metadata.name",
        "spec.nodeGroups[0].instanceType",
        "spec.validation.retries.interval",
    ]


def test_messages_carry_no_pydantic_boilerplate() -> None:
    doc = base()
    doc["extra"] = 1
    doc["spec"]["nodeGroups"][0].update(desired="x", taints=[{"key": "k", "effect": "Nope"}])
    doc["spec"]["provider"] = {"type": "aws"}
    message = problems_of(doc)
    for noise in (
        "errors.pydantic.dev",
        "For further information",
        "Input should",
        "Value error",
        "Traceback",
        "type=",
        "[type",
    ):
        assert noise not in message
    assert all(line.startswith("spec.yaml: ") for line in message.splitlines())


def test_hostile_input_cannot_forge_message_lines() -> None:
    doc = base()
    doc["metadata"]["name"] = "x\nspec.yaml: metadata.name: looks fine"
    message = problems_of(doc)
    assert len(message.splitlines()) == 1
    assert "\\n" in message


def test_cross_field_rules_still_run_when_another_section_is_broken() -> None:
    # The kwok version rule and duplicate node groups are checked although
    # metadata is broken: they only need provider and the groups themselves.
    doc = _two_groups()
    doc["metadata"]["name"] = "BAD"
    doc["spec"]["kubernetesVersion"] = "1.30"
    message = problems_of(doc)
    assert "metadata.name: " in message
    assert "spec.kubernetesVersion: " in message
    assert "spec.nodeGroups[1].name: " in message
