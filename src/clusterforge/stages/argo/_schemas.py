"""Argo's own JSON schemas, read from the Go module cache.

The pinned argo-workflows module (the one ``argo-validate`` and the
workflow-controller are built from) ships ``api/jsonschema/schema.json``, and
the argo-events module it depends on ships the same for Sensors and
EventSources. Reading them from the module cache means the schema always
matches the validator's version and nothing is copied into this repository.

Argo's workflow schema declares Kubernetes' int-or-string as a string only,
while the API server (and the controller) accept an integer there, e.g.
``activeDeadlineSeconds: 10`` or a ``retryStrategy.limit: 3``; that one
definition is widened to string-or-integer before use.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from clusterforge.errors import NotFound
from clusterforge.tools import load_manifest

WORKFLOWS_MODULE = "github.com/argoproj/argo-workflows/v3"
EVENTS_MODULE = "github.com/argoproj/argo-events"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_MAX_SCHEMA_BYTES = 16 << 20
_REQUIRE = re.compile(r"^\s*(?:require\s+)?github\.com/argoproj/argo-events\s+(v\S+)", re.MULTILINE)

#: kind → the definition that describes it, per schema.
WORKFLOW_KINDS = {
    "Workflow": "io.argoproj.workflow.v1alpha1.Workflow",
    "WorkflowTemplate": "io.argoproj.workflow.v1alpha1.WorkflowTemplate",
    "ClusterWorkflowTemplate": "io.argoproj.workflow.v1alpha1.ClusterWorkflowTemplate",
    "CronWorkflow": "io.argoproj.workflow.v1alpha1.CronWorkflow",
}
EVENTS_KINDS = {
    "Sensor": "io.argoproj.events.v1alpha1.Sensor",
    "EventSource": "io.argoproj.events.v1alpha1.EventSource",
}


@dataclass(frozen=True)
class ArgoSchemas:
    """Both schemas, with the module versions they come from."""

    workflows_version: str
    events_version: str
    workflows: dict[str, Any]
    events: dict[str, Any]

    def for_kind(self, kind: str) -> tuple[dict[str, Any], str] | None:
        """``(schema, definition)`` describing ``kind``, or None for other kinds."""
        if kind in WORKFLOW_KINDS:
            return self.workflows, WORKFLOW_KINDS[kind]
        if kind in EVENTS_KINDS:
            return self.events, EVENTS_KINDS[kind]
        return None


def module_cache() -> Path:
    """Go's module cache: ``$GOMODCACHE``, ``go env GOMODCACHE``, or ``~/go/pkg/mod``."""
    if os.environ.get("GOMODCACHE"):
        return Path(os.environ["GOMODCACHE"])
    go = shutil.which("go")
    if go is not None:
        done = subprocess.run(
            [go, "env", "GOMODCACHE"], capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip())
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    return Path(gopath.split(os.pathsep)[0]) / "pkg" / "mod"


def _escaped(module: str) -> str:
    """The module cache's case encoding: ``A`` → ``!a``."""
    return re.sub(r"[A-Z]", lambda match: "!" + match.group(0).lower(), module)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_SCHEMA_BYTES + 1)
    except OSError:
        raise NotFound(
            f"{what} is not in the Go module cache ({path}); run "
            "`clusterforge tools install argo-validate`, which downloads the module"
        ) from None
    if len(raw) > _MAX_SCHEMA_BYTES:
        raise NotFound(f"{path} is larger than {_MAX_SCHEMA_BYTES} bytes; is it a schema?")
    data: dict[str, Any] = json.loads(raw)
    return data


def workflows_module_dir(cache_dir: Path | None = None) -> Path:
    """Where the pinned argo-workflows module's files are (CRDs, schema, go.mod)."""
    version = load_manifest().sources["argo"].version
    return (cache_dir or module_cache()) / f"{_escaped(WORKFLOWS_MODULE)}@{version}"


@cache
def load_schemas(cache_dir: Path | None = None) -> ArgoSchemas:
    """The schemas of the pinned argo-workflows and the argo-events it requires."""
    root = cache_dir or module_cache()
    version = load_manifest().sources["argo"].version
    module_dir = workflows_module_dir(root)
    workflows = _read_json(
        module_dir / "api" / "jsonschema" / "schema.json", f"{WORKFLOWS_MODULE} {version}"
    )
    definitions = workflows.get("definitions", {})
    if _INT_OR_STRING in definitions:
        definitions[_INT_OR_STRING] = {"type": ["integer", "string"]}
    try:
        go_mod = (module_dir / "go.mod").read_text(encoding="utf-8")
    except OSError:
        go_mod = ""
    match = _REQUIRE.search(go_mod)
    if match is None:
        raise NotFound(f"{module_dir}/go.mod names no {EVENTS_MODULE} version")
    events_version = match.group(1)
    events = _read_json(
        root / f"{_escaped(EVENTS_MODULE)}@{events_version}" / "api" / "jsonschema" / "schema.json",
        f"{EVENTS_MODULE} {events_version}",
    )
    return ArgoSchemas(version, events_version, workflows, events)
