"""The CloudFormation templates of an EKS cluster, written here from plain values.

Two kinds of stack, as the platform teams we model run them: one **control
plane** stack (``AWS::EKS::Cluster``, its security group, the EKS service
role unless one is given, control-plane logging, endpoint access, tags) and
one stack **per node group** (``AWS::EKS::Nodegroup``: instance type, scaling
min/desired/max, labels, taints, subnets, update config, and the node role
unless one is given). Node-group stacks name the cluster literally rather
than importing an output, so the control-plane stack can be updated without
CloudFormation's export locks, and the order is enforced by the core stage
(node groups run after the control plane).

Bodies are rendered deterministically (sorted keys), so an unchanged spec
renders byte-identical templates — the first half of "a re-run changes
nothing". Every template passes ``cfn-lint`` (tests/aws/test_templates.py).
"""

from __future__ import annotations

import json
from typing import Any

from clusterforge.providers.aws._model import (
    NODEGROUP_LABEL,
    TAINT_EFFECTS,
    EksCluster,
    EksNodeGroup,
)

_VERSION = "2010-09-09"
_EKS_CLUSTER_POLICY = "AmazonEKSClusterPolicy"
_NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)


def _managed_policy(name: str) -> dict[str, Any]:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{name}"}


def _assume_role(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": [service]},
                "Action": ["sts:AssumeRole"],
            }
        ],
    }


def _tag_list(cluster: EksCluster) -> list[dict[str, str]]:
    tags = {"clusterforge.dev/cluster": cluster.name, **cluster.tags}
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def _role(
    resources: dict[str, Any],
    logical_id: str,
    cluster: EksCluster,
    given: str | None,
    service: str,
    policies: tuple[str, ...],
) -> Any:
    """The given role ARN, or a new role (added to ``resources``) trusting ``service``."""
    if given is not None:
        return given
    resources[logical_id] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _assume_role(f"{service}.amazonaws.com"),
            "ManagedPolicyArns": [_managed_policy(p) for p in policies],
            "Tags": _tag_list(cluster),
        },
    }
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def control_plane_template(cluster: EksCluster) -> dict[str, Any]:
    """The control-plane stack: security group, optional role, the EKS cluster."""
    resources: dict[str, Any] = {
        "ClusterSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": f"EKS control plane of {cluster.name} (clusterforge)",
                "VpcId": cluster.vpc_id,
                "Tags": _tag_list(cluster),
            },
        },
    }
    role = _role(
        resources, "ClusterRole", cluster, cluster.cluster_role_arn, "eks", (_EKS_CLUSTER_POLICY,)
    )
    vpc: dict[str, Any] = {
        "SubnetIds": cluster.subnet_ids(),
        "SecurityGroupIds": [{"Ref": "ClusterSecurityGroup"}],
        "EndpointPublicAccess": cluster.endpoint_public,
        "EndpointPrivateAccess": cluster.endpoint_private,
    }
    if cluster.endpoint_public and cluster.public_access_cidrs:
        vpc["PublicAccessCidrs"] = list(cluster.public_access_cidrs)
    properties: dict[str, Any] = {
        "Name": cluster.name,
        "Version": cluster.kubernetes_version,
        "RoleArn": role,
        "ResourcesVpcConfig": vpc,
        "Tags": _tag_list(cluster),
    }
    if cluster.logging:
        properties["Logging"] = {
            "ClusterLogging": {"EnabledTypes": [{"Type": kind} for kind in cluster.logging]}
        }
    resources["Cluster"] = {"Type": "AWS::EKS::Cluster", "Properties": properties}
    return {
        "AWSTemplateFormatVersion": _VERSION,
        "Description": f"clusterforge: EKS control plane of {cluster.name}",
        "Resources": resources,
        "Outputs": {
            "ClusterName": {"Value": cluster.name},
            "ClusterSecurityGroupId": {"Value": {"Ref": "ClusterSecurityGroup"}},
        },
    }


def node_group_template(cluster: EksCluster, group: EksNodeGroup) -> dict[str, Any]:
    """One node group's stack: the managed node group and (optionally) its node role."""
    resources: dict[str, Any] = {}
    role = _role(resources, "NodeRole", cluster, cluster.node_role_arn, "ec2", _NODE_POLICIES)
    properties: dict[str, Any] = {
        "ClusterName": cluster.name,
        "NodegroupName": group.name,
        "NodeRole": role,
        "Subnets": cluster.subnet_ids(group.zones),
        "InstanceTypes": [group.instance_type],
        "ScalingConfig": {
            "MinSize": group.min,
            "DesiredSize": group.desired,
            "MaxSize": group.max,
        },
        "Labels": {**dict(group.labels), NODEGROUP_LABEL: group.name},
        "UpdateConfig": {"MaxUnavailable": group.max_unavailable},
        "Tags": {t["Key"]: t["Value"] for t in _tag_list(cluster)},
    }
    if group.taints:
        properties["Taints"] = [
            {"Key": t.key, "Value": t.value, "Effect": TAINT_EFFECTS[t.effect]}
            if t.value
            else {"Key": t.key, "Effect": TAINT_EFFECTS[t.effect]}
            for t in group.taints
        ]
    resources["NodeGroup"] = {"Type": "AWS::EKS::Nodegroup", "Properties": properties}
    return {
        "AWSTemplateFormatVersion": _VERSION,
        "Description": f"clusterforge: node group {group.name} of {cluster.name}",
        "Resources": resources,
        "Outputs": {"NodegroupName": {"Value": group.name}},
    }


def render(template: dict[str, Any]) -> str:
    """The template body: JSON with sorted keys, so equal templates are equal text."""
    return json.dumps(template, indent=1, sort_keys=True) + "\n"
