"""The stage library on a real Argo: render it, package it, lint it.

The same WorkflowTemplates and Sensors that run on this machine become
manifests for a management cluster (:func:`render`), a Helm chart
(:func:`write_chart`), and are checked with Argo's own JSON schema and Go
validator (:func:`lint_manifests`). This lives under stages because it is
about the cluster pipeline's documents; an Argo engine backend submits and
watches workflows and needs none of it.
"""

from clusterforge.stages.argo._chart import write_chart
from clusterforge.stages.argo._install import Installed, install
from clusterforge.stages.argo._lint import ArgoLintReport, lint_manifests, manifest_files
from clusterforge.stages.argo._management import Management, down, status, up
from clusterforge.stages.argo._render import Rendered, render, workflow_templates
from clusterforge.stages.argo._schemas import ArgoSchemas, load_schemas

__all__ = [
    "ArgoLintReport",
    "ArgoSchemas",
    "Installed",
    "Management",
    "Rendered",
    "down",
    "install",
    "lint_manifests",
    "load_schemas",
    "manifest_files",
    "render",
    "status",
    "up",
    "workflow_templates",
    "write_chart",
]
