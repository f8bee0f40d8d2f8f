"""The objects Argo Server's API carries: names, namespaces, request bodies, lists.

Names and namespaces are checked here before they are used anywhere (Kubernetes'
DNS-1123 rules, which Argo applies too), request bodies are read as the JSON
objects grpc-gateway expects, and list answers get Argo's ``{metadata, items}``
shape with a ``continue`` token for the next page.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Sequence
from typing import Any

from fastapi import Request

from clusterforge.api.argo_server.errors import INVALID_ARGUMENT, ArgoError

__all__ = ["check_name", "check_namespace", "page", "read_body"]

# fixed patterns of ours, not user-supplied: the DNS-1123 label and subdomain
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def check_namespace(namespace: str) -> str:
    if len(namespace) > 63 or not _LABEL.fullmatch(namespace):
        raise ArgoError(
            INVALID_ARGUMENT,
            f"namespace {namespace!r} is not valid: lower-case letters, digits and '-', "
            "at most 63, starting and ending with a letter or digit",
        )
    return namespace


def check_name(name: str, field: str = "metadata.name") -> str:
    if len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        raise ArgoError(
            INVALID_ARGUMENT,
            f"{field}: {name!r} is not a valid name: lower-case letters, digits, '-' and '.', "
            "at most 253, starting and ending with a letter or digit",
        )
    return name


async def read_body(request: Request, *required: str) -> dict[str, Any]:
    """The request's JSON object; each of ``required`` must be an object in it."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as err:
        raise ArgoError(INVALID_ARGUMENT, f"the request body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise ArgoError(INVALID_ARGUMENT, "the request body must be a JSON object")
    for key in required:
        if not isinstance(body.get(key), dict):
            raise ArgoError(INVALID_ARGUMENT, f"{key}: required, a JSON object")
    return body


def page(items: Sequence[dict[str, Any]], limit: str | None, token: str | None) -> dict[str, Any]:
    """Argo's list answer for one page of ``items`` (``listOptions.limit``/``continue``)."""
    start = 0
    if token:
        if not set(token) <= set(string.digits) or len(token) > 12:
            raise ArgoError(
                INVALID_ARGUMENT, "listOptions.continue: give the token the previous page returned"
            )
        start = int(token)
    size = len(items)
    if limit not in (None, "", "0"):
        if not limit.isdigit():
            raise ArgoError(INVALID_ARGUMENT, "listOptions.limit: a whole number")
        size = int(limit)
    chosen = list(items[start : start + size])
    metadata: dict[str, Any] = {"resourceVersion": "0"}
    if start + size < len(items):
        metadata["continue"] = str(start + size)
    return {"metadata": metadata, "items": chosen}
