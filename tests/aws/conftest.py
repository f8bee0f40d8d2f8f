"""A moto server on loopback, seeded like a platform team's AWS account.

moto runs in server mode (a real HTTP endpoint, as an AWS region would be) on
127.0.0.1, and every boto3 client of the code under test — in this process
or in a step subprocess — reaches it through ``AWS_ENDPOINT_URL``. Each test
starts from a reset server and a fresh account: a VPC with three /24 subnets
in three zones and one /28, CloudFormation exports (from a real stack's
outputs), SSM parameters, and an EKS service role that trusts EKS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

REGION = "eu-west-1"
EXPORTS = ("network-VpcId", "network-PrivateSubnets")
SSM_PARAMETERS = ("/platform/eks/node-ami-id",)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Credentials and endpoint of the fake account, and a reset server."""
    import httpx

    httpx.post(f"{moto_endpoint}/moto-api/reset", timeout=300).raise_for_status()
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("CLUSTERFORGE_AWS_POLL_SECONDS", "0.05")
    return moto_endpoint


@dataclass
class Account:
    """What the seeded account holds, by name."""

    endpoint: str
    vpc_id: str
    subnets: dict[str, str] = field(default_factory=dict)  # zone → id (the /24s)
    small_subnet: str = ""  # a /28 in eu-west-1a
    other_vpc_subnet: str = ""
    cluster_role_arn: str = ""
    untrusting_role_arn: str = ""

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION)


def _role(iam: Any, name: str, service: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    arn: str = role["Role"]["Arn"]
    return arn


def _exports_stack(cfn: Any) -> None:
    outputs = {
        name.replace("-", ""): {"Value": f"value-of-{name}", "Export": {"Name": name}}
        for name in EXPORTS
    }
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": outputs,
    }
    cfn.create_stack(StackName="network", TemplateBody=json.dumps(template))


@pytest.fixture
def account(aws_env: str) -> Account:
    import boto3

    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    seeded = Account(endpoint=aws_env, vpc_id=vpc)
    for index, zone in enumerate(("a", "b", "c")):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=f"{REGION}{zone}"
        )
        seeded.subnets[f"{REGION}{zone}"] = subnet["Subnet"]["SubnetId"]
    seeded.small_subnet = ec2.create_subnet(
        VpcId=vpc, CidrBlock="10.0.100.0/28", AvailabilityZone=f"{REGION}a"
    )["Subnet"]["SubnetId"]
    other = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    seeded.other_vpc_subnet = ec2.create_subnet(
        VpcId=other, CidrBlock="10.1.0.0/24", AvailabilityZone=f"{REGION}b"
    )["Subnet"]["SubnetId"]
    _exports_stack(boto3.client("cloudformation", region_name=REGION))
    ssm = boto3.client("ssm", region_name=REGION)
    for name in SSM_PARAMETERS:
        ssm.put_parameter(Name=name, Value="ami-0123456789abcdef0", Type="String")
    iam = boto3.client("iam", region_name=REGION)
    seeded.cluster_role_arn = _role(iam, "eks-cluster", "eks.amazonaws.com")
    seeded.untrusting_role_arn = _role(iam, "ec2-only", "ec2.amazonaws.com")
    return seeded


def eks_cluster(account: Account, name: str = "payments", **changes: Any) -> Any:
    """The provider's request for a cluster in the seeded account."""
    from clusterforge.providers import aws

    groups = (
        aws.EksNodeGroup(
            "system",
            "m5.xlarge",
            min=3,
            desired=3,
            max=3,
            zones=(f"{REGION}a", f"{REGION}b", f"{REGION}c"),
            taints=(aws.Taint("dedicated", "system", "NoSchedule"),),
        ),
        aws.EksNodeGroup(
            "general", "c5.2xlarge", min=3, desired=6, max=20, zones=(f"{REGION}a", f"{REGION}b")
        ),
    )
    values: dict[str, Any] = {
        "name": name,
        "region": REGION,
        "vpc_id": account.vpc_id,
        "subnets": tuple(aws.Subnet(sid, zone) for zone, sid in account.subnets.items()),
        "kubernetes_version": "1.33",
        "node_groups": groups,
        "cluster_role_arn": account.cluster_role_arn,
        "min_free_ips": 100,
        "required_exports": EXPORTS,
        "required_ssm_parameters": SSM_PARAMETERS,
        "tags": {"team": "payments"},
    }
    values.update(changes)
    return aws.EksCluster(**values)
