"""A validated aws cluster spec as the aws provider's plain model.

Both the step commands (``stages/steps/aws.py``) and the front ends' facade
(``stages/clusters.py``, for ``plan``) need the same mapping, so it lives
beside them rather than in either: neither imports the other.
"""

from __future__ import annotations

from clusterforge.errors import InvalidInput
from clusterforge.providers import aws
from clusterforge.spec import AwsProvider, ClusterSpec, kubernetes_minor

__all__ = ["eks_cluster"]


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
