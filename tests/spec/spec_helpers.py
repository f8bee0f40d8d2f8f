"""Shared helpers for the spec tests: a valid base document and a way to break it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from clusterforge.spec import ClusterSpec, SpecError, parse_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def base() -> dict[str, Any]:
    """A small valid kwok spec (as a fresh, mutable document)."""
    return copy.deepcopy(
        {
            "apiVersion": "clusterforge.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "dev"},
            "spec": {
                "provider": {"type": "kwok"},
                "kubernetesVersion": "1.34",
                "nodeGroups": [{"name": "general", "instanceType": "m5.large", "desired": 2}],
                "addons": {"coredns": "default", "metrics-server": "default"},
            },
        }
    )


def aws_base() -> dict[str, Any]:
    """A small valid aws spec."""
    doc = base()
    doc["spec"]["provider"] = {
        "type": "aws",
        "region": "eu-west-1",
        "vpcId": "vpc-0a1b2c3d",
        "subnets": [
            {"id": "subnet-0a1b2c3d", "zone": "eu-west-1a"},
            {"id": "subnet-0a1b2c3e", "zone": "eu-west-1b"},
        ],
    }
    doc["spec"]["kubernetesVersion"] = "1.33"
    return doc


def set_at(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set ``value`` at a dotted path (``spec.nodeGroups.0.name``); ``...`` deletes the key."""
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is ...:
        del node[last]
    else:
        node[last] = value
    return doc


def problems_of(doc: Any, source: str = "spec.yaml") -> str:
    """The SpecError message for ``doc``; fails the test if it validates."""
    with pytest.raises(SpecError) as caught:
        parse_spec(doc, source=source)
    return str(caught.value)


def valid(doc: dict[str, Any]) -> ClusterSpec:
    return parse_spec(doc, source="spec.yaml")
