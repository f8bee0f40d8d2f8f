"""Rules that tie one part of the spec to another, mostly to the provider.

Field validators check each value on its own; these functions check what only
makes sense together — a Kubernetes version the provider can build, node group
sizes the provider accepts, zones that exist. They return ``(location,
message)`` pairs, locations relative to ``spec``, so that every inconsistency
is reported at the field to change.
"""

from __future__ import annotations

from collections.abc import Sequence

from clusterforge.spec._base import Loc, listing
from clusterforge.spec.nodegroups import NodeGroup
from clusterforge.spec.provider import AwsProvider, KwokProvider
from clusterforge.spec.versions import (
    AWS_KUBERNETES_VERSIONS,
    KWOK_KUBERNETES_VERSION,
    kubernetes_minor,
    kubernetes_patch,
)

#: Largest node group each provider accepts (kwok: a laptop; EKS: its managed node group limit).
MAX_GROUP_SIZE = {"kwok": 100, "aws": 450}


def version_problems(provider: KwokProvider | AwsProvider, version: str) -> list[tuple[Loc, str]]:
    """Whether ``provider`` can build Kubernetes ``version``."""
    loc: Loc = ("kubernetesVersion",)
    minor, patch = kubernetes_minor(version), kubernetes_patch(version)
    if provider.type == "kwok":
        pinned_minor = kubernetes_minor(KWOK_KUBERNETES_VERSION)
        if minor != pinned_minor or patch not in (None, KWOK_KUBERNETES_VERSION):
            return [
                (
                    loc,
                    f"{version!r} is not available with the kwok provider, which runs the pinned "
                    f"Kubernetes {KWOK_KUBERNETES_VERSION} toolchain; allowed: {pinned_minor}, "
                    f"{KWOK_KUBERNETES_VERSION}, v{KWOK_KUBERNETES_VERSION}",
                )
            ]
        return []
    if patch is not None:
        return [(loc, f"{version!r}: EKS chooses the patch release; write {minor!r}")]
    if minor not in AWS_KUBERNETES_VERSIONS:
        return [
            (
                loc,
                f"{version!r} is not a Kubernetes version EKS offers; allowed: "
                f"{listing(AWS_KUBERNETES_VERSIONS)}",
            )
        ]
    return []


def node_group_problems(
    provider: KwokProvider | AwsProvider | None, groups: Sequence[NodeGroup]
) -> list[tuple[Loc, str]]:
    """Duplicate names, and sizes and zones the provider cannot honour."""
    problems: list[tuple[Loc, str]] = []
    first: dict[str, int] = {}
    for index, group in enumerate(groups):
        if group.name in first:
            problems.append(
                (
                    ("nodeGroups", index, "name"),
                    f"{group.name!r} is already the name of spec.nodeGroups[{first[group.name]}]; "
                    "node group names must be unique",
                )
            )
        first.setdefault(group.name, index)
    if provider is None:
        return problems
    limit = MAX_GROUP_SIZE[provider.type]
    for index, group in enumerate(groups):
        if group.max > limit:
            problems.append(
                (
                    ("nodeGroups", index, "max"),
                    f"{group.max} nodes is more than the {provider.type} provider allows in one "
                    f"group; at most {limit}",
                )
            )
    if isinstance(provider, AwsProvider):
        zones = sorted({subnet.zone for subnet in provider.subnets})
        for index, group in enumerate(groups):
            for z, zone in enumerate(group.zones):
                if zone not in zones:
                    problems.append(
                        (
                            ("nodeGroups", index, "zones", z),
                            f"{zone!r} has no subnet in spec.provider.subnets; allowed: "
                            f"{listing(zones)}",
                        )
                    )
    return problems
