"""The simulation's token webhook accepts what ``clusterforge aws token`` makes for this
account and refuses anything else (no kwok needed)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator

import httpx
import pytest

from tests.aws.conftest import REGION
from tests.aws.simulation import TokenWebhook


@pytest.fixture
def webhook(aws_env: str) -> Iterator[TokenWebhook]:
    hook = TokenWebhook(aws_env, {os.environ["AWS_ACCESS_KEY_ID"]})
    try:
        yield hook
    finally:
        hook.close()


def _token(role_arn: str | None = None) -> str:
    from clusterforge.stages.clusters import aws_token

    return str(json.loads(aws_token("payments", REGION, role_arn))["status"]["token"])


def _review(hook: TokenWebhook, token: str) -> dict[str, object]:
    answer = httpx.post(
        hook.url,
        json={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        },
        timeout=60,
    )
    status: dict[str, object] = answer.json()["status"]
    return status


def test_a_token_of_this_account_is_accepted(webhook: TokenWebhook) -> None:
    status = _review(webhook, _token())
    assert status["authenticated"] is True
    assert status["user"]["groups"] == ["system:masters"]  # type: ignore[index]


def test_a_token_made_with_an_assumed_role_is_accepted(webhook: TokenWebhook) -> None:
    assert _review(webhook, _token("arn:aws:iam::123456789012:role/builder"))["authenticated"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace("GetCallerIdentity", "GetSessionToken"),
        lambda url: url.replace("x-k8s-aws-id", "x-other"),
        lambda url: url.replace("127.0.0.1", "localhost"),
        lambda url: url.replace("AKIAIOSFODNN7EXAMPLE", "AKIAOTHERACCOUNTKEY0"),
    ],
)
def test_anything_else_is_refused(webhook: TokenWebhook, tamper: object) -> None:
    token = _token().removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    forged = tamper(url)  # type: ignore[operator]
    assert forged != url
    body = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    assert _review(webhook, "k8s-aws-v1." + body)["authenticated"] is False
    assert _review(webhook, "not-a-token")["authenticated"] is False
