"""The cluster a workflow runs against: a kubeconfig *path*, never its content.

On Argo a workflow runs inside a cluster: a ``resource`` template creates
objects there, a ``configMapKeyRef`` reads a ConfigMap there, and both use the
workflow's namespace. The local engine runs on a host, so the cluster is
named at submission — ``clusterforge run/submit --kubeconfig K [--namespace N]``
— and carried as a :class:`ClusterRef`: the kubeconfig's absolute path and
the namespace. The content is read once, bounded, to refuse a missing or
malformed file at submission with an error naming ``--kubeconfig``; it is
never stored, logged or shown (a kubeconfig holds credentials). ``kubectl``
reads the file itself each time a step needs the cluster.

The reference lives in the stored workflow as the annotation
:data:`KUBECONFIG_ANNOTATION` (a path, like any other metadata; the
namespace is the workflow's own ``metadata.namespace``), so a detached run,
``resume`` and ``retry`` act on the same cluster. The operator gets it with
:func:`cluster_of`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clusterforge.errors import InvalidInput
from clusterforge.safety import LimitExceeded, load_yaml_documents, read_text

__all__ = [
    "KUBECONFIG_ANNOTATION",
    "KUBECONFIG_MAX_BYTES",
    "ClusterRef",
    "annotate",
    "check_namespace",
    "cluster_of",
    "cluster_ref",
    "resource_user",
]

KUBECONFIG_ANNOTATION = "workflows.clusterforge.io/kubeconfig"
"""The stored workflow's annotation holding the kubeconfig's absolute path."""

KUBECONFIG_MAX_BYTES = 1 << 20
"""A kubeconfig is a few KiB; past 1 MiB it is not one (and is not read further)."""

_FIX = "give the path of a kubeconfig file, e.g. --kubeconfig ~/.kube/config"


@dataclass(frozen=True)
class ClusterRef:
    """A cluster by reference: where its kubeconfig is, and the namespace to use."""

    kubeconfig: str
    """Absolute path of the kubeconfig file (read by kubectl, never by the store)."""

    namespace: str = "default"


def check_namespace(namespace: str, option: str = "--namespace") -> str:
    """``namespace`` when it is a Kubernetes namespace name (a DNS-1123 label)."""
    ok = (
        0 < len(namespace) <= 63
        and namespace[0].isalnum()
        and namespace[-1].isalnum()
        and all(c.islower() or c.isdigit() or c == "-" for c in namespace)
        and namespace.isascii()
    )
    if not ok:
        raise InvalidInput(
            f"{option} {namespace!r}: not a namespace name; use at most 63 lowercase "
            "letters, digits and '-', starting and ending with a letter or digit"
        )
    return namespace


def cluster_ref(
    kubeconfig: str | os.PathLike[str], namespace: str = "default", *, option: str = "--kubeconfig"
) -> ClusterRef:
    """A checked :class:`ClusterRef`: the file exists, is small, and is a kubeconfig.

    ``option`` names the setting in errors (``--kubeconfig``, or an API field).
    Nothing of the file's content appears in an error.
    """
    raw = os.fspath(kubeconfig)
    if not raw or "\x00" in raw:
        raise InvalidInput(f"{option}: empty or not a path; {_FIX}")
    path = Path(raw).expanduser().absolute()
    if not path.is_file():
        reason = "is not a file" if path.exists() else "does not exist"
        raise InvalidInput(f"{option} {path}: {reason}; {_FIX}")
    try:
        text = read_text(path, limit=KUBECONFIG_MAX_BYTES)
        documents = load_yaml_documents(text, option)
    except LimitExceeded:
        raise InvalidInput(
            f"{option} {path}: larger than {KUBECONFIG_MAX_BYTES:,} bytes, so not a "
            f"kubeconfig; {_FIX}"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        what = err.strerror if isinstance(err, OSError) else "not readable as YAML"
        raise InvalidInput(f"{option} {path}: {what}; {_FIX}") from None
    config = documents[0] if len(documents) == 1 else None
    if not isinstance(config, Mapping) or not isinstance(config.get("clusters"), list):
        raise InvalidInput(f"{option} {path}: not a kubeconfig (no 'clusters' list); {_FIX}")
    return ClusterRef(str(path), check_namespace(namespace, "namespace"))


def annotate(manifest: dict[str, Any], ref: ClusterRef) -> None:
    """Record ``ref`` in a workflow manifest about to be stored (its namespace is the
    workflow's own, stored as ``metadata.namespace`` by the caller)."""
    metadata = manifest.setdefault("metadata", {})
    metadata.setdefault("annotations", {})[KUBECONFIG_ANNOTATION] = ref.kubeconfig


def cluster_of(manifest: Mapping[str, Any], namespace: str) -> ClusterRef | None:
    """The cluster a stored workflow runs against, or ``None`` when none was given."""
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    path = annotations.get(KUBECONFIG_ANNOTATION)
    if not isinstance(path, str) or not path:
        return None
    return ClusterRef(path, namespace or "default")


def resource_user(spec: Mapping[str, Any], snapshots: Mapping[str, Any]) -> str | None:
    """Where the first ``resource`` template of a workflow is (``spec.templates[i]``,
    a snapshotted WorkflowTemplate's, or an inline one), or ``None`` when it has none:
    such a workflow cannot run without a cluster."""
    found = _find_resource(spec, "spec")
    if found:
        return found
    for key, doc in sorted(snapshots.items()):
        found = _find_resource((doc or {}).get("spec") or {}, f"templateRef {key}: spec")
        if found:
            return found
    return None


def _find_resource(value: Any, where: str) -> str | None:
    """Depth-first: the path of the first mapping with a ``resource`` that has an ``action``."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, Mapping):
            resource = item.get("resource")
            if isinstance(resource, Mapping) and "action" in resource:
                name = item.get("name")
                return f"{at}.resource" + (f" (template {name!r})" if name else "")
            stack.extend((v, f"{at}.{k}") for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None
