"""Argo Server's API, driven by Hera's own ``WorkflowsService`` client against a
real ``clusterforge serve`` (its console entry point, uvicorn on loopback).

One server for the module; the workflows are small DAGs whose steps leave
marks in files the test owns, so a retry that keeps succeeded nodes is seen
from outside the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hera.exceptions import AlreadyExists, BadRequest, NotFound, Unauthorized
from hera.workflows import (
    DAG,
    Container,
    Parameter,
    Steps,
    Suspend,
    Workflow,
    WorkflowsService,
    WorkflowTemplate,
)
from hera.workflows.models import (
    SubmitOpts,
    WorkflowCreateRequest,
    WorkflowResumeRequest,
    WorkflowRetryRequest,
    WorkflowStopRequest,
    WorkflowSubmitRequest,
    WorkflowTemplateCreateRequest,
    WorkflowTemplateRef,
    WorkflowTerminateRequest,
)
from hera.workflows.models import (
    Workflow as WorkflowModel,
)

from tests.serve_process import start_serve, stop_serve

TOKEN = "argo-server-token-0123456789abcdef"
NAMESPACE = "argo"
DONE = ("Succeeded", "Failed", "Error")


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]

    def service(self, token: str = TOKEN) -> WorkflowsService:
        return WorkflowsService(host=self.url, token=token, namespace=NAMESPACE)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("argo-server-home")
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "CLUSTERFORGE_TOKENS": TOKEN}
    log = home / "serve.stderr"
    process, url = start_serve(["--workers", "4", "--log-level", "warning"], env, log, 120)
    try:
        yield Served(url, process)
    finally:
        stop_serve(process, log)


def _wait(ws: WorkflowsService, name: str, timeout: float = 90) -> WorkflowModel:
    deadline = time.monotonic() + timeout
    while True:
        wf = ws.get_workflow(name)
        assert wf.status is not None
        if wf.status.phase in DONE:
            return wf
        assert time.monotonic() < deadline, f"{name} still {wf.status.phase}"
        time.sleep(0.2)


def _running(ws: WorkflowsService, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        wf = ws.get_workflow(name)
        nodes = (wf.status.nodes if wf.status else None) or {}
        if any(n.phase == "Running" and n.type == "Pod" for n in nodes.values()):
            return
        assert time.monotonic() < deadline, f"{name} never ran a pod"
        time.sleep(0.2)


def _phases(wf: WorkflowModel) -> dict[str, str]:
    nodes = (wf.status.nodes if wf.status else None) or {}
    return {str(n.display_name): str(n.phase) for n in nodes.values()}


def _log_entries(served: Served, ws: WorkflowsService, name: str, **params: str) -> list[Any]:
    """Argo's log stream, read through Hera's session with Hera's token and parsed
    into Hera's LogEntry model — one ``{"result": ...}`` per line, as Argo Server
    streams it. (Hera 7's ``workflow_logs`` parses the body as one JSON document,
    which a stream of more than one line is not, from Argo Server as from here.)"""
    from hera.workflows.models.io.argoproj.workflow.v1alpha1 import LogEntry

    response = ws.session.get(
        f"{served.url}/api/v1/workflows/{NAMESPACE}/{name}/log",
        params={"logOptions.container": "main", **params},
        headers={"Authorization": str(ws.token)},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return [LogEntry(**json.loads(line)["result"]) for line in response.text.splitlines()]


def _gated(gate: Path, marks: Path) -> Workflow:
    with Workflow(
        generate_name="hera-gated-",
        entrypoint="main",
        namespace=NAMESPACE,
        labels={"suite": "hera"},
    ) as workflow:
        mark = Container(
            name="mark", image="alpine", command=["sh", "-c", f"echo run >> {marks}; echo marked"]
        )
        gated = Container(
            name="gated",
            image="alpine",
            command=["sh", "-c", f"test -e {gate} || {{ echo 'gate closed' >&2; exit 3; }}"],
        )
        with DAG(name="main"):
            mark(name="prepare") >> gated(name="gated") >> mark(name="finish")  # type: ignore[operator]
    return workflow


def test_submit_get_list_logs_retry_delete(served: Served, tmp_path: Path) -> None:
    ws = served.service()
    gate, marks = tmp_path / "gate", tmp_path / "marks"
    request = WorkflowCreateRequest(workflow=_gated(gate, marks).build())
    created = ws.create_workflow(request)
    assert created.metadata.namespace == NAMESPACE
    name = str(created.metadata.name)
    assert name.startswith("hera-gated-")

    failed = _wait(ws, name)
    assert failed.status is not None
    assert failed.status.phase == "Failed"
    assert _phases(failed) == {
        name: "Failed",
        "prepare": "Succeeded",
        "gated": "Failed",
        "finish": "Omitted",
    }

    listed = ws.list_workflows(label_selector="suite=hera")
    assert [str(w.metadata.name) for w in listed.items or []] == [name]
    assert ws.list_workflows(
        label_selector="suite=hera,workflows.argoproj.io/phase!=Failed"
    ).items in (None, [])
    assert ws.list_workflows(label_selector="suite in (red,blue)").items in (None, [])
    assert ws.list_workflows(namespace="elsewhere").items in (None, [])
    # as `argo list` asks: only these fields (Hera's models need metadata and spec)
    named = ws.list_workflows(fields="metadata,items.metadata.name,items.spec.entrypoint")
    assert [w.metadata.name for w in named.items or []] == [name]
    assert [(w.spec.entrypoint, w.status) for w in named.items or []] == [("main", None)]

    gated_id = next(k for k, n in (failed.status.nodes or {}).items() if n.display_name == "gated")
    entries = _log_entries(served, ws, name, podName=gated_id)
    assert [(e.pod_name, e.content) for e in entries] == [(gated_id, "gate closed")]
    assert "marked" in [e.content for e in _log_entries(served, ws, name)]

    gate.write_text("open")
    ws.retry_workflow(name, WorkflowRetryRequest(name=name, namespace=NAMESPACE))
    retried = _wait(ws, name)
    assert retried.status is not None
    assert retried.status.phase == "Succeeded"
    assert marks.read_text().split() == ["run", "run"]  # prepare kept, finish ran once

    with pytest.raises(BadRequest, match="nothing to retry"):
        ws.retry_workflow(name, WorkflowRetryRequest(name=name, namespace=NAMESPACE))
    ws.delete_workflow(name)
    with pytest.raises(NotFound, match="not found"):
        ws.get_workflow(name)


def _sleeper(name: str, ws: WorkflowsService) -> Workflow:
    with Workflow(name=name, entrypoint="main", namespace=NAMESPACE, workflows_service=ws) as wf:
        Container(name="main", image="alpine", command=["sleep", "60"])
    return wf


def test_stop_and_terminate(served: Served) -> None:
    ws = served.service()
    _sleeper("hera-stopped", ws).create()
    _sleeper("hera-terminated", ws).create()
    _running(ws, "hera-stopped")
    ws.stop_workflow("hera-stopped", WorkflowStopRequest(name="hera-stopped", namespace=NAMESPACE))
    stopped = _wait(ws, "hera-stopped")
    assert stopped.status is not None
    assert stopped.status.phase == "Failed"
    assert "Stop" in str(stopped.status.message)

    _running(ws, "hera-terminated")
    ws.terminate_workflow(
        "hera-terminated", WorkflowTerminateRequest(name="hera-terminated", namespace=NAMESPACE)
    )
    ended = _wait(ws, "hera-terminated")
    assert ended.status is not None
    assert "Terminate" in str(ended.status.message)
    with pytest.raises(BadRequest, match="already finished"):
        ws.stop_workflow("hera-terminated", WorkflowStopRequest(name="hera-terminated"))


def test_resume_a_suspended_node(served: Served) -> None:
    ws = served.service()
    with Workflow(
        name="hera-approval", entrypoint="main", namespace=NAMESPACE, workflows_service=ws
    ) as wf:
        approve = Suspend(name="approve")
        done = Container(name="done", image="alpine", command=["echo", "approved"])
        with Steps(name="main"):
            approve(name="approve")
            done(name="done")
    wf.create()
    for _ in range(200):
        nodes = (ws.get_workflow("hera-approval").status or {}).nodes or {}  # type: ignore[union-attr]
        if any(n.display_name == "approve" and n.phase == "Running" for n in nodes.values()):
            break
        time.sleep(0.05)
    with pytest.raises(BadRequest, match="unknown field 'podName'"):
        ws.resume_workflow("hera-approval", WorkflowResumeRequest(node_field_selector="podName=x"))
    ws.resume_workflow(
        "hera-approval", WorkflowResumeRequest(node_field_selector="displayName=approve")
    )
    ended = _wait(ws, "hera-approval")
    assert ended.status is not None
    assert ended.status.phase == "Succeeded"
    assert _phases(ended)["approve"] == "Succeeded"
    with pytest.raises(BadRequest, match="no suspended node"):
        ws.resume_workflow("hera-approval", WorkflowResumeRequest())


def test_workflow_template_then_a_workflow_referring_to_it(served: Served) -> None:
    ws = served.service()
    with WorkflowTemplate(
        name="hera-greeter",
        entrypoint="greet",
        namespace=NAMESPACE,
        labels={"kind": "greeter"},
        arguments=Parameter(name="who", value="world"),
    ) as template:
        Container(
            name="greet",
            image="alpine",
            command=["sh", "-c", "echo hello {{workflow.parameters.who}}"],
        )
    made = ws.create_workflow_template(WorkflowTemplateCreateRequest(template=template.build()))
    assert made.metadata.uid
    assert made.metadata.namespace == NAMESPACE
    with pytest.raises(AlreadyExists):
        ws.create_workflow_template(WorkflowTemplateCreateRequest(template=template.build()))
    listed = ws.list_workflow_templates(label_selector="kind=greeter")
    assert [t.metadata.name for t in listed.items or []] == ["hera-greeter"]
    assert ws.get_workflow_template("hera-greeter").spec.entrypoint == "greet"

    with Workflow(
        generate_name="hera-greeting-",
        namespace=NAMESPACE,
        workflow_template_ref=WorkflowTemplateRef(name="hera-greeter"),
        arguments=Parameter(name="who", value="hera"),
    ) as workflow:
        pass
    name = str(ws.create_workflow(WorkflowCreateRequest(workflow=workflow.build())).metadata.name)
    done = _wait(ws, name)
    assert done.status is not None
    assert done.status.phase == "Succeeded"
    assert [e.content for e in _log_entries(served, ws, name)] == ["hello hera"]

    # `argo submit --from workflowtemplate/hera-greeter -p who=submit -l via=submit`
    submitted = ws.submit_workflow(
        WorkflowSubmitRequest(
            resource_kind="WorkflowTemplate",
            resource_name="hera-greeter",
            submit_options=SubmitOpts(parameters=["who=submit"], labels="via=submit"),
        )
    )
    assert str(submitted.metadata.name).startswith("hera-greeter-")
    from_template = _wait(ws, str(submitted.metadata.name))
    assert from_template.status is not None
    assert from_template.status.phase == "Succeeded"
    assert from_template.metadata.labels is not None
    assert from_template.metadata.labels["via"] == "submit"
    logged = _log_entries(served, ws, str(submitted.metadata.name))
    assert [e.content for e in logged] == ["hello submit"]

    ws.delete_workflow_template("hera-greeter")
    with pytest.raises(NotFound):
        ws.get_workflow_template("hera-greeter")
    with pytest.raises(BadRequest, match="hera-greeter"):  # its template is gone
        ws.create_workflow(WorkflowCreateRequest(workflow=workflow.build()))


def test_version_for_argo_clients(served: Served) -> None:
    version = served.service().get_version()
    assert version.version.startswith("v")
    assert version.git_tag.startswith("clusterforge-")


def test_errors_in_argo_servers_shape(served: Served) -> None:
    with pytest.raises(Unauthorized):
        served.service(token="wrong-token-0123456789abcdef").list_workflows()
    client = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"})
    with client:
        missing = client.get(f"/api/v1/workflows/{NAMESPACE}/nope")
        assert missing.status_code == 404
        assert missing.json() == {
            "code": 5,
            "message": 'workflows.argoproj.io "nope" not found',
            "details": [],
        }
        anonymous = httpx.get(f"{served.url}/api/v1/workflows/{NAMESPACE}")
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == 16
        bad_ns = client.get("/api/v1/workflows/Not_A_Namespace")
        assert bad_ns.status_code == 400
        assert "namespace" in bad_ns.json()["message"]
        no_body = client.post(f"/api/v1/workflows/{NAMESPACE}", content=b"[1]")
        assert no_body.status_code == 400
        assert no_body.json()["message"] == "the request body must be a JSON object"
        broken = {
            "metadata": {"name": "broken"},
            "spec": {
                "entrypoint": "main",
                "templates": [{"name": "main", "steps": [[{"name": "a", "template": "missing"}]]}],
            },
        }
        refused = client.post(f"/api/v1/workflows/{NAMESPACE}", json={"workflow": broken})
        assert refused.status_code == 400
        assert refused.json()["code"] == 3
        assert "missing" in refused.json()["message"]
        assert client.get(f"/api/v1/workflows/{NAMESPACE}/broken").status_code == 404
        selector = client.get(
            f"/api/v1/workflows/{NAMESPACE}", params={"listOptions.labelSelector": "a in b"}
        )
        assert selector.status_code == 400
        assert "listOptions.labelSelector" in selector.json()["message"]
    ws = served.service()
    _sleeper("hera-twice", ws).create()
    with pytest.raises(AlreadyExists, match="hera-twice"):
        _sleeper("hera-twice", ws).create()
    ws.terminate_workflow("hera-twice", WorkflowTerminateRequest(name="hera-twice"))


def test_pages_dry_runs_and_following_logs(served: Served) -> None:
    ws = served.service()
    for index in range(3):
        with Workflow(
            name=f"hera-page-{index}",
            entrypoint="main",
            namespace=NAMESPACE,
            labels={"suite": "pages"},
            workflows_service=ws,
        ) as wf:
            Container(name="main", image="alpine", command=["sh", "-c", f"echo page {index}"])
        wf.create()
    first = ws.list_workflows(label_selector="suite=pages", limit="2")
    assert [w.metadata.name for w in first.items or []] == ["hera-page-2", "hera-page-1"]
    assert first.metadata.continue_ == "2"
    rest = ws.list_workflows(label_selector="suite=pages", limit="2", continue_="2")
    assert [w.metadata.name for w in rest.items or []] == ["hera-page-0"]
    assert rest.metadata.continue_ is None

    with Workflow(name="hera-dry", entrypoint="main", namespace=NAMESPACE) as dry:
        Container(name="main", image="alpine", command=["true"])
    checked = ws.create_workflow(WorkflowCreateRequest(workflow=dry.build(), server_dry_run=True))
    assert checked.metadata.name == "hera-dry"
    with pytest.raises(NotFound):
        ws.get_workflow("hera-dry")

    # a followed log stream ends when the workflow does, with every line
    with Workflow(name="hera-follow", entrypoint="main", namespace=NAMESPACE) as slow:
        Container(name="main", image="alpine", command=["sh", "-c", "echo one; sleep 2; echo two"])
    ws.create_workflow(WorkflowCreateRequest(workflow=slow.build()))
    _running(ws, "hera-follow")
    followed = _log_entries(served, ws, "hera-follow", **{"logOptions.follow": "true"})
    assert [e.content for e in followed] == ["one", "two"]
    assert _wait(ws, "hera-follow").status.phase == "Succeeded"  # type: ignore[union-attr]

    # what Argo clients create is a workflow like any other: the builds API shows it
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        assert c.get("/api/v1/builds/hera-follow").json()["status"]["phase"] == "Succeeded"
