"""The EKS token of ``clusterforge aws token``, and faults: throttling retried with
backoff, missing credentials, bad arguments — each one clear message, no secret."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from clusterforge.errors import OperationFailed
from tests.aws.conftest import REGION, Account, eks_cluster

CLI = [sys.executable, "-m", "clusterforge.cli"]


def _token(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "aws", "token", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _decode(token: str) -> str:
    assert token.startswith("k8s-aws-v1.")
    body = token.removeprefix("k8s-aws-v1.")
    assert "=" not in body
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_token_is_a_presigned_caller_identity_url_for_the_cluster(aws_env: str) -> None:
    done = _token(dict(os.environ), "--cluster", "payments", "--region", REGION)
    assert done.returncode == 0, done.stderr
    credential = json.loads(done.stdout)
    assert credential["kind"] == "ExecCredential"
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert credential["status"]["expirationTimestamp"].endswith("Z")
    url = _decode(credential["status"]["token"])
    query = parse_qs(urlparse(url).query)
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-Expires"] == ["60"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert url.startswith(aws_env)  # signed for the account's STS endpoint
    assert query["X-Amz-Credential"][0].split("/")[2:4] == [REGION, "sts"]
    assert done.stderr == ""
    # The cluster name is part of what is signed: another cluster, another signature.
    other = json.loads(_token(dict(os.environ), "--cluster", "other", "--region", REGION).stdout)
    other_query = parse_qs(urlparse(_decode(other["status"]["token"])).query)
    assert other_query["X-Amz-Signature"] != query["X-Amz-Signature"]
    # (moto's server cannot answer a presigned GET of STS — it routes requests
    # without an Authorization header by their body, and falls back to S3 — so the
    # URL is not replayed against it here; see docs/aws.md.)


def test_token_refuses_bad_arguments(aws_env: str) -> None:
    done = _token(dict(os.environ), "--cluster", "payments", "--region", "mars-north-1")
    assert done.returncode == 2
    assert "--region 'mars-north-1' is not a region EKS offers" in done.stderr
    done = _token(dict(os.environ), "--cluster", "a b;rm -rf /", "--region", REGION)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_token_without_credentials_says_how_to_configure(aws_env: str) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    done = _token(env, "--cluster", "payments", "--region", REGION)
    assert done.returncode == 1
    assert "no AWS credentials found" in done.stderr
    assert "Traceback" not in done.stderr


class _Throttler(BaseHTTPRequestHandler):
    """Answers the first ``throttle`` requests with Throttling, then forwards to moto."""

    upstream = ""
    throttle = 0
    seen = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            type(self).seen += 1
            throttled = type(self).seen <= type(self).throttle
        if throttled:
            error = (
                b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                b"<Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>"
            )
            self.send_response(400)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
        answer = httpx.post(self.upstream + self.path, content=body, headers=headers)
        self.send_response(answer.status_code)
        for key in ("Content-Type",):
            if key in answer.headers:
                self.send_header(key, answer.headers[key])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def throttler(account: Account, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Throttler]]:
    handler = type("Handler", (_Throttler,), {"upstream": account.endpoint, "seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_throttling_is_retried_with_backoff(account: Account, throttler: type[_Throttler]) -> None:
    from clusterforge.providers import aws

    throttler.throttle = 3
    message = aws.run_check(eks_cluster(account), "exports")
    assert "2 export(s) present" in message
    assert throttler.seen == 4  # three throttled attempts, then the one that passed


def test_throttling_that_never_ends_fails_clearly(
    account: Account, throttler: type[_Throttler], monkeypatch: pytest.MonkeyPatch
) -> None:
    from clusterforge.providers import aws
    from clusterforge.providers.aws import _session

    monkeypatch.setattr(_session, "MAX_ATTEMPTS", 3)
    throttler.throttle = 1000
    with pytest.raises(OperationFailed) as err:
        aws.run_check(eks_cluster(account), "exports")
    assert "listing CloudFormation exports: AWS said Throttling: Rate exceeded" in str(err.value)
    assert throttler.seen == 3  # MAX_ATTEMPTS counts the first attempt too
    assert "AKIA" not in str(err.value)
