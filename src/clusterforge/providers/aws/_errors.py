"""AWS failures as one clear message each, with nothing secret in it.

Every call the provider makes runs inside :func:`aws_call`, which turns
botocore's exceptions into :class:`~clusterforge.errors.OperationFailed`
naming what was being done and AWS's own error code and message. Messages pass
through :func:`redact` first: a presigned URL's signature, a session token or
an access key id never reaches a log, a step output or an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from clusterforge.errors import OperationFailed

NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
    "for a profile of ~/.aws/config (`aws configure`, or `aws sso login --profile NAME`), or run "
    "where an instance or container role provides them"
)

_SECRETS = (
    # Query-string credentials of presigned URLs, and the EKS token built from one.
    (re.compile(r"(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"']+", re.I), r"\1***"),
    (re.compile(r"k8s-aws-v1\.[A-Za-z0-9_-]+"), "k8s-aws-v1.***"),
    # Access key ids (long-term AKIA…, temporary ASIA…).
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b"), r"\1***"),
    # key=value or "key": "value" forms of secret material.
    (
        re.compile(
            r"((?:aws_)?(?:secret_access_key|secretaccesskey|session_token|sessiontoken)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+",
            re.I,
        ),
        r"\1***",
    ),
)


def redact(text: str) -> str:
    """``text`` with every credential-like value replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def error_code(err: BaseException) -> str:
    """AWS's error code of a botocore ClientError ('' for anything else)."""
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


@contextmanager
def aws_call(doing: str) -> Iterator[None]:
    """Run AWS calls; a failure becomes one redacted OperationFailed about ``doing``."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        yield
    except NoCredentialsError:
        raise OperationFailed(NO_CREDENTIALS) from None
    except ClientError as err:
        code = error_code(err)
        message = str(err.response.get("Error", {}).get("Message", "")) or str(err)
        raise OperationFailed(redact(f"{doing}: AWS said {code}: {message}")) from None
    except BotoCoreError as err:
        raise OperationFailed(redact(f"{doing}: {err}")) from None
