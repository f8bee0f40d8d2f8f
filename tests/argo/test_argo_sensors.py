"""The sensor rewrite for Argo Events: argoWorkflow submit → k8s create."""

from __future__ import annotations

from typing import Any

import pytest

from clusterforge.errors import InvalidInput
from clusterforge.stages.argo._sensors import event_source, to_k8s_triggers


def _sensor(argo: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Sensor",
        "metadata": {"name": "s"},
        "spec": {
            "dependencies": [
                {"name": "d", "eventSourceName": "clusterforge", "eventName": "go"},
                {"name": "e", "eventSourceName": "elsewhere", "eventName": "other"},
            ],
            "triggers": [
                {"template": {"name": "t", "conditions": "d", "argoWorkflow": argo}},
                {"template": {"name": "log", "log": {}}},
            ],
        },
    }


def test_submit_becomes_create_keeping_source_parameters_and_conditions() -> None:
    resource = {"kind": "Workflow", "spec": {"workflowTemplateRef": {"name": "x"}}}
    params = [{"src": {"dependencyName": "d", "dataKey": "body.a"}, "dest": "metadata.name"}]
    original = _sensor(
        {"operation": "submit", "source": {"resource": resource}, "parameters": params}
    )

    converted = to_k8s_triggers(original, sensor_account="sa", workflow_account="wa")

    first, second = converted["spec"]["triggers"]
    assert first["template"] == {
        "name": "t",
        "conditions": "d",
        "k8s": {
            "operation": "create",
            "source": {
                "resource": {
                    "kind": "Workflow",
                    "spec": {"workflowTemplateRef": {"name": "x"}, "serviceAccountName": "wa"},
                }
            },
            "parameters": params,
        },
    }
    assert second == {"template": {"name": "log", "log": {}}}
    assert converted["spec"]["template"] == {"serviceAccountName": "sa"}
    # the input is left as it was
    assert "argoWorkflow" in original["spec"]["triggers"][0]["template"]


@pytest.mark.parametrize(
    ("argo", "field"),
    [
        ({"operation": "resubmit", "source": {"resource": {}}}, "operation"),
        ({"operation": "submit", "source": {"url": {"path": "x"}}}, "source.resource"),
    ],
)
def test_what_cannot_become_a_create_is_refused_by_field(argo: dict[str, Any], field: str) -> None:
    with pytest.raises(
        InvalidInput, match=rf"Sensor s: spec\.triggers\[0\]\.template\.argoWorkflow\.{field}"
    ):
        to_k8s_triggers(_sensor(argo), sensor_account="sa", workflow_account="wa")


def test_the_event_source_has_an_endpoint_per_clusterforge_event_only() -> None:
    source = event_source([_sensor({"source": {"resource": {}}})], port="9999")
    assert source["spec"]["webhook"] == {
        "go": {"endpoint": "/go", "method": "POST", "port": "9999", "url": ""}
    }
