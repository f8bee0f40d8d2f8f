"""``clusterforge aws …``: what an EKS kubeconfig runs.

``aws token`` is the ``exec`` credential plugin of every kubeconfig the aws
provider writes: it prints an ExecCredential whose token is a presigned STS
``GetCallerIdentity`` URL for the cluster (as ``aws eks get-token`` does).
The token goes to stdout for kubectl only; it is never logged or stored.
"""

from __future__ import annotations

from typing import Annotated

import typer

from clusterforge.cli.app import app

aws_app = typer.Typer(name="aws", help="EKS helpers (the kubeconfig's token plugin).")
app.add_typer(aws_app)


@aws_app.command("token")
def token(
    cluster: Annotated[str, typer.Option("--cluster", help="The EKS cluster name.")],
    region: Annotated[str, typer.Option("--region", help="The cluster's AWS region.")],
    role_arn: Annotated[
        str | None, typer.Option("--role-arn", help="A role to assume for the token.")
    ] = None,
) -> None:
    """Print an ExecCredential with a fresh EKS token (for kubectl's exec plugin)."""
    import re

    from clusterforge.errors import InvalidInput
    from clusterforge.spec.provider import EKS_REGIONS
    from clusterforge.stages.clusters import aws_token

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", cluster):
        raise InvalidInput(f"--cluster {cluster!r} is not an EKS cluster name")
    if region not in EKS_REGIONS:
        raise InvalidInput(f"--region {region!r} is not a region EKS offers")
    typer.echo(aws_token(cluster, region, role_arn))
