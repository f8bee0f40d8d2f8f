"""Where artifacts and archived logs live in a repository: Argo's key layout.

Argo renders a repository's ``keyFormat`` (default
``{{workflow.name}}/{{pod.name}}``) per pod, and puts each output artifact
under it as ``<name>.tgz`` (archived, the default) or as the basename of its
``path`` (``archive: {none: {}}``); the main container's log is
``main.log`` under the same prefix. A key-only artifact (``s3: {key: …}`` with
no bucket) uses its own templated key against the default repository.

A key is a relative POSIX path. One that starts with ``/``, holds a ``..``
segment, a backslash or a NUL, would leave the workflow's prefix (or the
repository's root) once rendered, so it is refused with the field named —
including when the ``..`` only appears after substitution.
"""

from __future__ import annotations

from collections.abc import Mapping

from clusterforge.errors import InvalidInput
from clusterforge.workflow.expressions import ExpressionError, substitute

DEFAULT_KEY_FORMAT = "{{workflow.name}}/{{pod.name}}"
"""Argo's key format when the repository names none."""

LOG_NAME = "main.log"
"""The archived log of an attempt, under the attempt's key prefix (Argo's name)."""


class UnsafeKey(InvalidInput):
    """A rendered key would leave the workflow's prefix or the repository."""


def checked_key(key: str, field: str) -> str:
    """``key`` if it is a safe relative key; otherwise an error naming ``field``."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise UnsafeKey(f"{field}: key {key!r} must be a non-empty relative path")
    parts = key.split("/")
    if ".." in parts or "." in parts:
        raise UnsafeKey(
            f"{field}: key {key!r} has a '..' or '.' segment and would leave the "
            "workflow's prefix; use a plain path under it"
        )
    return "/".join(p for p in parts if p)


def render_key(template: str, values: Mapping[str, str], field: str) -> str:
    """Render a templated key (``keyFormat``, an artifact's ``key``) and check it."""
    try:
        rendered = substitute(template, values, missing="error")
    except ExpressionError as err:
        raise InvalidInput(f"{field}: cannot render key {template!r}: {err}") from None
    return checked_key(rendered, field)


def key_prefix(key_format: str | None, values: Mapping[str, str]) -> str:
    """The rendered key prefix of one pod (attempt) of a workflow."""
    return render_key(key_format or DEFAULT_KEY_FORMAT, values, "keyFormat")


def output_key(prefix: str, name: str, path: str, archived: bool) -> str:
    """The key of output artifact ``name`` (from ``path``) under ``prefix``."""
    if archived:
        return checked_key(f"{prefix}/{name}.tgz", f"outputs.artifacts.{name}")
    base = path.rstrip("/").rsplit("/", 1)[-1]
    return checked_key(f"{prefix}/{base}", f"outputs.artifacts.{name}")


def log_key(prefix: str) -> str:
    """The key of an attempt's archived log."""
    return checked_key(f"{prefix}/{LOG_NAME}", "archiveLogs")


def key_values(workflow: Mapping[str, str], pod_name: str) -> dict[str, str]:
    """The variables a ``keyFormat`` may use: ``workflow.*`` plus ``pod.name``."""
    return {**workflow, "pod.name": pod_name}
