"""The aws branches of the stage steps: the spec mapped onto the aws provider.

The step commands are the same for both providers (``clusterforge step
control-plane`` …), so a build has the same stage tree on kwok and on aws;
for ``provider.type: aws`` they land here. This module turns the validated
spec into the provider's plain :class:`~clusterforge.providers.aws.EksCluster`
and calls the provider — the only place the pipeline reaches AWS.
"""

from __future__ import annotations

from clusterforge.errors import InvalidInput
from clusterforge.providers import aws
from clusterforge.spec import AwsProvider, ClusterSpec, kubernetes_minor
from clusterforge.stages.steps.context import StepContext


def eks_cluster(spec: ClusterSpec) -> aws.EksCluster:
    """The provider's view of an aws spec."""
    provider = spec.spec.provider
    if not isinstance(provider, AwsProvider):
        raise InvalidInput(f"cluster {spec.name} uses provider {provider.type}, not aws")
    groups = tuple(
        aws.EksNodeGroup(
            name=group.name,
            instance_type=group.instance_type,
            min=group.min,
            desired=group.desired,
            max=group.max,
            zones=tuple(group.zones),
            labels=dict(group.labels),
            taints=tuple(aws.Taint(t.key, t.value or "", t.effect) for t in group.taints),
        )
        for group in spec.spec.node_groups
    )
    return aws.EksCluster(
        name=spec.name,
        region=provider.region,
        vpc_id=provider.vpc_id,
        subnets=tuple(aws.Subnet(s.id, s.zone) for s in provider.subnets),
        kubernetes_version=kubernetes_minor(spec.spec.kubernetes_version),
        node_groups=groups,
        role_arn=provider.role_arn,
        cluster_role_arn=provider.cluster_role_arn,
        node_role_arn=provider.node_role_arn,
        endpoint_public=provider.endpoint_public_access,
        endpoint_private=provider.endpoint_private_access,
        public_access_cidrs=tuple(provider.public_access_cidrs),
        logging=tuple(provider.control_plane_logging),
        tags=dict(provider.tags),
        min_free_ips=provider.min_free_ips_per_subnet,
        required_exports=tuple(provider.required_exports),
        required_ssm_parameters=tuple(provider.required_ssm_parameters),
        dns_resolvers=tuple(provider.dns_resolvers),
    )


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
