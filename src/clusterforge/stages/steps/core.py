"""Stage 2 steps: the control plane, then each node group.

Both converge: a control plane that is already up is left as it is, a node
group that already has its nodes changes nothing — so running the stage twice
creates nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clusterforge.errors import OperationFailed
from clusterforge.spec import node_group
from clusterforge.stages.steps.context import StepContext

if TYPE_CHECKING:
    from clusterforge.stages.clusters import NodeGroup


def _provider_groups(ctx: StepContext, names: list[str] | None = None) -> list[NodeGroup]:
    from clusterforge.stages.clusters import NodeGroup, Taint

    groups = []
    for group in ctx.spec.spec.node_groups:
        if names is not None and group.name not in names:
            continue
        groups.append(
            NodeGroup(
                group.name,
                instance_type=group.instance_type,
                count=group.desired,
                labels=dict(group.labels),
                taints=tuple(Taint(t.key, t.value or "", t.effect) for t in group.taints),
                zones=tuple(group.zones),
            )
        )
    return groups


def control_plane(ctx: StepContext) -> str:
    """Start (or find running) the cluster's control plane."""
    if ctx.provider == "aws":
        from clusterforge.stages.steps import aws

        return aws.control_plane(ctx)
    if ctx.provider != "kwok":
        raise OperationFailed(f"provider {ctx.provider!r} is not available in this version")
    from clusterforge.stages.clusters import ensure_control_plane

    info = ensure_control_plane(ctx.cluster)
    return f"control plane of {ctx.cluster} ready at {info.endpoint}"


def node_group_step(ctx: StepContext, name: str) -> str:
    """Converge one node group to its desired nodes (labels, taints, capacity)."""
    group = node_group(ctx.spec, name)
    if ctx.provider == "aws":
        from clusterforge.stages.steps import aws

        return aws.node_group(ctx, group.name)
    from clusterforge.stages.clusters import apply_node_group

    nodes = apply_node_group(ctx.cluster, _provider_groups(ctx, [name])[0])
    return f"node group {group.name}: {len(nodes)} Ready node(s) of {group.instance_type}"


def destroy(ctx: StepContext) -> str:
    if ctx.provider == "aws":
        from clusterforge.stages.steps import aws

        return aws.destroy(ctx)
    from clusterforge.stages.clusters import delete

    delete(ctx.cluster, missing_ok=True)
    return f"cluster {ctx.cluster} deleted (or already gone)"
