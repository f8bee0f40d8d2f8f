"""The build, stage and teardown endpoints, and the shipped sensors that describe them.

The server here only accepts (``workers=0``): builds are stored and stay
Pending, so no cluster is built. Running a real build over the API is in
``test_remote_build.py`` (marked ``cluster``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from clusterforge.api import BUILTIN_SENSOR_DIR, QueuedEngine, event_name, pipeline_event
from clusterforge.api.triggers import Event, SensorSet, load_sensor_files
from clusterforge.engine import LocalEngine, Submission
from clusterforge.spec import load_spec
from clusterforge.stages import STAGES, Pipeline
from clusterforge.store import Store
from clusterforge.templates import TEMPLATE_DIR

from .conftest import Server, start_server, stop_server

EXAMPLE = Path(__file__).parents[2] / "examples" / "dev-cluster.yaml"
TEMPLATES = {
    "build": "cluster-build",
    "preflight": "preflight",
    "core": "cluster-core",
    "addons": "addons",
    "validation": "validation",
    "destroy": "cluster-teardown",
}


@pytest.fixture(scope="module")
def accepting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("accept-only")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLUSTERFORGE_HOME", str(home))
        server = start_server(home, workers=0)
        try:
            yield server
        finally:
            stop_server(server)


def _spec(name: str = "api-dev") -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    doc["metadata"]["name"] = name
    return doc


def test_builtin_sensors_make_what_the_pipeline_submits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path))
    engine = QueuedEngine(LocalEngine(tmp_path), workers=0)
    pipeline = Pipeline(engine)
    sensors = SensorSet(load_sensor_files([BUILTIN_SENSOR_DIR]))
    spec = load_spec(EXAMPLE)
    records = [pipeline.build(spec)]
    records += [pipeline.stage(spec.name, stage) for stage in STAGES]
    records.append(pipeline.destroy(spec.name))
    assert [r.stage for r in records] == ["build", *STAGES, "destroy"]
    for record in records:
        event = Event("clusterforge", event_name(record.stage), "e", pipeline_event(record))
        result = sensors.dispatch(event)
        assert result.rejected == []
        [fired] = result.fired
        workflow = fired.workflow
        assert workflow["metadata"]["name"] == record.id
        assert workflow["metadata"]["labels"] == {
            "clusterforge.dev/cluster": record.cluster,
            "clusterforge.dev/stage": record.stage,
        }
        assert workflow["spec"]["workflowTemplateRef"] == {"name": TEMPLATES[record.stage]}
        params = {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}
        stored = engine.store.get_workflow(record.id)
        assert stored is not None
        assert params == record.parameters == stored.arguments
        assert stored.labels == workflow["metadata"]["labels"]
        # the engine accepts the sensor's workflow and runs the same templates from it
        twin = copy.deepcopy(workflow)
        twin["metadata"]["name"] = f"{record.id}-twin"
        prepared = engine.prepare(Submission(text=json.dumps(twin), template_dirs=(TEMPLATE_DIR,)))
        assert prepared.manifest["spec"]["entrypoint"] == stored.manifest["spec"]["entrypoint"]
        assert prepared.manifest["spec"]["templates"] == stored.manifest["spec"]["templates"]


def test_the_builtin_sensors_reject_a_malformed_pipeline_event() -> None:
    sensors = SensorSet(load_sensor_files([BUILTIN_SENSOR_DIR]))
    result = sensors.dispatch(
        Event("clusterforge", "build", "e", {"build": "x", "cluster": "Bad Name", "stage": "build"})
    )
    assert result.fired == []
    assert "body.cluster = 'Bad Name' does not match" in result.rejected[0]


def test_build_then_stage_then_teardown(accepting: Server) -> None:
    with accepting.client() as c:
        built = c.post("/api/v1/builds", json=_spec())
        assert built.status_code == 202, built.text
        answer = built.json()
        assert answer["cluster"] == "api-dev"
        assert answer["stage"] == "build"
        assert answer["phase"] == "Pending"
        assert set(answer["urls"]) == {"status", "logs", "events"}
        doc = c.get(answer["urls"]["status"]).json()
        assert doc["metadata"]["labels"]["clusterforge.dev/cluster"] == "api-dev"

        stage = c.post(
            "/api/v1/clusters/api-dev/stages/addons",
            json={"spec": {"addons": {"metrics-server": "none"}}},
        )
        assert stage.status_code == 202, stage.text
        stored = Store(accepting.home / "state.db").get_workflow(stage.json()["id"])
        assert stored is not None
        assert stored.arguments["addon-metrics-server"] == "none"  # the override
        assert stored.arguments["cluster-name"] == "api-dev"
        listed = c.get("/api/v1/builds", params={"cluster": "api-dev"}).json()["items"]
        assert {i["stage"] for i in listed} == {"build", "addons"}
        assert (
            c.get("/api/v1/builds", params={"cluster": "api-dev", "stage": "addons"}).json()[
                "items"
            ][0]["id"]
            == stage.json()["id"]
        )

        bad = c.post(
            "/api/v1/clusters/api-dev/stages/core",
            json={"spec": {"nodeGroups": [{"name": "general", "desired": -1}]}},
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["field"].startswith("spec.nodeGroups[0]")

        fleet = c.get("/api/v1/clusters").json()
        assert [c_["name"] for c_ in fleet] == ["api-dev"]

        down = c.delete("/api/v1/clusters/api-dev")
        assert down.status_code == 202
        assert down.json()["stage"] == "destroy"


def test_a_build_with_an_idempotency_key_is_stored_once(accepting: Server) -> None:
    with accepting.client() as c:
        headers = {"Idempotency-Key": "build-once"}
        first = c.post("/api/v1/builds", json=_spec("once"), headers=headers)
        second = c.post("/api/v1/builds", json=_spec("once"), headers=headers)
        assert first.status_code == second.status_code == 202
        assert first.json()["id"] == second.json()["id"]
        builds = c.get("/api/v1/builds", params={"cluster": "once"}).json()["items"]
        assert [b["id"] for b in builds] == [first.json()["id"]]


def test_the_openapi_document_describes_the_spec_body(accepting: Server) -> None:
    doc = httpx.get(f"{accepting.url}/openapi.json").json()
    body = doc["paths"]["/api/v1/builds"]["post"]["requestBody"]
    assert "application/json" in body["content"]
