"""The aws simulation: moto's EKS API with a kwok cluster standing in for EKS's data plane.

This is a **simulation**, not EKS. moto answers every AWS call (CloudFormation,
EC2, SSM, IAM, STS, EKS); when a stack creates an ``AWS::EKS::Cluster``
(tests/aws/eks_resources.py), :class:`KwokDataPlane` starts a real kwok
control plane for it and writes its endpoint and CA certificate into moto's
EKS cluster, which stays CREATING until that control plane answers — so the
provider reads the endpoint from ``DescribeCluster`` exactly as from EKS.
Node groups become kwok's fake nodes with the group's instance type, labels,
taints and the zones of its subnets.

Authentication follows EKS's shape: kube-apiserver is started with a token
webhook (:class:`TokenWebhook`) that accepts the ``k8s-aws-v1.`` tokens of
``clusterforge aws token`` — a presigned STS GetCallerIdentity URL for this
account's endpoint, signed with the ``x-k8s-aws-id`` header, by a key moto
issued — and maps the caller to ``system:masters``, as EKS does for the
cluster's creator. What it does not do: verify the signature itself (moto's
server cannot answer a presigned STS GET) — see docs/aws.md.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

ACCOUNT_ID = "123456789012"


class TokenWebhook:
    """A TokenReview endpoint for kube-apiserver that accepts EKS tokens of this account."""

    def __init__(self, aws_endpoint: str, access_keys: set[str]) -> None:
        self.aws_endpoint = urlparse(aws_endpoint).netloc
        self.access_keys = access_keys
        self.reviews: list[tuple[bool, str]] = []
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                user = webhook.review(str(body.get("spec", {}).get("token", "")))
                status: dict[str, Any] = {"authenticated": user is not None}
                if user is not None:
                    status["user"] = {"username": user, "uid": user, "groups": ["system:masters"]}
                answer = json.dumps(
                    {
                        "apiVersion": body.get("apiVersion", "authentication.k8s.io/v1"),
                        "kind": "TokenReview",
                        "status": status,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/authenticate"

    def review(self, token: str) -> str | None:
        """The caller's identity for a valid token, else None (and why, in ``reviews``)."""
        if not token.startswith("k8s-aws-v1."):
            return self._deny("not an EKS token")
        body = token.removeprefix("k8s-aws-v1.")
        try:
            url = urlparse(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode())
        except ValueError:
            return self._deny("token is not base64url")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        credential = query.get("X-Amz-Credential", "").split("/")
        signed = query.get("X-Amz-SignedHeaders", "").split(";")
        if url.netloc != self.aws_endpoint or query.get("Action") != "GetCallerIdentity":
            return self._deny("not a GetCallerIdentity URL of this account's STS")
        if "x-k8s-aws-id" not in signed or len(credential) != 5 or credential[3] != "sts":
            return self._deny("the cluster id header is not signed")
        signed_at = time.mktime(time.strptime(query.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ"))
        if abs(time.mktime(time.gmtime()) - signed_at) > 15 * 60:
            return self._deny("token expired")
        if credential[0] not in self.keys():
            return self._deny("signed by a key this account did not issue")
        return self._allow(f"arn:aws:iam::{ACCOUNT_ID}:caller/{credential[0][:4]}")

    def keys(self) -> set[str]:
        from moto.sts.models import sts_backends

        issued = {
            role.access_key_id
            for backend in sts_backends[ACCOUNT_ID].values()
            for role in backend.assumed_roles
        }
        return self.access_keys | issued

    def _allow(self, user: str) -> str:
        self.reviews.append((True, user))
        return user

    def _deny(self, why: str) -> None:
        self.reviews.append((False, why))

    def kubeconfig(self, path: Path) -> Path:
        """The webhook's address as kube-apiserver reads it (a kubeconfig file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "eks-authenticator", "cluster": {"server": self.url}}],
            "users": [{"name": "kube-apiserver", "user": {}}],
            "contexts": [
                {
                    "name": "webhook",
                    "context": {"cluster": "eks-authenticator", "user": "kube-apiserver"},
                }
            ],
            "current-context": "webhook",
        }
        path.write_text(yaml.safe_dump(config))
        return path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _kwok_endpoint(name: str) -> tuple[str, str]:
    from clusterforge.providers import kwok

    config = yaml.safe_load(kwok.kubeconfig_path(name).read_text())
    cluster = config["clusters"][0]["cluster"]
    ca = cluster.get("certificate-authority-data")
    if ca is None:
        ca = base64.b64encode(Path(cluster["certificate-authority"]).read_bytes()).decode()
    return str(cluster["server"]), str(ca)


class KwokDataPlane:
    """Starts, resizes and deletes kwok clusters as moto's EKS clusters come and go."""

    def __init__(self, webhook: TokenWebhook, home: Path) -> None:
        self.webhook = webhook
        self.webhook_config = webhook.kubeconfig(home / "aws-simulation" / "webhook.yaml")
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def _eks(self, region: str) -> Any:
        from moto.eks.models import eks_backends

        return eks_backends[ACCOUNT_ID][region]

    def cluster_created(self, name: str, version: str) -> tuple[str, str]:
        region = self._region_of(name)
        self._eks(region).clusters[name].status = "CREATING"
        threading.Thread(target=self._start, args=(name, region), daemon=True).start()
        return "", ""  # filled in by _start; the cluster is CREATING until then

    def _region_of(self, name: str) -> str:
        from moto.eks.models import eks_backends

        for region, backend in eks_backends[ACCOUNT_ID].items():
            if name in backend.clusters:
                return str(region)
        return "eu-west-1"

    def _start(self, name: str, region: str) -> None:
        from clusterforge.providers import kwok

        cluster = self._eks(region).clusters[name]
        try:
            with self.lock:
                kwok.create_cluster(
                    name,
                    [],
                    exist_ok=True,
                    timeout=300,
                    apiserver_args={
                        "authentication-token-webhook-config-file": str(self.webhook_config),
                        "authentication-token-webhook-version": "v1",
                    },
                )
            endpoint, ca = _kwok_endpoint(name)
        except Exception as err:  # reported as EKS would: the cluster FAILED
            self.errors.append(f"{name}: {err}")
            cluster.status = "FAILED"
            return
        cluster.endpoint = endpoint
        cluster.certificate_authority = {"data": ca}
        cluster.status = "ACTIVE"

    def cluster_deleted(self, name: str) -> None:
        from clusterforge.providers import kwok

        with self.lock:
            kwok.delete_cluster(name, missing_ok=True)

    def nodegroup_applied(self, cluster: str, properties: dict[str, Any]) -> None:
        region = self._region_of(cluster)
        group = self._eks(region).clusters[cluster].nodegroups[properties["NodegroupName"]]
        group.status = "CREATING"
        threading.Thread(
            target=self._nodes, args=(cluster, region, properties, group), daemon=True
        ).start()

    def _nodes(self, cluster: str, region: str, props: dict[str, Any], group: Any) -> None:
        from moto.ec2.models import ec2_backends

        from clusterforge.providers import kwok

        ec2 = ec2_backends[ACCOUNT_ID][region]
        zones = tuple(
            sorted({ec2.get_subnet(subnet).availability_zone for subnet in props["Subnets"]})
        )
        effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute"}
        effects["PREFER_NO_SCHEDULE"] = "PreferNoSchedule"
        nodes = kwok.NodeGroup(
            props["NodegroupName"],
            instance_type=props["InstanceTypes"][0],
            count=props["ScalingConfig"]["DesiredSize"],
            labels={
                k: v for k, v in props.get("Labels", {}).items() if not k.startswith("clusterforge")
            },
            taints=tuple(
                kwok.Taint(t["Key"], t.get("Value", ""), effects[t["Effect"]])  # type: ignore[arg-type]
                for t in props.get("Taints", [])
            ),
            zones=zones,
        )
        try:
            with self.lock:
                kwok.apply_node_group(cluster, nodes, timeout=300)
        except Exception as err:
            self.errors.append(f"{cluster}/{props['NodegroupName']}: {err}")
            group.status = "CREATE_FAILED"
            return
        group.status = "ACTIVE"

    def nodegroup_deleted(self, cluster: str, name: str) -> None:
        from clusterforge.providers import kwok

        try:
            with self.lock:
                kwok.apply_node_group(cluster, kwok.NodeGroup(name, count=0), timeout=120)
        except Exception as err:
            self.errors.append(f"deleting {cluster}/{name}: {err}")
