"""Version strings: the cluster's Kubernetes version and add-on/chart versions.

``kubernetesVersion`` is written ``MAJOR.MINOR`` (``"1.34"``) or with a patch
release (``"1.34.4"``), each optionally with a leading ``v``. What a provider
can build is narrower and is checked against the provider in
:mod:`clusterforge.spec.consistency`:

* kwok runs the toolchain clusterforge pins (``make setup``), Kubernetes
  :data:`KWOK_KUBERNETES_VERSION`; only that minor, and only that patch when one
  is given, is accepted.
* aws (EKS) picks the patch release itself, so only ``MAJOR.MINOR`` is accepted,
  from :data:`AWS_KUBERNETES_VERSIONS` — what EKS offered when this table was
  written; the aws provider's preflight asks EKS for the live list.

Add-on and chart versions must be exact SemVer (``"3.12.2"``, ``"v1.14.5"``):
a build is reproducible only if every piece is pinned, so ranges and ``latest``
are refused.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from clusterforge.spec._base import JsonSchemaHint, problem, show

#: The Kubernetes release the pinned kwok toolchain runs (keep equal to tools/' manifest).
KWOK_KUBERNETES_VERSION = "1.34.4"
#: Kubernetes minors an EKS cluster can be created with.
AWS_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.30", "1.31", "1.32", "1.33", "1.34")

_K8S = re.compile(r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?")
_SEMVER = (
    r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?"
)
_SEMVER_RE = re.compile(_SEMVER)


def kubernetes_minor(version: str) -> str:
    """``"1.34"`` for ``"1.34"``, ``"v1.34.4"`` or ``"1.34.4"``."""
    match = _K8S.fullmatch(version)
    if match is None:
        raise ValueError(version)
    return f"{match.group(1)}.{match.group(2)}"


def kubernetes_patch(version: str) -> str | None:
    """``"1.34.4"`` for ``"v1.34.4"``; ``None`` when no patch release is given."""
    match = _K8S.fullmatch(version)
    if match is None:
        raise ValueError(version)
    return f"{match.group(1)}.{match.group(2)}.{match.group(3)}" if match.group(3) else None


def _check_kubernetes_version(value: str) -> str:
    if not _K8S.fullmatch(value):
        raise problem(
            f"{show(value)} is not a Kubernetes version; write MAJOR.MINOR like '1.34' "
            "or a patch release like 'v1.34.4'"
        )
    return value


def _check_semver(value: str) -> str:
    if not _SEMVER_RE.fullmatch(value):
        raise problem(
            f"{show(value)} is not an exact version; pin one like '3.12.2' or 'v1.14.5' "
            "(ranges and 'latest' are not reproducible)"
        )
    return value


KubernetesVersion = Annotated[
    str,
    AfterValidator(_check_kubernetes_version),
    JsonSchemaHint(
        {
            "pattern": r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$",
            "examples": ["1.34", "v1.34.4"],
        }
    ),
]
SemVer = Annotated[
    str,
    AfterValidator(_check_semver),
    JsonSchemaHint({"pattern": f"^{_SEMVER}$", "examples": ["3.12.2", "v1.14.5"]}),
]


def is_semver(value: str) -> bool:
    """Whether ``value`` is an exact SemVer version (optionally ``v``-prefixed)."""
    return _SEMVER_RE.fullmatch(value) is not None
