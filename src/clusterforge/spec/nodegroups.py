"""``spec.nodeGroups[]``: sets of identical worker nodes.

Each group has an instance type from :data:`~clusterforge.spec.instance_types.INSTANCE_TYPES`,
a size (``desired`` nodes, between ``min`` and ``max`` — the bounds the
cluster-autoscaler add-on works within), Kubernetes labels and taints, and the
zones its nodes are spread over.

clusterforge labels every node itself with its group, instance type and zone,
so those label keys (:data:`RESERVED_NODE_LABELS`, and anything under
``clusterforge.dev/``) are refused in a group's ``labels``: they are set from
``name``, ``instanceType`` and ``zones``. Limits that depend on the provider
(kwok: at most 100 nodes per group; aws: 450, and zones must be subnet zones)
are checked in :mod:`clusterforge.spec.consistency`.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from clusterforge.spec._base import (
    JsonSchemaHint,
    Loc,
    SpecModel,
    listing,
    problem,
    raise_problems,
    show,
)
from clusterforge.spec.instance_types import INSTANCE_TYPES
from clusterforge.spec.names import LabelKey, LabelValue, NodeGroupName

#: Label clusterforge puts on every node: the name of its node group.
NODE_GROUP_LABEL = "clusterforge.dev/nodegroup"
#: Node labels clusterforge sets from other fields; a group's ``labels`` may not set them.
RESERVED_NODE_LABELS: tuple[str, ...] = (
    NODE_GROUP_LABEL,
    "kubernetes.io/arch",
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
)
#: Default ``zones`` of a node group on kwok (on aws: every subnet's zone).
KWOK_DEFAULT_ZONES: tuple[str, ...] = ("zone-a",)
#: Largest ``max`` any provider accepts; providers have lower limits of their own.
MAX_NODES_PER_GROUP = 1000


def _check_instance_type(value: str) -> str:
    if value not in INSTANCE_TYPES:
        raise problem(
            f"{show(value)} is not a known instance type; "
            f"allowed: {listing(sorted(INSTANCE_TYPES))}"
        )
    return value


InstanceTypeName = Annotated[
    str,
    AfterValidator(_check_instance_type),
    JsonSchemaHint({"enum": sorted(INSTANCE_TYPES)}),
]


def _check_zone(value: str) -> str:
    if not value:
        raise problem("a zone name must not be empty")
    return value


ZoneName = Annotated[LabelValue, AfterValidator(_check_zone)]


def _no_default(schema: dict[str, Any]) -> None:
    # The static default of min/max is a placeholder; the real one is desired.
    schema.pop("default", None)


class Taint(SpecModel):
    """A Kubernetes taint put on every node of the group."""

    key: LabelKey = Field(description="Taint key, with the syntax of a label key.")
    value: LabelValue = Field("", description="Taint value, with the syntax of a label value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        description="What happens to pods that do not tolerate the taint."
    )


class NodeGroup(SpecModel):
    """A set of identical worker nodes."""

    name: NodeGroupName = Field(description="Unique name of the group within the cluster.")
    instance_type: InstanceTypeName = Field(
        description="Instance type of every node; sets the nodes' cpu, memory and pod capacity."
    )
    desired: int = Field(ge=0, le=MAX_NODES_PER_GROUP, description="Number of nodes to create.")
    min: int = Field(
        0,
        ge=0,
        le=MAX_NODES_PER_GROUP,
        description="Fewest nodes when autoscaling; default: desired.",
        json_schema_extra=_no_default,
    )
    max: int = Field(
        1,
        json_schema_extra=_no_default,
        ge=1,
        le=MAX_NODES_PER_GROUP,
        description="Most nodes when autoscaling (kwok: at most 100); default: desired, "
        "at least 1.",
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        max_length=64,
        description="Kubernetes labels for every node of the group.",
    )
    taints: list[Taint] = Field(
        default_factory=list, max_length=32, description="Taints for every node of the group."
    )
    zones: list[ZoneName] = Field(
        default_factory=lambda: list(KWOK_DEFAULT_ZONES),
        min_length=1,
        max_length=16,
        description="Zones the nodes are spread over, round-robin. Default: ['zone-a'] on kwok, "
        "every subnet's zone on aws.",
    )

    @model_validator(mode="before")
    @classmethod
    def _size_defaults(cls, data: Any) -> Any:
        # min and max default to desired. When desired is itself unusable its
        # own error fails the group, and the static defaults (never observed)
        # keep min and max from adding "missing" noise.
        if isinstance(data, dict):
            desired = data.get("desired")
            if type(desired) is int and desired >= 0:
                data = dict(data)
                data.setdefault("min", desired)
                data.setdefault("max", max(desired, 1))
        return data

    @field_validator("labels")
    @classmethod
    def _no_reserved_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        problems: list[tuple[Loc, str]] = []
        for key in labels:
            if key in RESERVED_NODE_LABELS or key.startswith("clusterforge.dev/"):
                problems.append(
                    (
                        (key,),
                        f"{key!r} is set by clusterforge from the group's name, instanceType and "
                        "zones; choose another key",
                    )
                )
        raise_problems("labels", problems)
        return labels

    @model_validator(mode="after")
    def _consistent(self) -> NodeGroup:
        problems: list[tuple[Loc, str]] = []
        if self.min > self.desired:
            problems.append((("min",), f"{self.min} is more than desired ({self.desired})"))
        if self.desired > self.max:
            problems.append((("max",), f"{self.max} is less than desired ({self.desired})"))
        seen: Counter[tuple[str, str]] = Counter()
        for index, taint in enumerate(self.taints):
            seen[(taint.key, taint.effect)] += 1
            if seen[(taint.key, taint.effect)] == 2:
                problems.append(
                    (
                        ("taints", index),
                        f"a taint with key {taint.key!r} and effect {taint.effect} is listed twice",
                    )
                )
        for index, zone in enumerate(self.zones):
            if zone in self.zones[:index]:
                problems.append((("zones", index), f"{zone!r} is listed twice"))
        raise_problems("NodeGroup", problems)
        return self
