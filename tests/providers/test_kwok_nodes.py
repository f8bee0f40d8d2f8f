"""Node groups rendered as fake Nodes, and the names and values they accept."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from clusterforge.errors import InvalidInput
from clusterforge.providers.kwok import (
    INSTANCE_TYPES,
    NODEGROUP_LABEL,
    NodeGroup,
    Taint,
    instance_type,
    render_nodes,
    validate_cluster_name,
)

_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
_groups = st.lists(
    st.builds(
        NodeGroup,
        name=_label,
        instance_type=st.sampled_from(sorted(INSTANCE_TYPES)),
        count=st.integers(0, 6),
        labels=st.dictionaries(st.sampled_from(["team", "example.com/tier", "app"]), _label),
        taints=st.lists(
            st.builds(
                Taint, key=_label, value=_label, effect=st.sampled_from(["NoSchedule", "NoExecute"])
            ),
            max_size=2,
        ).map(tuple),
        zones=st.lists(_label, min_size=1, max_size=3).map(tuple),
    ),
    max_size=4,
    unique_by=lambda group: group.name,
)


def _quantity(value: str) -> float:
    number = re.fullmatch(r"(\d+)(m|Mi|Gi)?", value)
    assert number is not None, value
    scale = {"m": 0.001, "Mi": 2**20, "Gi": 2**30, None: 1}[number.group(2)]
    return int(number.group(1)) * scale


def test_two_groups_become_five_annotated_nodes() -> None:
    nodes = render_nodes(
        [
            NodeGroup("workers", "m5.large", 3, labels={"team": "web"}),
            NodeGroup(
                "gpu",
                "r5.xlarge",
                2,
                taints=(Taint("dedicated", "gpu", "NoSchedule"),),
                zones=("local-1c",),
            ),
        ]
    )

    assert [n["metadata"]["name"] for n in nodes] == [
        "workers-0",
        "workers-1",
        "workers-2",
        "gpu-0",
        "gpu-1",
    ]
    for node in nodes:
        assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
    workers = nodes[0]["metadata"]["labels"]
    assert workers[NODEGROUP_LABEL] == "workers"
    assert workers["node.kubernetes.io/instance-type"] == "m5.large"
    assert workers["team"] == "web"
    assert [n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes[:3]] == [
        "local-1a",
        "local-1b",
        "local-1c",
    ]
    gpu = nodes[3]
    assert gpu["spec"]["taints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    assert gpu["status"]["capacity"]["cpu"] == "4"
    assert gpu["status"]["capacity"]["memory"] == "32Gi"
    assert gpu["status"]["capacity"]["pods"] == "58"
    assert nodes[0]["status"]["allocatable"]["cpu"] == "1930m"


@given(_groups)
def test_rendering_is_a_pure_function_of_the_groups(groups: list[NodeGroup]) -> None:
    nodes = render_nodes(groups)
    assert nodes == render_nodes(groups)
    assert len(nodes) == sum(group.count for group in groups)
    names = [node["metadata"]["name"] for node in nodes]
    assert len(set(names)) == len(names)
    by_group = {group.name: group for group in groups}
    for node in nodes:
        labels = node["metadata"]["labels"]
        group = by_group[labels[NODEGROUP_LABEL]]
        assert labels["node.kubernetes.io/instance-type"] == group.instance_type
        assert labels["topology.kubernetes.io/zone"] in group.zones
        assert all(labels[key] == value for key, value in group.labels.items())
        assert len(node["spec"]["taints"]) == len(group.taints)


@pytest.mark.parametrize("name", sorted(INSTANCE_TYPES))
def test_allocatable_is_capacity_minus_a_reservation(name: str) -> None:
    kind = instance_type(name)
    capacity, allocatable = kind.capacity(), kind.allocatable()
    for resource in ("cpu", "memory"):
        assert 0 < _quantity(allocatable[resource]) < _quantity(capacity[resource])
    assert allocatable["pods"] == capacity["pods"]


@given(st.text(max_size=60))
@example("dev-1\n")
@example("a" * 41)
def test_cluster_names_are_dns_labels(name: str) -> None:
    valid = re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) is not None and len(name) <= 40
    if valid:
        assert validate_cluster_name(name) == name
    else:
        with pytest.raises(InvalidInput, match="DNS-1123"):
            validate_cluster_name(name)


def test_bad_node_groups_fail_with_the_field_named() -> None:
    with pytest.raises(InvalidInput, match=r"unknown instance type 'm9\.huge'"):
        NodeGroup("workers", "m9.huge")
    with pytest.raises(InvalidInput, match="effect 'Sometimes'"):
        Taint("dedicated", "gpu", "Sometimes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="count must be 0 or more"):
        NodeGroup("workers", count=-1)
    with pytest.raises(InvalidInput, match="set by clusterforge"):
        render_nodes([NodeGroup("workers", labels={"topology.kubernetes.io/zone": "x"})])
    with pytest.raises(InvalidInput, match="defined twice"):
        render_nodes([NodeGroup("workers"), NodeGroup("workers")])
