"""The EKS bearer token, made as ``aws eks get-token`` makes it.

EKS authenticates a Kubernetes client by a presigned STS
``GetCallerIdentity`` URL: the API server's authenticator calls it and learns
who signed it. The URL is signed with the header ``x-k8s-aws-id: <cluster>``
(so a token for one cluster is useless for another) and valid for 60 seconds;
the token is ``k8s-aws-v1.`` followed by the URL in unpadded base64url.
kubectl runs ``clusterforge aws token`` through the kubeconfig's ``exec``
plugin for every new connection, so no long-lived secret is ever written.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from clusterforge.providers.aws._errors import aws_call
from clusterforge.providers.aws._session import Aws

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 - the token format's prefix, not a secret
CLUSTER_ID_HEADER = "x-k8s-aws-id"
URL_LIFETIME = 60
#: What the token's ExecCredential claims; shorter than EKS's 15 minutes, like the aws CLI.
TOKEN_LIFETIME = timedelta(minutes=14)


def presigned_identity_url(aws: Aws, cluster: str) -> str:
    """A presigned GET of STS GetCallerIdentity, signed with the cluster id header."""
    sts = aws.session().client("sts", region_name=aws.region)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_ID_HEADER] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    with aws_call("presigning the EKS token"):
        url: str = sts.generate_presigned_url(
            "get_caller_identity", Params={}, ExpiresIn=URL_LIFETIME, HttpMethod="GET"
        )
    return url


def token(aws: Aws, cluster: str) -> str:
    """The bearer token for ``cluster``: ``k8s-aws-v1.`` + base64url(presigned URL)."""
    url = presigned_identity_url(aws, cluster)
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return TOKEN_PREFIX + encoded


def exec_credential(aws: Aws, cluster: str, now: datetime | None = None) -> str:
    """The ExecCredential JSON kubectl reads from the exec plugin's stdout."""
    expires = (now or datetime.now(UTC)) + TOKEN_LIFETIME
    return json.dumps(
        {
            "kind": "ExecCredential",
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "spec": {},
            "status": {
                "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "token": token(aws, cluster),
            },
        }
    )
