"""``clusterforge argo render``: the stage library as manifests for a real Argo.

What a management cluster needs is exactly what runs here: every
WorkflowTemplate of the shipped stage library (the four stages, the master
``cluster-build`` and ``cluster-teardown``), the built-in Sensors behind the
build, stage and destroy endpoints (with ``k8s`` create triggers, see
:mod:`._sensors`), and the webhook EventSource they listen to. Given a
cluster spec, the Workflow that ``clusterforge build`` would submit is written
too, with the same parameters.

Documents are re-serialised from the parsed files (comments are not kept),
so every output is plain YAML that ``kubectl apply`` or a GitOps tool takes
as is; the layout is one file per concern.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clusterforge.errors import InvalidInput
from clusterforge.spec import ClusterSpec, spec_document
from clusterforge.stages.argo._sensors import event_source, to_k8s_triggers
from clusterforge.stages.parameters import WORKER_IMAGE, build_parameters
from clusterforge.templates import TEMPLATE_DIR
from clusterforge.workflow import read_yaml

WORKFLOW_ACCOUNT = "clusterforge-workflow"
SENSOR_ACCOUNT = "clusterforge-sensor"
#: Where a Workflow's steps keep build artifacts inside the worker pod.
POD_ARTIFACTS_DIR = "/var/lib/clusterforge/artifacts"
_MAX_BYTES = 4 << 20


@dataclass
class Rendered:
    """Every manifest, grouped by the file it is written to."""

    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def documents(self, prefix: str = "") -> list[dict[str, Any]]:
        return [doc for name, docs in self.files.items() if name.startswith(prefix) for doc in docs]

    def write(self, directory: Path) -> list[Path]:
        """Write each file under ``directory``; returns the paths written."""
        written = []
        for name, docs in self.files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dump_all(docs), encoding="utf-8")
            written.append(path)
        return written


def dump_all(docs: Iterable[dict[str, Any]]) -> str:
    """YAML documents, keys in their given order, long strings unwrapped."""
    return yaml.safe_dump_all(list(docs), sort_keys=False, width=10_000, allow_unicode=True)


def read_documents(path: Path) -> list[dict[str, Any]]:
    """The mapping documents of one shipped YAML file."""
    text = path.read_text(encoding="utf-8")
    if len(text) > _MAX_BYTES:
        raise InvalidInput(f"{path}: larger than {_MAX_BYTES} bytes")
    return [doc.data for doc in read_yaml(text, str(path)) if isinstance(doc.data, dict)]


def workflow_templates() -> list[dict[str, Any]]:
    """Every WorkflowTemplate of the shipped stage library, by file name."""
    docs = []
    for path in sorted(TEMPLATE_DIR.glob("*.yaml")):
        docs += [doc for doc in read_documents(path) if doc.get("kind") == "WorkflowTemplate"]
    if not docs:
        raise InvalidInput(f"no WorkflowTemplate found in {TEMPLATE_DIR}")
    return docs


def render(
    sensor_files: Iterable[Path],
    spec: ClusterSpec | None = None,
    *,
    worker_image: str = WORKER_IMAGE,
) -> Rendered:
    """The stage library, the sensors and an EventSource (and a spec's Workflow)."""
    rendered = Rendered()
    for template in workflow_templates():
        rendered.files[f"workflowtemplates/{template['metadata']['name']}.yaml"] = [
            with_worker_image(template, worker_image)
        ]
    sensors = [
        to_k8s_triggers(doc, sensor_account=SENSOR_ACCOUNT, workflow_account=WORKFLOW_ACCOUNT)
        for path in sorted(sensor_files)
        for doc in read_documents(path)
        if doc.get("kind") == "Sensor"
    ]
    rendered.files["events/sensors.yaml"] = sensors
    rendered.files["events/eventsource.yaml"] = [event_source(sensors)]
    if spec is not None:
        rendered.files["workflow.yaml"] = [build_workflow(spec, worker_image)]
    return rendered


def with_worker_image(template: dict[str, Any], image: str) -> dict[str, Any]:
    """A copy of ``template`` whose ``worker-image`` parameter defaults to ``image``."""
    template = copy.deepcopy(template)
    arguments = template.get("spec", {}).get("arguments", {})
    for parameter in arguments.get("parameters") or []:
        if parameter.get("name") == "worker-image":
            parameter["value"] = image
    return template


def build_workflow(spec: ClusterSpec, worker_image: str) -> dict[str, Any]:
    """The Workflow ``clusterforge build`` submits for ``spec``, for a real Argo."""
    name = spec_document(spec)["metadata"]["name"]
    params = build_parameters(spec, artifacts_dir=Path(POD_ARTIFACTS_DIR))
    params["worker-image"] = worker_image
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": f"{name}-build-",
            "labels": {"clusterforge.dev/cluster": name, "clusterforge.dev/stage": "build"},
        },
        "spec": {
            "workflowTemplateRef": {"name": "cluster-build"},
            "serviceAccountName": WORKFLOW_ACCOUNT,
            "arguments": {
                "parameters": [{"name": key, "value": value} for key, value in params.items()]
            },
        },
    }
