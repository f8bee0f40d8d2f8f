"""The aws branches of the stage steps: the spec mapped onto the aws provider.

The step commands are the same for both providers (``clusterforge step
control-plane`` …), so a build has the same stage tree on kwok and on aws;
for ``provider.type: aws`` they land here. This module turns the validated
spec into the provider's plain :class:`~clusterforge.providers.aws.EksCluster`
and calls the provider — the only place the pipeline reaches AWS.
"""

from __future__ import annotations

from clusterforge.providers import aws
from clusterforge.spec import ClusterSpec
from clusterforge.stages.eks import eks_cluster
from clusterforge.stages.steps.context import StepContext


def preflight(ctx: StepContext, check: str) -> str:
    return aws.run_check(eks_cluster(ctx.spec), check)


def control_plane(ctx: StepContext) -> str:
    done = aws.ensure_control_plane(eks_cluster(ctx.spec))
    return (
        f"control plane of {ctx.cluster}: stack {done.stack.stack} {done.stack.action} "
        f"({done.stack.status}), endpoint {done.endpoint}, kubeconfig {done.kubeconfig}"
    )


def node_group(ctx: StepContext, name: str) -> str:
    done = aws.apply_node_group(eks_cluster(ctx.spec), name)
    return f"node group {name}: stack {done.stack} {done.action} ({done.status})"


def destroy(ctx: StepContext) -> str:
    deleted = aws.destroy(eks_cluster(ctx.spec))
    if not deleted:
        return f"cluster {ctx.cluster}: no stacks left to delete"
    return f"cluster {ctx.cluster}: deleted stacks {', '.join(deleted)}"


def plan_lines(spec: ClusterSpec) -> list[str]:
    """The stacks and change sets the core stage would deploy (nothing is called)."""
    return aws.plan_lines(eks_cluster(spec))
