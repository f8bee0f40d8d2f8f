"""Hypothesis strategies for valid cluster spec documents (as decoded YAML/JSON).

Kept next to the spec tests (``tests/strategies.py`` did not exist when these
were written); the name is unique so pytest's rootdir imports cannot collide.
Free-form places (Helm values, argv elements) draw from arbitrary text, hostile
strings included; constrained places (names, labels) draw from their grammar.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from clusterforge.spec import AWS_KUBERNETES_VERSIONS, CATALOG_ADDONS, INSTANCE_TYPES

HOSTILE = [
    "fluent bit; rm -rf /",
    "$(reboot)",
    "`reboot`",
    "a\nb",
    "'; DROP TABLE clusters; --",
    '" || true',
    "{{workflow.parameters.cluster-name}}",
    "${HOME}",
    "\\",
    "-rf",
    "",
]

dns_labels = st.from_regex(r"[a-z]([-a-z0-9]{0,14}[a-z0-9])?", fullmatch=True)
label_names = st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?", fullmatch=True)
label_keys = st.one_of(
    label_names,
    st.builds(lambda p, n: f"{p}.example/{n}", dns_labels, label_names),
)
label_values = st.one_of(st.just(""), label_names)
semvers = st.builds(
    lambda v, a, b, c: f"{v}{a}.{b}.{c}",
    st.sampled_from(["", "v"]),
    st.integers(0, 20),
    st.integers(0, 40),
    st.integers(0, 200),
)
free_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        free_text,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(free_text, inner, max_size=3)
    ),
    max_leaves=8,
)
SENTENCES = [
    "there are 2 pods named 'metrics-server'",
    "there is 1 deployment named 'coredns'",
    "there are more than 1 pods named 'fluent bit; rm -rf /'",
    "'status' is 'running' for pods named '$(reboot)'",
    "at most 5 times every 30s to find 2 pods named 'web' with 'status' being 'running'",
    "at most 3 times every 2s to get pods named 'x' and verify that 'status' is 'running'",
]
sentences = st.sampled_from(SENTENCES)
argv_elements = st.one_of(
    st.sampled_from(HOSTILE), st.text(max_size=20).filter(lambda s: "\x00" not in s)
)
durations = st.builds(lambda n, u: f"{n}{u}", st.integers(1, 9), st.sampled_from(["s", "m"]))


@st.composite
def taints(draw: st.DrawFn) -> list[dict[str, str]]:
    keys = draw(st.lists(label_keys, max_size=3, unique=True))
    effect = st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"])
    return [{"key": k, "value": draw(label_values), "effect": draw(effect)} for k in keys]


@st.composite
def node_groups(draw: st.DrawFn, zones: list[str] | None) -> list[dict[str, Any]]:
    names = draw(st.lists(dns_labels, min_size=1, max_size=4, unique=True))
    groups = []
    for name in names:
        desired = draw(st.integers(0, 20))
        group: dict[str, Any] = {
            "name": name,
            "instanceType": draw(st.sampled_from(sorted(INSTANCE_TYPES))),
            "desired": desired,
        }
        if draw(st.booleans()):
            group["min"] = draw(st.integers(0, desired))
        if draw(st.booleans()):
            group["max"] = draw(st.integers(max(desired, 1), 100))
        labels = draw(st.dictionaries(label_keys, label_values, max_size=3))
        if labels:
            group["labels"] = labels
        group_taints = draw(taints())
        if group_taints:
            group["taints"] = group_taints
        if zones is not None:
            group["zones"] = draw(st.lists(st.sampled_from(zones), min_size=1, unique=True))
        elif draw(st.booleans()):
            group["zones"] = draw(st.lists(label_names, min_size=1, max_size=3, unique=True))
        groups.append(group)
    return groups


@st.composite
def providers(draw: st.DrawFn) -> tuple[dict[str, Any], str, list[str] | None]:
    """(provider section, kubernetesVersion, zones node groups may use — None for kwok)."""
    if draw(st.booleans()):
        provider: dict[str, Any] = {"type": "kwok"}
        if draw(st.booleans()):
            provider["apiServerPort"] = draw(st.integers(1024, 65535))
        return provider, draw(st.sampled_from(["1.34", "v1.34", "1.34.4", "v1.34.4"])), None
    region = draw(st.sampled_from(["eu-west-1", "us-east-2", "ap-southeast-1"]))
    letters = draw(st.lists(st.sampled_from("abcdef"), min_size=2, max_size=4, unique=True))
    subnets = [
        {"id": f"subnet-{index:08x}", "zone": f"{region}{letter}"}
        for index, letter in enumerate(letters)
    ]
    provider = {
        "type": "aws",
        "region": region,
        "vpcId": "vpc-0123abcd",
        "subnets": subnets,
        "minFreeIpsPerSubnet": draw(st.integers(0, 1000)),
        "requiredExports": draw(
            st.lists(st.from_regex(r"[A-Za-z0-9:-]{1,20}", fullmatch=True), max_size=2)
        ),
        "tags": draw(
            st.dictionaries(
                st.from_regex(r"[A-Za-z0-9_.:/=+@-]{1,20}", fullmatch=True).filter(
                    lambda k: not k.lower().startswith("aws:")
                ),
                st.from_regex(r"[A-Za-z0-9 _.:/=+@-]{0,20}", fullmatch=True),
                max_size=3,
            )
        ),
    }
    version = draw(st.sampled_from(AWS_KUBERNETES_VERSIONS))
    return provider, version, [s["zone"] for s in subnets]


@st.composite
def addon_maps(draw: st.DrawFn) -> dict[str, Any]:
    addons: dict[str, Any] = {}
    for name in CATALOG_ADDONS:
        choice = draw(st.sampled_from(["absent", "none", "default", "version", "object"]))
        if choice == "absent":
            continue
        if choice == "version":
            addons[name] = draw(semvers)
        elif choice == "object":
            settings: dict[str, Any] = {}
            if draw(st.booleans()):
                settings["version"] = draw(semvers)
            if draw(st.booleans()):
                settings["values"] = draw(st.dictionaries(free_text, json_values, max_size=3))
            if draw(st.booleans()):
                settings["registry"] = "mirror.internal:5000/k8s"
            if draw(st.booleans()):
                settings["checks"] = draw(st.lists(sentences, max_size=2))
            addons[name] = settings
        else:
            addons[name] = choice
    enabled = [n for n, v in addons.items() if v != "none"]
    for name in draw(
        st.lists(dns_labels.filter(lambda n: n not in CATALOG_ADDONS), max_size=3, unique=True)
    ):
        if draw(st.integers(0, 4)) == 0:
            addons[name] = "none"
            continue
        kind = draw(st.sampled_from(["path", "repo", "oci", "kustomize", "manifests"]))
        entry: dict[str, Any]
        if kind == "path":
            entry = {"chart": {"path": f"/charts/{name}"}}
        elif kind == "repo":
            entry = {
                "chart": {
                    "repo": "https://charts.example.org/stable",
                    "name": name,
                    "version": draw(semvers),
                }
            }
        elif kind == "oci":
            entry = {
                "chart": {
                    "oci": f"oci://registry.example.org/charts/{name}",
                    "version": draw(semvers),
                }
            }
        elif kind == "kustomize":
            entry = {"kustomize": {"path": f"/srv/{name}"}}
        else:
            entry = {"manifests": {"paths": [f"/srv/{name}/a.yaml", f"/srv/{name}/b.yaml"]}}
        if kind in ("path", "repo", "oci") and draw(st.booleans()):
            entry["values"] = draw(st.dictionaries(free_text, json_values, max_size=3))
        if draw(st.booleans()):
            entry["namespace"] = draw(dns_labels)
        if enabled and draw(st.booleans()):
            entry["dependsOn"] = draw(st.lists(st.sampled_from(enabled), max_size=2, unique=True))
        if draw(st.booleans()):
            entry["checks"] = draw(st.lists(sentences, max_size=2))
        addons[name] = entry
        enabled.append(name)
    return addons


@st.composite
def spec_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid cluster spec document."""
    provider, version, zones = draw(providers())
    doc: dict[str, Any] = {
        "apiVersion": "clusterforge.dev/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": draw(dns_labels)},
        "spec": {
            "provider": provider,
            "kubernetesVersion": version,
            "nodeGroups": draw(node_groups(zones)),
            "addons": draw(addon_maps()),
        },
    }
    labels = draw(st.dictionaries(label_keys, label_values, max_size=3))
    if labels:
        doc["metadata"]["labels"] = labels
    if draw(st.booleans()):
        doc["spec"]["validation"] = {
            "checks": draw(st.lists(sentences, max_size=3)),
            "batsFiles": draw(
                st.lists(st.sampled_from(["/t/smoke.bats", "/t/ha.bats"]), max_size=2)
            ),
            "retries": {"limit": draw(st.integers(0, 100)), "interval": draw(durations)},
        }
    if draw(st.booleans()):
        names = draw(st.lists(dns_labels, max_size=3, unique=True))
        doc["spec"]["preflight"] = {
            "checks": [
                {
                    "name": name,
                    "command": ["probe", *draw(st.lists(argv_elements, max_size=4))],
                    "retries": {"limit": draw(st.integers(0, 5)), "interval": draw(durations)},
                }
                for name in names
            ],
            "minFreeMemoryMiB": draw(st.integers(0, 1 << 20)),
            "minFreeDiskMiB": draw(st.integers(0, 1 << 20)),
        }
    return doc
