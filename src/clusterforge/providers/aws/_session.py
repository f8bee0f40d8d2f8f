"""One way to reach AWS: a boto3 session for a region, with retries and credentials checked.

Credentials come from boto3's default chain (environment, shared profile, SSO,
container or instance role), optionally exchanged for a role to assume
(``spec.provider.roleArn``). Missing credentials is a mistake the user can fix,
so it is one :class:`~clusterforge.errors.OperationFailed` saying how to
configure them — checked before the first call instead of surfacing as
botocore's ``NoCredentialsError`` from deep inside a check.

Throttling (``Throttling``, ``ThrottlingException``, ``RequestLimitExceeded``,
…) is retried by botocore's *standard* retry mode: exponential backoff with
jitter, up to :data:`MAX_ATTEMPTS` attempts per call. ``AWS_ENDPOINT_URL`` (or
a per-service ``AWS_ENDPOINT_URL_<SERVICE>``) is honoured by boto3 itself,
which is how tests point every client at a moto server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from clusterforge.errors import OperationFailed
from clusterforge.providers.aws._errors import NO_CREDENTIALS

#: Attempts per AWS call (the first one included) before a throttled call fails.
MAX_ATTEMPTS = 8
#: How the steps name themselves to AWS (visible in CloudTrail as the role session).
SESSION_NAME = "clusterforge"


def client_config() -> Any:
    """botocore's Config: standard retries (throttling backs off), bounded timeouts."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=10,
        read_timeout=60,
        user_agent_appid="clusterforge",
    )


@dataclass
class Aws:
    """Clients for one region, created on first use and shared by one step."""

    region: str
    role_arn: str | None = None
    _session: Any = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def session(self) -> Any:
        if self._session is None:
            self._session = _session(self.region, self.role_arn)
        return self._session

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session().client(
                service, region_name=self.region, config=client_config()
            )
        return self._clients[service]


def _session(region: str, role_arn: str | None) -> Any:
    import boto3

    base = boto3.session.Session(region_name=region)
    if base.get_credentials() is None:
        raise OperationFailed(NO_CREDENTIALS)
    if role_arn is None:
        return base
    from clusterforge.providers.aws._errors import aws_call

    sts = base.client("sts", region_name=region, config=client_config())
    with aws_call(f"assuming role {role_arn}"):
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)
    creds = answer["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def poll_seconds() -> float:
    """How long to wait between status polls (``CLUSTERFORGE_AWS_POLL_SECONDS``; 10s default)."""
    raw = os.environ.get("CLUSTERFORGE_AWS_POLL_SECONDS", "10")
    try:
        value = float(raw)
    except ValueError:
        raise OperationFailed(
            f"CLUSTERFORGE_AWS_POLL_SECONDS={raw!r} is not a number of seconds"
        ) from None
    return min(max(value, 0.05), 120.0)
