"""Where a cluster is built: ``spec.provider``, a union on ``type``.

``kwok`` (the embedded default) builds a real control plane with simulated
nodes on this machine and needs almost nothing. ``aws`` builds EKS through
CloudFormation; its fields are what the aws preflight stage checks before
anything is created: the region and VPC, the subnets the nodes use (and how
many free IP addresses each must still have), the CloudFormation exports and
SSM parameters the stacks import, an optional role to assume, and tags for
every resource.

Every AWS identifier is checked against AWS's own format, so that a region or
tag value can be handed to the aws CLI or boto3 as data and nothing else.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from clusterforge.spec._base import (
    JsonSchemaHint,
    Loc,
    SpecModel,
    listing,
    problem,
    raise_problems,
    regex_check,
    show,
)

#: Regions where EKS is offered (commercial, GovCloud and China partitions), as
#: of this table; a region outside it is a spec error naming the allowed ones.
EKS_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
)
#: Control-plane log types EKS can send to CloudWatch.
EKS_LOG_TYPES: tuple[str, ...] = (
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
)


def _aws_id(kind: str, pattern: str, example: str, max_length: int = 256) -> AfterValidator:
    return AfterValidator(
        regex_check(
            pattern,
            lambda value: f"{show(value)} is not {kind}; expected something like {example!r}",
            max_length=max_length,
        )
    )


_REGION = r"[a-z]{2}(-[a-z]+)+-[0-9]+"
_ZONE = r"[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]"
_VPC = r"vpc-[0-9a-f]{8}([0-9a-f]{9})?"
_SUBNET = r"subnet-[0-9a-f]{8}([0-9a-f]{9})?"
_EXPORT = r"[A-Za-z0-9:._-]{1,255}"
_SSM = r"[A-Za-z0-9_./-]{1,1011}"
_ROLE_ARN = r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}"
_TAG_CHARS = r"[A-Za-z0-9 _.:/=+@-]"


def _check_eks_region(value: str) -> str:
    if value not in EKS_REGIONS:
        raise problem(f"{show(value)} is not a region EKS offers; allowed: {listing(EKS_REGIONS)}")
    return value


def _check_ipv4(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise problem(f"{show(value)} is not an IPv4 address, e.g. '10.0.0.2'") from None
    return value


def _check_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise problem(f"{show(value)} is not an IPv4 CIDR block, e.g. '203.0.113.0/24'") from None
    return value


Region = Annotated[
    str,
    _aws_id("an AWS region", _REGION, "eu-west-1"),
    AfterValidator(_check_eks_region),
    JsonSchemaHint({"enum": list(EKS_REGIONS)}),
]
EksLogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
Ipv4 = Annotated[str, AfterValidator(_check_ipv4), JsonSchemaHint({"format": "ipv4"})]
Cidr = Annotated[str, AfterValidator(_check_cidr), JsonSchemaHint({"examples": ["203.0.113.0/24"]})]
Zone = Annotated[
    str,
    _aws_id("an availability zone", _ZONE, "eu-west-1a"),
    JsonSchemaHint({"pattern": f"^{_ZONE}$"}),
]
VpcId = Annotated[
    str, _aws_id("a VPC id", _VPC, "vpc-0a1b2c3d"), JsonSchemaHint({"pattern": f"^{_VPC}$"})
]
SubnetId = Annotated[
    str,
    _aws_id("a subnet id", _SUBNET, "subnet-0a1b2c3d"),
    JsonSchemaHint({"pattern": f"^{_SUBNET}$"}),
]
ExportName = Annotated[
    str,
    _aws_id("a CloudFormation export name", _EXPORT, "network-VpcId"),
    JsonSchemaHint({"pattern": f"^{_EXPORT}$", "description": "A CloudFormation export name."}),
]
SsmParameterName = Annotated[
    str,
    _aws_id("an SSM parameter name", _SSM, "/platform/eks/ami-id", max_length=1011),
    JsonSchemaHint({"pattern": f"^{_SSM}$", "description": "An SSM parameter name."}),
]
RoleArn = Annotated[
    str,
    _aws_id("an IAM role ARN", _ROLE_ARN, "arn:aws:iam::123456789012:role/cluster-builder", 2048),
    JsonSchemaHint({"pattern": f"^{_ROLE_ARN}$"}),
]


def _check_tag_key(key: str) -> str:
    if not 1 <= len(key) <= 128 or not all(_tag_char(ch) for ch in key):
        raise problem(
            f"{show(key)} is not an AWS tag key: use 1-128 letters, digits, spaces "
            "and _ . : / = + - @"
        )
    if key.lower().startswith("aws:"):
        raise problem(f"{show(key)}: tag keys starting with 'aws:' are reserved by AWS")
    return key


def _check_tag_value(value: str) -> str:
    if len(value) > 256 or not all(_tag_char(ch) for ch in value):
        raise problem(
            f"{show(value)} is not an AWS tag value: use at most 256 letters, digits, spaces "
            "and _ . : / = + - @"
        )
    return value


def _tag_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in " _.:/=+-@")


TagKey = Annotated[
    str,
    AfterValidator(_check_tag_key),
    JsonSchemaHint({"pattern": f"^{_TAG_CHARS}{{1,128}}$", "description": "An AWS tag key."}),
]
TagValue = Annotated[
    str,
    AfterValidator(_check_tag_value),
    JsonSchemaHint({"pattern": f"^{_TAG_CHARS}{{0,256}}$", "description": "An AWS tag value."}),
]


class KwokProvider(SpecModel):
    """A local cluster: a real control plane with simulated (kwok) nodes on this machine."""

    type: Literal["kwok"] = Field(description="The provider: 'kwok'.")
    api_server_port: int | None = Field(
        None,
        ge=1024,
        le=65535,
        description="Loopback port for the kube-apiserver (1024-65535); a free port when unset.",
    )


class Subnet(SpecModel):
    """A subnet the cluster's nodes are placed in."""

    id: SubnetId = Field(description="The subnet id, e.g. 'subnet-0a1b2c3d'.")
    zone: Zone = Field(description="The subnet's availability zone, e.g. 'eu-west-1a'.")


class AwsProvider(SpecModel):
    """An EKS cluster built through CloudFormation in an existing VPC."""

    type: Literal["aws"] = Field(description="The provider: 'aws'.")
    region: Region = Field(description="The AWS region, e.g. 'eu-west-1'.")
    vpc_id: VpcId = Field(description="The VPC the cluster is built in, e.g. 'vpc-0a1b2c3d'.")
    subnets: list[Subnet] = Field(
        min_length=1,
        max_length=16,
        description="Subnets for the control plane and nodes; EKS needs two zones at least.",
    )
    min_free_ips_per_subnet: int = Field(
        100,
        ge=0,
        le=65536,
        description="Preflight: every subnet must have more than this many free IP addresses.",
    )
    required_exports: list[ExportName] = Field(
        default_factory=list,
        max_length=100,
        description="Preflight: CloudFormation export names that must exist in the region.",
    )
    required_ssm_parameters: list[SsmParameterName] = Field(
        default_factory=list,
        max_length=100,
        description="Preflight: SSM parameter names that must exist in the region.",
    )
    role_arn: RoleArn | None = Field(
        None, description="An IAM role to assume for every AWS call; the caller's own when unset."
    )
    cluster_role_arn: RoleArn | None = Field(
        None,
        description="The EKS service role (must trust eks.amazonaws.com); the control plane "
        "stack creates one when unset.",
    )
    node_role_arn: RoleArn | None = Field(
        None,
        description="The nodes' instance role; each node group stack creates one when unset.",
    )
    endpoint_public_access: bool = Field(
        True, description="Whether the API server endpoint is reachable from the internet."
    )
    endpoint_private_access: bool = Field(
        True, description="Whether the API server endpoint is reachable from inside the VPC."
    )
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        max_length=40,
        description="CIDR blocks allowed to reach the public endpoint (all when empty).",
    )
    control_plane_logging: list[EksLogType] = Field(
        default_factory=list,
        max_length=5,
        description="Control-plane log types sent to CloudWatch: api, audit, authenticator, "
        "controllerManager, scheduler.",
    )
    dns_resolvers: list[Ipv4] = Field(
        default_factory=list,
        max_length=4,
        description="Preflight: resolvers the VPC's DHCP options may name instead of "
        "AmazonProvidedDNS.",
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Tags for every stack and resource the build creates.",
    )

    @model_validator(mode="after")
    def _subnets_fit_the_region(self) -> AwsProvider:
        problems: list[tuple[Loc, str]] = []
        counts = Counter(subnet.id for subnet in self.subnets)
        for index, subnet in enumerate(self.subnets):
            if counts[subnet.id] > 1:
                problems.append((("subnets", index, "id"), f"{subnet.id!r} is listed twice"))
            if subnet.zone[:-1] != self.region:
                problems.append(
                    (
                        ("subnets", index, "zone"),
                        f"{subnet.zone!r} is not in region {self.region!r}; "
                        f"zones there look like '{self.region}a'",
                    )
                )
        if not (self.endpoint_public_access or self.endpoint_private_access):
            problems.append(
                (
                    ("endpointPrivateAccess",),
                    "the API server needs an endpoint: enable public or private access",
                )
            )
        if len({subnet.zone for subnet in self.subnets}) < 2:
            problems.append((("subnets",), "EKS needs subnets in at least two availability zones"))
        raise_problems("AwsProvider", problems)
        return self


Provider = Annotated[KwokProvider | AwsProvider, Field(discriminator="type")]

#: The provider types, as written in ``spec.provider.type``.
PROVIDER_TYPES: tuple[str, ...] = ("aws", "kwok")
