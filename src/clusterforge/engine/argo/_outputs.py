"""Argo's outputs of a finished host process, and the objects that report them.

What Argo's ``wait`` container would do after ``main`` exits, done on the
host: read each output parameter's ``valueFrom.path`` (``/tmp/…`` from the
step's private /tmp, anything else from the host's filesystem), fall back to
``valueFrom.default`` when the file is missing, trim one trailing newline,
and capture stdout as ``outputs.result`` when the controller asked for it
(last 256 kB). The results become a ``WorkflowTaskResult`` (named after the
node, labelled complete, owned by the Workflow) and a pod status whose
containers are terminated with the exit codes a kubelet would report.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterforge.engine.argo._pod import MAIN, WAIT, WORKFLOW_LABEL, PodStep

_RESULT_LIMIT = 256 * 1024
COMPLETED_LABEL = "workflows.argoproj.io/report-outputs-completed"


@dataclass
class Collected:
    """Outputs gathered after the main process ended; ``error`` makes ``wait`` fail."""

    parameters: list[dict[str, Any]] = field(default_factory=list)
    result: str | None = None
    error: str | None = None


def collect(step: PodStep, tmp_dir: Path, stdout: Path) -> Collected:
    collected = Collected()
    outputs = step.template.get("outputs") or {}
    for parameter in outputs.get("parameters") or []:
        value_from = parameter.get("valueFrom") or {}
        path = value_from.get("path")
        if not path:
            continue
        value = _read(str(path), tmp_dir)
        if value is None:
            if "default" not in value_from:
                collected.error = f"output parameter {parameter.get('name')!r}: {path} not found"
                continue
            value = str(value_from["default"])
        collected.parameters.append(
            {"name": parameter.get("name"), "value": value.removesuffix("\n")}
        )
    if step.include_result:
        text = stdout.read_bytes()[-_RESULT_LIMIT:].decode("utf-8", "replace")
        collected.result = text.removesuffix("\n")
    return collected


def _read(path: str, tmp_dir: Path) -> str | None:
    target = Path(path)
    if target.parts[:2] == ("/", "tmp"):
        target = tmp_dir.joinpath(*target.parts[2:])
    try:
        return target.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def task_result(step: PodStep, collected: Collected) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    if collected.parameters:
        outputs["parameters"] = collected.parameters
    if collected.result is not None:
        outputs["result"] = collected.result
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTaskResult",
        "metadata": {
            "name": step.node_id,
            "namespace": step.namespace,
            "labels": {WORKFLOW_LABEL: step.workflow, COMPLETED_LABEL: "true"},
            "ownerReferences": [
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Workflow",
                    "name": step.workflow,
                    "uid": step.workflow_uid,
                }
            ],
        },
        "outputs": outputs,
    }


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_status(
    pod: dict[str, Any], exit_code: int, started: str, message: str | None, wait_error: str | None
) -> dict[str, Any]:
    """The status a kubelet reports once every container of ``pod`` has ended."""
    finished = now()
    spec = pod.get("spec") or {}

    def terminated(name: str, code: int, text: str | None = None) -> dict[str, Any]:
        state: dict[str, Any] = {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": started,
            "finishedAt": finished,
        }
        if text:
            state["message"] = text
        image = next(
            (
                c.get("image", "")
                for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
                if c.get("name") == name
            ),
            "",
        )
        return {
            "name": name,
            "ready": False,
            "restartCount": 0,
            "image": image,
            "imageID": "",
            "started": False,
            "state": {"terminated": state},
        }

    statuses = []
    for container in spec.get("containers") or []:
        name = container.get("name")
        if name == MAIN:
            statuses.append(terminated(name, exit_code, message))
        elif name == WAIT and wait_error:
            statuses.append(terminated(name, 1, wait_error))
        else:
            statuses.append(terminated(name, 0))
    failed = exit_code != 0 or wait_error is not None
    return {
        "phase": "Failed" if failed else "Succeeded",
        "initContainerStatuses": [
            terminated(c.get("name"), 0) for c in spec.get("initContainers") or []
        ],
        "containerStatuses": statuses,
    }
