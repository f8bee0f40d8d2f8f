"""Preflight: is this AWS account fit to build the requested EKS cluster?

Each check is a function of the account (:class:`~clusterforge.providers.aws._session.Aws`)
and the request (:class:`EksCluster`) that returns what it measured, or raises
:class:`~clusterforge.errors.OperationFailed` naming exactly what is wrong and
how to fix it. The preflight template runs each as its own task, in parallel,
retried — so the checks share nothing and each makes its own few calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from clusterforge.errors import OperationFailed
from clusterforge.providers.aws._errors import aws_call, error_code
from clusterforge.providers.aws._model import (
    EksCluster,
    control_plane_stack,
    node_group_stack_prefix,
)
from clusterforge.providers.aws._session import Aws
from clusterforge.providers.aws._stacks import BLOCKING_STATES, REVIEW, stack_status

AMAZON_DNS = "AmazonProvidedDNS"


def _subnets(aws: Aws, cluster: EksCluster) -> list[dict[str, Any]]:
    ids = cluster.subnet_ids()
    with aws_call(f"describing subnets {', '.join(ids)}"):
        found: list[dict[str, Any]] = aws.client("ec2").describe_subnets(SubnetIds=ids)["Subnets"]
    return found


def free_ips(aws: Aws, cluster: EksCluster) -> str:
    """Every subnet has at least ``minFreeIpsPerSubnet`` free addresses."""
    need = cluster.min_free_ips
    found = _subnets(aws, cluster)
    short = [
        f"subnet {s['SubnetId']} ({s.get('CidrBlock', '?')}) has {s['AvailableIpAddressCount']} "
        f"free IP addresses, fewer than {need}"
        for s in found
        if s["AvailableIpAddressCount"] < need
    ]
    if short:
        raise OperationFailed(
            "; ".join(short) + " (spec.provider.minFreeIpsPerSubnet): free addresses in those "
            "subnets, pick larger subnets, or lower the threshold"
        )
    counts = ", ".join(f"{s['SubnetId']} {s['AvailableIpAddressCount']}" for s in found)
    return f"free IP addresses per subnet (need {need}): {counts}"


def subnet_layout(aws: Aws, cluster: EksCluster) -> str:
    """The subnets are in the VPC, in the zones the spec says, spanning two zones or more."""
    found = {s["SubnetId"]: s for s in _subnets(aws, cluster)}
    problems = []
    for wanted in cluster.subnets:
        actual = found[wanted.id]
        if actual["VpcId"] != cluster.vpc_id:
            problems.append(f"subnet {wanted.id} is in {actual['VpcId']}, not in {cluster.vpc_id}")
        if actual["AvailabilityZone"] != wanted.zone:
            problems.append(
                f"subnet {wanted.id} is in zone {actual['AvailabilityZone']}, "
                f"not {wanted.zone} as spec.provider.subnets says"
            )
    zones = sorted({s["AvailabilityZone"] for s in found.values()})
    if len(zones) < 2:
        problems.append(
            f"the subnets span {len(zones)} availability zone ({', '.join(zones)}); "
            "EKS needs two or more"
        )
    if problems:
        raise OperationFailed("; ".join(problems) + " — fix spec.provider.subnets")
    return f"{len(found)} subnets in {cluster.vpc_id} across zones {', '.join(zones)}"


def exports(aws: Aws, cluster: EksCluster) -> str:
    """Every required CloudFormation export exists in the region."""
    if not cluster.required_exports:
        return "no CloudFormation exports required"
    names: set[str] = set()
    with aws_call("listing CloudFormation exports"):
        for page in aws.client("cloudformation").get_paginator("list_exports").paginate():
            names.update(item["Name"] for item in page.get("Exports", []))
    missing = [name for name in cluster.required_exports if name not in names]
    if missing:
        raise OperationFailed(
            f"CloudFormation export(s) {', '.join(missing)} not found in {cluster.region} "
            "(spec.provider.requiredExports): deploy the stacks that export them first"
        )
    return (
        f"{len(cluster.required_exports)} export(s) present: {', '.join(cluster.required_exports)}"
    )


def ssm_parameters(aws: Aws, cluster: EksCluster) -> str:
    """Every required SSM parameter exists (its value is never read)."""
    wanted = list(cluster.required_ssm_parameters)
    if not wanted:
        return "no SSM parameters required"
    found: set[str] = set()
    ssm = aws.client("ssm")
    with aws_call("describing SSM parameters"):
        for start in range(0, len(wanted), 10):
            chunk = wanted[start : start + 10]
            answer = ssm.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": chunk}]
            )
            found.update(p["Name"] for p in answer.get("Parameters", []))
    missing = [name for name in wanted if name not in found]
    if missing:
        raise OperationFailed(
            f"SSM parameter(s) {', '.join(missing)} not found in {cluster.region} "
            "(spec.provider.requiredSsmParameters): create them or fix the names"
        )
    return f"{len(wanted)} SSM parameter(s) present"


def dhcp_options(aws: Aws, cluster: EksCluster) -> str:
    """The VPC's DHCP options give nodes a resolver: AmazonProvidedDNS or the configured ones."""
    ec2 = aws.client("ec2")
    with aws_call(f"describing VPC {cluster.vpc_id}"):
        vpcs = ec2.describe_vpcs(VpcIds=[cluster.vpc_id])["Vpcs"]
    options_id = vpcs[0].get("DhcpOptionsId", "default") if vpcs else "default"
    if options_id in ("", "default"):
        return f"VPC {cluster.vpc_id} has no DHCP option set: nodes use {AMAZON_DNS}"
    with aws_call(f"describing DHCP options {options_id}"):
        sets = ec2.describe_dhcp_options(DhcpOptionsIds=[options_id])["DhcpOptions"]
    servers: list[str] = []
    for item in sets[0].get("DhcpConfigurations", []) if sets else []:
        if item["Key"] == "domain-name-servers":
            servers = [v["Value"] for v in item.get("Values", [])]
    if AMAZON_DNS in servers:
        return f"DHCP options {options_id}: domain-name-servers include {AMAZON_DNS}"
    resolvers = set(cluster.dns_resolvers)
    if resolvers and servers and set(servers) <= resolvers:
        listed = ", ".join(servers)
        return f"DHCP options {options_id}: domain-name-servers {listed} are configured resolvers"
    raise OperationFailed(
        f"DHCP options {options_id} of {cluster.vpc_id} give domain-name-servers "
        f"[{', '.join(servers) or 'none'}], neither {AMAZON_DNS} nor resolvers listed in "
        "spec.provider.dnsResolvers: nodes could not resolve the EKS endpoint; associate a DHCP "
        f"option set with {AMAZON_DNS} or list your resolvers in spec.provider.dnsResolvers"
    )


def _trust_allows_eks(document: Any) -> bool:
    if isinstance(document, str):
        document = json.loads(unquote(document))
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        services = statement.get("Principal", {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if (
            statement.get("Effect") == "Allow"
            and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
            and "eks.amazonaws.com" in services
        ):
            return True
    return False


def cluster_role(aws: Aws, cluster: EksCluster) -> str:
    """The EKS service role exists and trusts eks.amazonaws.com (or the stack creates one)."""
    arn = cluster.cluster_role_arn
    if arn is None:
        return "the control plane stack creates the EKS service role (no clusterRoleArn given)"
    name = arn.rsplit("/", 1)[-1]
    try:
        with aws_call(f"reading IAM role {name}"):
            role = aws.client("iam").get_role(RoleName=name)["Role"]
    except OperationFailed as err:
        if "NoSuchEntity" in str(err):
            raise OperationFailed(
                f"IAM role {arn} (spec.provider.clusterRoleArn) does not exist: create it "
                "or leave clusterRoleArn out to let the stack create one"
            ) from None
        raise
    if not _trust_allows_eks(role.get("AssumeRolePolicyDocument", {})):
        raise OperationFailed(
            f"IAM role {arn} cannot be assumed by EKS: its trust policy must allow "
            "sts:AssumeRole for the service principal eks.amazonaws.com"
        )
    return f"IAM role {arn} exists and trusts eks.amazonaws.com"


def kubernetes_version(aws: Aws, cluster: EksCluster) -> str:
    """EKS offers the requested version in this region (asked live)."""
    from botocore.exceptions import ClientError

    eks = aws.client("eks")
    offered: list[str] = []
    try:
        for page in eks.get_paginator("describe_cluster_versions").paginate():
            offered.extend(v["clusterVersion"] for v in page.get("clusterVersions", []))
    except ClientError as err:
        code = error_code(err)
        if code not in ("NotImplemented", "InvalidAction", "UnknownOperationException", "404"):
            with aws_call("listing EKS versions"):
                raise
        from clusterforge.spec import AWS_KUBERNETES_VERSIONS

        if cluster.kubernetes_version not in AWS_KUBERNETES_VERSIONS:
            raise OperationFailed(
                f"Kubernetes {cluster.kubernetes_version} is not offered by EKS"
            ) from None
        return (
            f"EKS here does not answer DescribeClusterVersions ({code}); "
            f"{cluster.kubernetes_version} is in clusterforge's table of EKS versions"
        )
    if cluster.kubernetes_version not in offered:
        raise OperationFailed(
            f"EKS in {cluster.region} does not offer Kubernetes {cluster.kubernetes_version} "
            f"(spec.kubernetesVersion); offered: {', '.join(sorted(offered))}"
        )
    return f"EKS in {cluster.region} offers Kubernetes {cluster.kubernetes_version}"


def stacks(aws: Aws, cluster: EksCluster) -> str:
    """No stack of this cluster is failed or in progress (a build would trip over it)."""
    cfn = aws.client("cloudformation")
    names = [control_plane_stack(cluster.name)]
    prefix = node_group_stack_prefix(cluster.name)
    with aws_call("listing CloudFormation stacks"):
        for page in cfn.get_paginator("list_stacks").paginate():
            names.extend(
                s["StackName"]
                for s in page.get("StackSummaries", [])
                if s["StackName"].startswith(prefix) and s["StackStatus"] != "DELETE_COMPLETE"
            )
    seen, problems = [], []
    for name in dict.fromkeys(names):
        status = stack_status(cfn, name)
        if status is None:
            continue
        seen.append(f"{name} {status}")
        if status.endswith("_IN_PROGRESS") and status != REVIEW:
            problems.append(f"stack {name} is {status}: wait until it settles, then retry")
        elif status in BLOCKING_STATES:
            problems.append(f"stack {name} is {status}: {BLOCKING_STATES[status]}")
    if problems:
        raise OperationFailed("; ".join(problems))
    return "stacks of this cluster: " + (", ".join(seen) if seen else "none yet")


CHECKS: dict[str, Callable[[Aws, EksCluster], str]] = {
    "subnets": free_ips,
    "subnet-layout": subnet_layout,
    "exports": exports,
    "ssm-parameters": ssm_parameters,
    "dhcp-options": dhcp_options,
    "cluster-role": cluster_role,
    "kubernetes-version": kubernetes_version,
    "stacks": stacks,
}
