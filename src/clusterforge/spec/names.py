"""Names and Kubernetes labels: the strings that end up inside other systems' names.

A cluster's name becomes a kwokctl cluster, a directory, label values, workflow
names and (on AWS) CloudFormation stack and EKS names; a node group's name
becomes node names and the ``clusterforge.dev/nodegroup`` label; an add-on's
name becomes a task name and a Helm release. Validating them here, with the
strictest rule any of those places imposes, means no later step has to quote,
escape or truncate them — and a name can never carry a shell metacharacter.

Limits, and why:

* cluster names: DNS-1123 label of at most 40 characters. Derived names add
  prefixes and suffixes (``build-<name>-xxxxx`` workflow names are label values
  limited to 63; AWS stacks ``clusterforge-<name>-nodegroup-<group>``), and 40
  leaves room for them.
* node group names: DNS-1123 label of at most 40 characters, so node names
  ``<group>-<n>`` stay valid ``kubernetes.io/hostname`` label values (≤ 63).
* user add-on names: DNS-1123 label of at most 53 characters, Helm's limit on
  release names.
* label keys and values: Kubernetes' own rules (an optional DNS-1123 subdomain
  prefix of ≤ 253 characters, a name of ≤ 63; values ≤ 63, may be empty).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from clusterforge.spec._base import JsonSchemaHint, problem, regex_check, show

CLUSTER_NAME_MAX = 40
NODE_GROUP_NAME_MAX = 40
ADDON_NAME_MAX = 53

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"


def _dns_label_check(what: str, max_length: int) -> AfterValidator:
    def complaint(value: str) -> str:
        if len(value) > max_length:
            return (
                f"{show(value)} is {len(value)} characters long; a {what} has at most {max_length}"
            )
        return (
            f"{show(value)} is not a valid {what}: use lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit (at most {max_length} characters)"
        )

    return AfterValidator(regex_check(_DNS_LABEL, complaint, max_length=max_length))


def _dns_label_schema(max_length: int, description: str) -> JsonSchemaHint:
    return JsonSchemaHint(
        {"pattern": f"^{_DNS_LABEL}$", "maxLength": max_length, "description": description}
    )


ClusterName = Annotated[
    str,
    _dns_label_check("cluster name", CLUSTER_NAME_MAX),
    _dns_label_schema(
        CLUSTER_NAME_MAX,
        "A DNS-1123 label of at most 40 characters: lowercase letters, digits and '-'.",
    ),
]
NodeGroupName = Annotated[
    str,
    _dns_label_check("node group name", NODE_GROUP_NAME_MAX),
    _dns_label_schema(
        NODE_GROUP_NAME_MAX,
        "A DNS-1123 label of at most 40 characters: lowercase letters, digits and '-'.",
    ),
]
AddonName = Annotated[
    str,
    _dns_label_check("add-on name", ADDON_NAME_MAX),
    _dns_label_schema(
        ADDON_NAME_MAX,
        "A DNS-1123 label of at most 53 characters (Helm's limit on release names).",
    ),
]
CheckName = Annotated[
    str,
    _dns_label_check("check name", 63),
    _dns_label_schema(63, "A DNS-1123 label of at most 63 characters."),
]
Namespace = Annotated[
    str,
    _dns_label_check("namespace", 63),
    _dns_label_schema(63, "A Kubernetes namespace: a DNS-1123 label of at most 63 characters."),
]

_LABEL_NAME_RE = re.compile(_LABEL_NAME)
_DNS_SUBDOMAIN_RE = re.compile(_DNS_SUBDOMAIN)


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a Kubernetes label (or taint) key, or ``None`` if it is one."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return f"{show(key)} is not a label key: the prefix before '/' is empty"
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN_RE.fullmatch(prefix)):
        return (
            f"{show(key)} is not a label key: the prefix {show(prefix)} must be a DNS subdomain "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)"
        )
    if len(name) > 63 or not _LABEL_NAME_RE.fullmatch(name):
        return (
            f"{show(key)} is not a label key: the name part must be 1-63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


def _check_label_key(key: str) -> str:
    reason = label_key_problem(key)
    if reason:
        raise problem(reason)
    return key


def _check_label_value(value: str) -> str:
    if value and (len(value) > 63 or not _LABEL_NAME_RE.fullmatch(value)):
        raise problem(
            f"{show(value)} is not a label value: use at most 63 letters, digits, '-', '_' or "
            "'.', starting and ending with a letter or digit (or leave it empty)"
        )
    return value


LabelKey = Annotated[
    str,
    AfterValidator(_check_label_key),
    JsonSchemaHint(
        {
            "pattern": rf"^({_DNS_SUBDOMAIN}/)?{_LABEL_NAME}$",
            "maxLength": 317,
            "description": "A Kubernetes label key: an optional DNS subdomain prefix and '/', "
            "then a name of at most 63 characters.",
        }
    ),
]
LabelValue = Annotated[
    str,
    AfterValidator(_check_label_value),
    JsonSchemaHint(
        {
            "pattern": rf"^({_LABEL_NAME})?$",
            "maxLength": 63,
            "description": "A Kubernetes label value: at most 63 letters, digits, '-', '_', '.'.",
        }
    ),
]
