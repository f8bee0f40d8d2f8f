"""The aws provider: EKS through CloudFormation, with account preflight checks.

A cluster is two kinds of CloudFormation stack written here — one control
plane stack (``AWS::EKS::Cluster`` with its security group and, unless given,
its service role) and one stack per managed node group — deployed through
change sets, so a re-run with nothing changed executes nothing, and torn down
node groups first. Before anything is built, the preflight checks ask the
account whether it is fit: free IPs per subnet, subnets and zones, exports,
SSM parameters, DHCP options, the cluster role, the Kubernetes version, and
the state of earlier stacks. The kubeconfig takes endpoint and CA from
``DescribeCluster`` and authenticates through ``clusterforge aws token`` (an
``exec`` plugin), so no long-lived secret is written.

Everything goes through boto3 with the default credential chain and
botocore's standard retries (throttling backs off). Callers (the stages
layer) describe the cluster with :class:`EksCluster` and never see boto3.
"""

from __future__ import annotations

from clusterforge.providers.aws._cluster import (
    ControlPlane,
    apply_node_group,
    cluster_stacks,
    destroy,
    ensure_control_plane,
    kubeconfig_path,
    run_check,
    token,
)
from clusterforge.providers.aws._errors import NO_CREDENTIALS, redact
from clusterforge.providers.aws._model import (
    LOG_TYPES,
    EksCluster,
    EksNodeGroup,
    Subnet,
    Taint,
    control_plane_stack,
    node_group_stack,
)
from clusterforge.providers.aws._plan import plan_lines
from clusterforge.providers.aws._preflight import CHECKS
from clusterforge.providers.aws._session import MAX_ATTEMPTS, Aws
from clusterforge.providers.aws._stacks import DeployResult
from clusterforge.providers.aws._templates import (
    control_plane_template,
    node_group_template,
    render,
)

__all__ = [
    "CHECKS",
    "LOG_TYPES",
    "MAX_ATTEMPTS",
    "NO_CREDENTIALS",
    "Aws",
    "ControlPlane",
    "DeployResult",
    "EksCluster",
    "EksNodeGroup",
    "Subnet",
    "Taint",
    "apply_node_group",
    "cluster_stacks",
    "control_plane_stack",
    "control_plane_template",
    "destroy",
    "ensure_control_plane",
    "kubeconfig_path",
    "node_group_stack",
    "node_group_template",
    "plan_lines",
    "redact",
    "render",
    "run_check",
    "token",
]
