"""EKS resources inside CloudFormation, for a moto server that does not have them.

moto's CloudFormation skips ``AWS::EKS::Cluster`` and ``AWS::EKS::Nodegroup``
(the stack still reaches CREATE_COMPLETE, and no cluster exists), although
moto's EKS API models clusters and node groups. These two resource handlers
close that gap *in the test's moto server only*: a stack's EKS resources
become clusters and node groups of moto's own EKS model, created, updated and
deleted with the stack — so ``DescribeCluster`` after a stack deploy answers
as it would on AWS. Nothing here provisions a control plane; an optional
:class:`DataPlane` (the simulation, tests/aws/simulation.py) can attach one.

Registered by importing this module (moto finds handlers among
``CloudFormationModel``'s subclasses; its lookup caches are cleared here).
"""

from __future__ import annotations

from typing import Any, Protocol

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.eks.models import eks_backends


class DataPlane(Protocol):
    """What stands behind an EKS cluster of the fake account (the simulation's kwok)."""

    def cluster_created(self, name: str, version: str) -> tuple[str, str]:
        """Start a data plane; returns (endpoint, base64 CA certificate)."""

    def cluster_deleted(self, name: str) -> None: ...

    def nodegroup_applied(self, cluster: str, properties: dict[str, Any]) -> None: ...

    def nodegroup_deleted(self, cluster: str, name: str) -> None: ...


DATA_PLANE: list[DataPlane] = []  # at most one; a list so tests can swap it


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        return {t["Key"]: t["Value"] for t in value}
    return dict(value or {})


class EksClusterResource(CloudFormationModel):
    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EKS::Cluster"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "Endpoint", "CertificateAuthorityData")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EksClusterResource:
        props = cloudformation_json["Properties"]
        name = props.get("Name", resource_name)
        backend = eks_backends[account_id][region_name]
        vpc = props["ResourcesVpcConfig"]
        cluster = backend.create_cluster(
            name=name,
            role_arn=props["RoleArn"],
            resources_vpc_config={
                "subnetIds": vpc.get("SubnetIds", []),
                "securityGroupIds": vpc.get("SecurityGroupIds", []),
                "endpointPublicAccess": vpc.get("EndpointPublicAccess", True),
                "endpointPrivateAccess": vpc.get("EndpointPrivateAccess", False),
            },
            version=props.get("Version"),
            logging=props.get("Logging"),
            tags=_tags(props.get("Tags")),
        )
        for plane in DATA_PLANE:
            endpoint, ca = plane.cluster_created(name, cluster.version)
            if endpoint:  # else the data plane fills them in once it answers
                cluster.endpoint = endpoint
                cluster.certificate_authority = {"data": ca}
        return cls(name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: EksClusterResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EksClusterResource:
        props = cloudformation_json["Properties"]
        cluster = eks_backends[account_id][region_name].clusters[original_resource.name]
        cluster.version = props.get("Version", cluster.version)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        name = cloudformation_json["Properties"].get("Name", resource_name)
        eks_backends[account_id][region_name].delete_cluster(name)
        for plane in DATA_PLANE:
            plane.cluster_deleted(name)

    def is_created(self) -> bool:
        return True


class EksNodegroupResource(CloudFormationModel):
    def __init__(self, cluster: str, name: str) -> None:
        self.cluster, self.name = cluster, name

    @property
    def physical_resource_id(self) -> str:
        return f"{self.cluster}/{self.name}"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "NodegroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EKS::Nodegroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "ClusterName", "NodegroupName")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EksNodegroupResource:
        props = cloudformation_json["Properties"]
        scaling = props.get("ScalingConfig", {})
        eks_backends[account_id][region_name].create_nodegroup(
            cluster_name=props["ClusterName"],
            node_role=props["NodeRole"],
            nodegroup_name=props["NodegroupName"],
            subnets=props["Subnets"],
            scaling_config={
                "minSize": scaling.get("MinSize"),
                "desiredSize": scaling.get("DesiredSize"),
                "maxSize": scaling.get("MaxSize"),
            },
            instance_types=props.get("InstanceTypes"),
            labels=props.get("Labels"),
            taints=[
                {"key": t["Key"], "value": t.get("Value", ""), "effect": t["Effect"]}
                for t in props.get("Taints", [])
            ],
            tags=_tags(props.get("Tags")),
        )
        for plane in DATA_PLANE:
            plane.nodegroup_applied(props["ClusterName"], props)
        return cls(props["ClusterName"], props["NodegroupName"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: EksNodegroupResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EksNodegroupResource:
        props = cloudformation_json["Properties"]
        backend = eks_backends[account_id][region_name]
        group = backend.clusters[original_resource.cluster].nodegroups[original_resource.name]
        scaling = props.get("ScalingConfig", {})
        group.scaling_config = {
            "minSize": scaling.get("MinSize"),
            "desiredSize": scaling.get("DesiredSize"),
            "maxSize": scaling.get("MaxSize"),
        }
        group.labels = props.get("Labels", {})
        for plane in DATA_PLANE:
            plane.nodegroup_applied(original_resource.cluster, props)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        props = cloudformation_json["Properties"]
        eks_backends[account_id][region_name].delete_nodegroup(
            cluster_name=props["ClusterName"], nodegroup_name=props["NodegroupName"]
        )
        for plane in DATA_PLANE:
            plane.nodegroup_deleted(props["ClusterName"], props["NodegroupName"])

    def is_created(self) -> bool:
        return True


for _cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cache.cache_clear()
