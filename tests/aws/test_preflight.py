"""Each aws preflight check against a moto account: passes when the account is fit,
fails naming the exact thing that is wrong when it is not."""

from __future__ import annotations

import dataclasses
import json

import pytest

from clusterforge.errors import OperationFailed
from clusterforge.providers.aws import CHECKS
from tests.aws.conftest import REGION, Account, eks_cluster


def _check(cluster: object, name: str) -> str:
    from clusterforge.providers import aws

    return aws.run_check(cluster, name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(CHECKS))
def test_every_check_passes_on_a_fit_account(account: Account, name: str) -> None:
    message = _check(eks_cluster(account), name)
    assert message


def test_free_ips_counts_what_ec2_reports(account: Account) -> None:
    message = _check(eks_cluster(account), "subnets")
    # A /24 has 256 - 5 (AWS reserves five) = 251 free addresses.
    for subnet in account.subnets.values():
        assert f"{subnet} 251" in message


def test_a_slash_28_fails_the_free_ip_check_naming_subnet_and_count(account: Account) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(
        account,
        subnets=(
            aws.Subnet(account.small_subnet, f"{REGION}a"),
            aws.Subnet(account.subnets[f"{REGION}b"], f"{REGION}b"),
        ),
    )
    with pytest.raises(OperationFailed) as err:
        _check(cluster, "subnets")
    message = str(err.value)
    assert f"subnet {account.small_subnet} (10.0.100.0/28) has 11 free IP addresses" in message
    assert "fewer than 100" in message
    assert "minFreeIpsPerSubnet" in message
    assert account.subnets[f"{REGION}b"] not in message


def test_threshold_is_inclusive(account: Account) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(
        account,
        min_free_ips=11,
        subnets=(
            aws.Subnet(account.small_subnet, f"{REGION}a"),
            aws.Subnet(account.subnets[f"{REGION}b"], f"{REGION}b"),
        ),
    )
    assert "need 11" in _check(cluster, "subnets")


def test_subnet_of_another_vpc_fails_the_layout_check(account: Account) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(
        account,
        subnets=(
            aws.Subnet(account.subnets[f"{REGION}a"], f"{REGION}a"),
            aws.Subnet(account.other_vpc_subnet, f"{REGION}b"),
        ),
    )
    with pytest.raises(OperationFailed, match=f"subnet {account.other_vpc_subnet} is in vpc-"):
        _check(cluster, "subnet-layout")


def test_subnets_in_one_zone_fail_the_layout_check(account: Account) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(
        account,
        subnets=(
            aws.Subnet(account.subnets[f"{REGION}a"], f"{REGION}a"),
            aws.Subnet(account.small_subnet, f"{REGION}a"),
        ),
    )
    with pytest.raises(OperationFailed, match=r"span 1 availability zone .*two or more"):
        _check(cluster, "subnet-layout")


def test_zone_differing_from_the_spec_fails_the_layout_check(account: Account) -> None:
    from clusterforge.providers import aws

    subnets = list(eks_cluster(account).subnets)
    subnets[0] = aws.Subnet(subnets[0].id, f"{REGION}c")
    with pytest.raises(OperationFailed, match=f"is in zone {REGION}a, not {REGION}c"):
        _check(eks_cluster(account, subnets=tuple(subnets)), "subnet-layout")


def test_unknown_subnet_fails_with_aws_error(account: Account) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(
        account,
        subnets=(
            aws.Subnet("subnet-0123456789abcdef0", f"{REGION}a"),
            aws.Subnet(account.subnets[f"{REGION}b"], f"{REGION}b"),
        ),
    )
    with pytest.raises(OperationFailed, match="subnet-0123456789abcdef0"):
        _check(cluster, "subnets")


def test_missing_export_is_named(account: Account) -> None:
    cluster = eks_cluster(account, required_exports=("network-VpcId", "network-Missing"))
    with pytest.raises(OperationFailed) as err:
        _check(cluster, "exports")
    assert "network-Missing" in str(err.value)
    assert "network-VpcId," not in str(err.value)
    assert "requiredExports" in str(err.value)


def test_missing_ssm_parameter_is_named(account: Account) -> None:
    cluster = eks_cluster(
        account, required_ssm_parameters=("/platform/eks/node-ami-id", "/platform/absent")
    )
    with pytest.raises(OperationFailed, match=r"SSM parameter\(s\) /platform/absent not found"):
        _check(cluster, "ssm-parameters")


def test_many_ssm_parameters_are_looked_up_in_chunks(account: Account) -> None:
    ssm = account.client("ssm")
    names = tuple(f"/bulk/p{i}" for i in range(23))
    for name in names:
        ssm.put_parameter(Name=name, Value="x", Type="String")
    assert "23 SSM parameter(s) present" in _check(
        eks_cluster(account, required_ssm_parameters=names), "ssm-parameters"
    )


def _dhcp(account: Account, servers: list[str]) -> str:
    ec2 = account.client("ec2")
    options = ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name-servers", "Values": servers}]
    )["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=options, VpcId=account.vpc_id)
    return str(options)


def test_dhcp_options_with_amazon_dns_pass(account: Account) -> None:
    options = _dhcp(account, ["AmazonProvidedDNS"])
    assert options in _check(eks_cluster(account), "dhcp-options")


def test_dhcp_options_with_foreign_resolvers_fail(account: Account) -> None:
    options = _dhcp(account, ["192.0.2.53"])
    with pytest.raises(OperationFailed) as err:
        _check(eks_cluster(account), "dhcp-options")
    assert options in str(err.value)
    assert "192.0.2.53" in str(err.value)
    assert "dnsResolvers" in str(err.value)


def test_dhcp_options_with_configured_resolvers_pass(account: Account) -> None:
    _dhcp(account, ["192.0.2.53"])
    cluster = eks_cluster(account, dns_resolvers=("192.0.2.53", "192.0.2.54"))
    assert "configured resolvers" in _check(cluster, "dhcp-options")


def test_missing_cluster_role_fails(account: Account) -> None:
    arn = account.cluster_role_arn.replace("eks-cluster", "absent")
    with pytest.raises(OperationFailed, match=f"IAM role {arn} .* does not exist"):
        _check(eks_cluster(account, cluster_role_arn=arn), "cluster-role")


def test_role_not_trusting_eks_fails(account: Account) -> None:
    cluster = eks_cluster(account, cluster_role_arn=account.untrusting_role_arn)
    with pytest.raises(OperationFailed, match="cannot be assumed by EKS"):
        _check(cluster, "cluster-role")


def test_no_cluster_role_means_the_stack_creates_one(account: Account) -> None:
    assert "creates the EKS service role" in _check(
        eks_cluster(account, cluster_role_arn=None), "cluster-role"
    )


def test_version_eks_does_not_offer_fails(account: Account) -> None:
    with pytest.raises(OperationFailed, match=r"Kubernetes 1\.19"):
        _check(eks_cluster(account, kubernetes_version="1.19"), "kubernetes-version")


def _stack(account: Account, name: str) -> None:
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    account.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_stack_in_progress_blocks_the_build(account: Account) -> None:
    from moto.cloudformation.models import cloudformation_backends

    _stack(account, "clusterforge-payments-nodegroup-general")
    backend = cloudformation_backends["123456789012"][REGION]
    stack = next(s for s in backend.stacks.values() if s.name.endswith("nodegroup-general"))
    stack.status = "UPDATE_IN_PROGRESS"  # what a concurrent deploy looks like
    with pytest.raises(OperationFailed) as err:
        _check(eks_cluster(account), "stacks")
    assert "clusterforge-payments-nodegroup-general is UPDATE_IN_PROGRESS" in str(err.value)


def test_failed_stack_blocks_the_build_with_the_fix(account: Account) -> None:
    from moto.cloudformation.models import cloudformation_backends

    _stack(account, "clusterforge-payments-control-plane")
    backend = cloudformation_backends["123456789012"][REGION]
    stack = next(s for s in backend.stacks.values() if s.name.endswith("control-plane"))
    stack.status = "UPDATE_ROLLBACK_FAILED"
    with pytest.raises(OperationFailed, match="continue-update-rollback"):
        _check(eks_cluster(account), "stacks")


def test_stacks_of_other_clusters_do_not_count(account: Account) -> None:
    _stack(account, "clusterforge-payments2-control-plane")
    assert "none yet" in _check(eks_cluster(account), "stacks")


def test_missing_credentials_is_one_clear_error(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(OperationFailed) as err:
        _check(eks_cluster(account), "subnets")
    assert "no AWS credentials found" in str(err.value)
    assert "AWS_PROFILE" in str(err.value)


def test_unknown_check_is_refused(account: Account) -> None:
    with pytest.raises(OperationFailed, match="unknown aws preflight check"):
        _check(eks_cluster(account), "nope")


def test_clusters_are_plain_values(account: Account) -> None:
    cluster = eks_cluster(account)
    assert dataclasses.replace(cluster, name="x").name == "x"
