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
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from clusterforge.api.argo_server.errors import INVALID_ARGUMENT, ArgoError
from clusterforge.api.argo_server.selectors import LabelSelector

__all__ = ["ListOptionsDep", "check_name", "check_namespace", "page", "read_body"]

# fixed patterns of ours, not user-supplied: the DNS-1123 label and subdomain
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _checked(value: str, pattern: re.Pattern[str], most: int, what: str, allowed: str) -> str:
    if len(value) > most or not pattern.fullmatch(value):
        raise ArgoError(
            INVALID_ARGUMENT,
            f"{what} {value!r} is not valid: {allowed}, at most {most}, "
            "starting and ending with a letter or digit",
        )
    return value


def check_namespace(namespace: str) -> str:
    return _checked(namespace, _LABEL, 63, "namespace", "lower-case letters, digits and '-'")


def check_name(name: str, field: str = "metadata.name") -> str:
    return _checked(name, _SUBDOMAIN, 253, f"{field}:", "lower-case letters, digits, '-' and '.'")


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


@dataclass(frozen=True)
class ListOptions:
    """Kubernetes' ``listOptions`` a list request gives: which items, which page."""

    selector: LabelSelector
    limit: str | None
    token: str | None

    def page(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        chosen = [i for i in items if self.selector.matches(_labels_of(i))]
        return page(chosen, self.limit, self.token)


def _labels_of(item: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = (item.get("metadata") or {}).get("labels") or {}
    return labels


async def _list_options(
    label_selector: Annotated[str | None, Query(alias="listOptions.labelSelector")] = None,
    limit: Annotated[str | None, Query(alias="listOptions.limit")] = None,
    token: Annotated[str | None, Query(alias="listOptions.continue")] = None,
) -> ListOptions:
    return ListOptions(LabelSelector(label_selector), limit, token)


ListOptionsDep = Annotated[ListOptions, Depends(_list_options)]
