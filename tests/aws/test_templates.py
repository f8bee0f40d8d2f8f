"""Every CloudFormation template the aws provider writes passes cfn-lint (the real tool,
run on the rendered files), in each shape a spec can give it; and equal requests
render byte-identical bodies (the basis of "a re-run changes nothing")."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clusterforge.providers import aws

REGION = "eu-west-1"
SUBNETS = (
    aws.Subnet("subnet-0a1b2c3d4e5f60001", f"{REGION}a"),
    aws.Subnet("subnet-0a1b2c3d4e5f60002", f"{REGION}b"),
    aws.Subnet("subnet-0a1b2c3d4e5f60003", f"{REGION}c"),
)
GROUPS = (
    aws.EksNodeGroup(
        "system",
        "m5.xlarge",
        min=3,
        desired=3,
        max=3,
        zones=(f"{REGION}a", f"{REGION}b"),
        labels={"tier": "system"},
        taints=(
            aws.Taint("dedicated", "system", "NoSchedule"),
            aws.Taint("critical", "", "NoExecute"),
        ),
    ),
    aws.EksNodeGroup("general", "c5.2xlarge", min=0, desired=0, max=20, zones=(f"{REGION}c",)),
)
BASE = aws.EksCluster(
    name="payments-prod",
    region=REGION,
    vpc_id="vpc-0a1b2c3d4e5f67890",
    subnets=SUBNETS,
    kubernetes_version="1.33",
    node_groups=GROUPS,
    tags={"team": "payments", "cost-center": "4711"},
)
VARIANTS = {
    "defaults": BASE,
    "given-roles": dataclasses.replace(
        BASE,
        cluster_role_arn="arn:aws:iam::123456789012:role/eks-cluster",
        node_role_arn="arn:aws:iam::123456789012:role/eks-nodes",
    ),
    "private-with-logging": dataclasses.replace(
        BASE, endpoint_public=False, logging=("api", "audit", "authenticator")
    ),
    "public-cidrs": dataclasses.replace(BASE, public_access_cidrs=("203.0.113.0/24",)),
}


def _files(tmp_path: Path) -> list[Path]:
    files = []
    for variant, cluster in VARIANTS.items():
        path = tmp_path / f"{variant}-control-plane.json"
        path.write_text(aws.render(aws.control_plane_template(cluster)))
        files.append(path)
        for group in cluster.node_groups:
            path = tmp_path / f"{variant}-nodegroup-{group.name}.json"
            path.write_text(aws.render(aws.node_group_template(cluster, group)))
            files.append(path)
    return files


def test_every_template_passes_cfn_lint(tmp_path: Path) -> None:
    files = _files(tmp_path)
    assert len(files) == 12
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), "--regions", REGION, "--format", "parseable", "--", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == ""


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    """The lint is not vacuous: a node group without its cluster name is reported."""
    template: dict[str, Any] = aws.node_group_template(BASE, GROUPS[0])
    del template["Resources"]["NodeGroup"]["Properties"]["ClusterName"]
    path = tmp_path / "broken.json"
    path.write_text(aws.render(template))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), "--regions", REGION, "--", str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode != 0
    assert "ClusterName" in done.stdout


def test_control_plane_template_shape() -> None:
    template = aws.control_plane_template(VARIANTS["private-with-logging"])
    resources = template["Resources"]
    assert set(resources) == {"Cluster", "ClusterSecurityGroup", "ClusterRole"}
    cluster = resources["Cluster"]["Properties"]
    assert cluster["Name"] == "payments-prod"
    assert cluster["Version"] == "1.33"
    assert cluster["RoleArn"] == {"Fn::GetAtt": ["ClusterRole", "Arn"]}
    vpc = cluster["ResourcesVpcConfig"]
    assert vpc["EndpointPublicAccess"] is False
    assert vpc["EndpointPrivateAccess"] is True
    assert vpc["SubnetIds"] == [s.id for s in SUBNETS]
    assert cluster["Logging"]["ClusterLogging"]["EnabledTypes"] == [
        {"Type": "api"},
        {"Type": "audit"},
        {"Type": "authenticator"},
    ]
    assert {"Key": "clusterforge.dev/cluster", "Value": "payments-prod"} in cluster["Tags"]
    given = aws.control_plane_template(VARIANTS["given-roles"])
    assert "ClusterRole" not in given["Resources"]
    assert given["Resources"]["Cluster"]["Properties"]["RoleArn"].endswith("role/eks-cluster")


def test_node_group_template_shape() -> None:
    template = aws.node_group_template(BASE, GROUPS[0])
    group = template["Resources"]["NodeGroup"]["Properties"]
    assert group["ClusterName"] == "payments-prod"
    assert group["ScalingConfig"] == {"MinSize": 3, "DesiredSize": 3, "MaxSize": 3}
    assert group["Subnets"] == ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
    assert group["Labels"] == {"tier": "system", "clusterforge.dev/nodegroup": "system"}
    assert group["Taints"] == [
        {"Key": "dedicated", "Value": "system", "Effect": "NO_SCHEDULE"},
        {"Key": "critical", "Effect": "NO_EXECUTE"},
    ]
    assert group["UpdateConfig"] == {"MaxUnavailable": 1}
    assert template["Resources"]["NodeRole"]["Type"] == "AWS::IAM::Role"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_equal_requests_render_identical_bodies(variant: str) -> None:
    cluster = VARIANTS[variant]
    again = dataclasses.replace(cluster, tags=dict(reversed(list(cluster.tags.items()))))
    assert aws.render(aws.control_plane_template(cluster)) == aws.render(
        aws.control_plane_template(again)
    )
    json.loads(aws.render(aws.node_group_template(cluster, cluster.node_groups[0])))
