"""The built-in sensors, made ready for a real Argo Events.

The API runs its Sensor documents itself and understands only
``argoWorkflow`` triggers with ``operation: submit``. On a management
cluster that trigger shells out to the ``argo`` CLI inside the sensor pod;
a ``k8s`` trigger with ``operation: create`` makes the same Workflow through
the Kubernetes API instead, needing nothing but RBAC to create workflows.
This module rewrites each trigger that way — source, parameters and
conditions kept — names the ServiceAccount the sensor pod runs as, and the
one the Workflow runs as, and derives the webhook ``EventSource`` that
serves every event the sensors listen to.
"""

from __future__ import annotations

import copy
from typing import Any

from clusterforge.errors import InvalidInput

EVENT_SOURCE = "clusterforge"
WEBHOOK_PORT = "12000"


def to_k8s_triggers(
    sensor: dict[str, Any], *, sensor_account: str, workflow_account: str
) -> dict[str, Any]:
    """A copy of ``sensor`` whose argoWorkflow triggers are k8s create triggers."""
    result = copy.deepcopy(sensor)
    spec = result.get("spec")
    name = result.get("metadata", {}).get("name", "?")
    if not isinstance(spec, dict):
        raise InvalidInput(f"Sensor {name}: spec must be a mapping")
    spec.setdefault("template", {})["serviceAccountName"] = sensor_account
    for index, trigger in enumerate(spec.get("triggers") or []):
        template = trigger.get("template") if isinstance(trigger, dict) else None
        if not isinstance(template, dict) or "argoWorkflow" not in template:
            continue
        argo = template.pop("argoWorkflow")
        where = f"Sensor {name}: spec.triggers[{index}].template.argoWorkflow"
        if argo.get("operation", "submit") != "submit":
            raise InvalidInput(f"{where}.operation: only submit becomes a k8s create trigger")
        resource = (argo.get("source") or {}).get("resource")
        if not isinstance(resource, dict):
            raise InvalidInput(f"{where}.source.resource: an inline Workflow is required")
        resource.setdefault("spec", {}).setdefault("serviceAccountName", workflow_account)
        k8s: dict[str, Any] = {"operation": "create", "source": {"resource": resource}}
        if argo.get("parameters"):
            k8s["parameters"] = argo["parameters"]
        template["k8s"] = k8s
    return result


def event_source(sensors: list[dict[str, Any]], *, port: str = WEBHOOK_PORT) -> dict[str, Any]:
    """The webhook EventSource serving every event the sensors depend on."""
    events: set[str] = set()
    for sensor in sensors:
        for dependency in sensor.get("spec", {}).get("dependencies") or []:
            if dependency.get("eventSourceName") == EVENT_SOURCE:
                events.add(str(dependency["eventName"]))
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "EventSource",
        "metadata": {
            "name": EVENT_SOURCE,
            "labels": {"app.kubernetes.io/part-of": "clusterforge"},
        },
        "spec": {
            # `url` is unused by a webhook source, but Argo Events declares it
            # without omitempty, so its schema requires the key.
            "webhook": {
                event: {"endpoint": f"/{event}", "method": "POST", "port": port, "url": ""}
                for event in sorted(events)
            }
        },
    }
