"""``clusterforge argo render --chart``: the same manifests as a Helm chart.

A platform team installs clusterforge into its management cluster with one
``helm install``: the stage library, the sensors and the EventSource (from
:mod:`._render`), plus what the plain manifests leave to the operator —
ServiceAccounts with least-privilege RBAC, the default artifact repository
and the worker image.

The Argo documents go in ``files/`` and reach the output through
``.Files.Get``, never through Helm's template engine: their ``{{…}}`` are
Argo's expressions and must arrive untouched. The only substitution is the
worker image, a placeholder replaced by ``.Values.workerImage`` (checked
against ``values.schema.json`` before anything renders).

RBAC, from Argo's documentation of what each identity needs:

* the Workflow's pods (Argo's executor, v3.4 and later) report their outputs
  as ``workflowtaskresults``: create and patch, nothing else;
* the sensor's ``k8s`` trigger creates ``workflows``: create, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

from clusterforge.stages.argo._render import (
    SENSOR_ACCOUNT,
    WORKFLOW_ACCOUNT,
    Rendered,
    dump_all,
    with_worker_image,
)
from clusterforge.stages.parameters import WORKER_IMAGE

CHART_NAME = "clusterforge"
CHART_VERSION = "0.1.0"
IMAGE_PLACEHOLDER = "@@CLUSTERFORGE_WORKER_IMAGE@@"

_CHART_YAML = f"""\
apiVersion: v2
name: {CHART_NAME}
description: clusterforge's stage library, sensors and RBAC for Argo Workflows and Argo Events
type: application
version: {CHART_VERSION}
appVersion: "{CHART_VERSION}"
"""

_VALUES_YAML = f"""\
# The image every step of the stage library runs in (docker/worker in the
# clusterforge repository builds it).
workerImage: {WORKER_IMAGE}

# Create the release namespace from the chart (leave false with
# `helm install --create-namespace`).
createNamespace: false

serviceAccounts:
  workflow: {WORKFLOW_ACCOUNT}
  sensor: {SENSOR_ACCOUNT}

# Argo Events objects: the built-in sensors and their webhook EventSource.
# Needs Argo Events and an EventBus named `default` in the namespace.
events:
  enabled: true

# The namespace's default artifact repository (Argo reads the ConfigMap
# `artifact-repositories`); credentials come from an existing Secret.
artifactRepository:
  enabled: true
  s3:
    bucket: clusterforge-artifacts
    endpoint: s3.amazonaws.com
    region: us-east-1
    insecure: false
    keyFormat: "{{{{workflow.name}}}}/{{{{pod.name}}}}"
  credentialsSecret: clusterforge-artifacts
"""

_VALUES_SCHEMA = {
    "$schema": "https://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["workerImage", "serviceAccounts", "events", "artifactRepository"],
    "properties": {
        "workerImage": {
            "type": "string",
            "pattern": r"^[a-z0-9][a-z0-9._\-/]*(:[A-Za-z0-9._\-]+)?(@sha256:[a-f0-9]{64})?$",
        },
        "createNamespace": {"type": "boolean"},
        "serviceAccounts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "workflow": {"$ref": "#/definitions/name"},
                "sensor": {"$ref": "#/definitions/name"},
            },
        },
        "events": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"enabled": {"type": "boolean"}},
        },
        "artifactRepository": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "credentialsSecret": {"$ref": "#/definitions/name"},
                "s3": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["bucket", "endpoint"],
                    "properties": {
                        "bucket": {"type": "string", "minLength": 3},
                        "endpoint": {"type": "string", "minLength": 1},
                        "region": {"type": "string"},
                        "insecure": {"type": "boolean"},
                        "keyFormat": {"type": "string"},
                    },
                },
            },
        },
    },
    "definitions": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"},
    },
}

_NAMESPACE = """\
{{- if .Values.createNamespace }}
apiVersion: v1
kind: Namespace
metadata:
  name: {{ .Release.Namespace }}
  labels:
    app.kubernetes.io/part-of: clusterforge
{{- end }}
"""

# One identity: a ServiceAccount, a Role with one rule, and their binding.
_HELPERS = """\
{{- define "clusterforge.account" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .name }}
  labels:
    app.kubernetes.io/part-of: clusterforge
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ .name }}
  labels:
    app.kubernetes.io/part-of: clusterforge
rules:
- apiGroups: [argoproj.io]
  resources: [{{ .resource }}]
  verbs: [{{ join ", " .verbs }}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .name }}
  labels:
    app.kubernetes.io/part-of: clusterforge
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ .name }}
subjects:
- kind: ServiceAccount
  name: {{ .name }}
  namespace: {{ .namespace }}
{{- end }}
"""

# The workflow's pods: Argo's executor reports outputs as WorkflowTaskResults.
# The sensors: their k8s triggers create Workflows, and nothing else.
_ACCOUNTS = """\
{{- include "clusterforge.account" (dict "name" .Values.serviceAccounts.workflow
    "namespace" .Release.Namespace "resource" "workflowtaskresults"
    "verbs" (list "create" "patch")) }}
{{- if .Values.events.enabled }}
---
{{ include "clusterforge.account" (dict "name" .Values.serviceAccounts.sensor
    "namespace" .Release.Namespace "resource" "workflows" "verbs" (list "create")) }}
{{- end }}
"""

_ARTIFACTS = """\
{{- if .Values.artifactRepository.enabled }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: artifact-repositories
  labels:
    app.kubernetes.io/part-of: clusterforge
  annotations:
    workflows.argoproj.io/default-artifact-repository: clusterforge
data:
  clusterforge: |
    s3:
{{- toYaml .Values.artifactRepository.s3 | nindent 6 }}
      accessKeySecret:
        name: {{ .Values.artifactRepository.credentialsSecret }}
        key: accesskey
      secretKeySecret:
        name: {{ .Values.artifactRepository.credentialsSecret }}
        key: secretkey
{{- end }}
"""

# Files.Get returns the file as is: Argo's {{…}} never meet Helm's engine.
_TEMPLATES = f"""\
{{{{- range $path, $_ := .Files.Glob "files/workflowtemplates/*.yaml" }}}}
---
{{{{ $.Files.Get $path | replace "{IMAGE_PLACEHOLDER}" $.Values.workerImage }}}}
{{{{- end }}}}
"""

_EVENTS = """\
{{- if .Values.events.enabled }}
{{- range $path, $_ := .Files.Glob "files/events/*.yaml" }}
---
{{ $.Files.Get $path
   | replace "clusterforge-sensor" $.Values.serviceAccounts.sensor
   | replace "clusterforge-workflow" $.Values.serviceAccounts.workflow }}
{{- end }}
{{- end }}
"""


def write_chart(rendered: Rendered, directory: Path) -> Path:
    """Write the chart to ``directory/clusterforge``; returns the chart directory."""
    chart = directory / CHART_NAME
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(_CHART_YAML, encoding="utf-8")
    (chart / "values.yaml").write_text(_VALUES_YAML, encoding="utf-8")
    (chart / "values.schema.json").write_text(
        json.dumps(_VALUES_SCHEMA, indent=2) + "\n", encoding="utf-8"
    )
    templates = {
        "_helpers.tpl": _HELPERS,
        "namespace.yaml": _NAMESPACE,
        "serviceaccounts.yaml": _ACCOUNTS,
        "artifact-repository.yaml": _ARTIFACTS,
        "workflowtemplates.yaml": _TEMPLATES,
        "events.yaml": _EVENTS,
    }
    for name, text in templates.items():
        (chart / "templates" / name).write_text(text, encoding="utf-8")
    for name, docs in rendered.files.items():
        if name.startswith("workflowtemplates/"):
            docs = [with_worker_image(doc, IMAGE_PLACEHOLDER) for doc in docs]
        elif not name.startswith("events/"):
            continue  # a spec's Workflow is submitted, not installed
        target = chart / "files" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_all(docs), encoding="utf-8")
    return chart
