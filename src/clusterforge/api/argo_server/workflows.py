"""Workflows over Argo Server's API: create, list, get, delete, retry, stop,
terminate, resume and logs — the subset Hera's ``WorkflowsService`` and
``argo --argo-server`` use, answered in Argo's shapes.

Everything goes through the :class:`~clusterforge.engine.Engine` interface:
a created workflow is checked completely (nothing is stored if anything is
wrong) and queued like any other, so it shows in ``clusterforge list``, the
builds API and the UI. Workflow names are unique per server, not per
namespace (the engine has one name space); the namespace is kept on the
workflow and every call checks it. Argo's phase labels
(``workflows.argoproj.io/phase``, ``…/completed``) are added to answers and
can be selected on, as ``argo list --running`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from clusterforge.api.argo_server.errors import (
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    NOT_FOUND,
    ArgoError,
    ArgoRoute,
)
from clusterforge.api.argo_server.objects import (
    ListOptionsDep,
    check_name,
    check_namespace,
    read_body,
)
from clusterforge.api.argo_server.selectors import filter_fields
from clusterforge.api.argo_server.templates import namespace_templates
from clusterforge.api.deps import Reader, ServicesDep, Writer
from clusterforge.api.services import Services
from clusterforge.engine import Engine, StopStrategy, Submission, WorkflowView
from clusterforge.engine.suspension import resume_node
from clusterforge.errors import InvalidInput, NotFound

__all__ = ["create", "router"]

router = APIRouter(prefix="/api/v1/workflows", tags=["argo-server"], route_class=ArgoRoute)

PHASE_LABEL = "workflows.argoproj.io/phase"
COMPLETED_LABEL = "workflows.argoproj.io/completed"


def _labels(view: WorkflowView) -> dict[str, str]:
    return {
        **view.record.labels,
        PHASE_LABEL: view.phase,
        COMPLETED_LABEL: "true" if view.done else "false",
    }


def _argo(view: WorkflowView) -> dict[str, Any]:
    doc = view.to_argo()
    doc["metadata"]["labels"] = _labels(view)
    return doc


def _view(engine: Engine, namespace: str, name: str) -> WorkflowView:
    """The workflow ``name`` of ``namespace`` (404 in Argo's words otherwise)."""
    check_namespace(namespace)
    check_name(name)
    try:
        view = engine.get(name)
    except NotFound:
        view = None
    if view is None or view.record.namespace != namespace:
        raise ArgoError(NOT_FOUND, f'workflows.argoproj.io "{name}" not found')
    return view


# -- create ----------------------------------------------------------------------


def _submission(services: Services, namespace: str, workflow: dict[str, Any]) -> Submission:
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", **workflow}
    if doc["kind"] != "Workflow":
        raise ArgoError(INVALID_ARGUMENT, f"workflow.kind: {doc['kind']!r}; use Workflow")
    meta = dict(doc.get("metadata") or {})
    if meta.get("namespace") not in (None, "", namespace):
        raise ArgoError(
            INVALID_ARGUMENT,
            f"workflow.metadata.namespace {meta['namespace']!r} differs from the "
            f"request's namespace {namespace!r}",
        )
    meta["namespace"] = namespace
    doc["metadata"] = meta
    name = meta.get("name")
    if name:
        check_name(str(name), "workflow.metadata.name")
        if services.engine.exists(str(name)):
            raise ArgoError(ALREADY_EXISTS, f'workflows.argoproj.io "{name}" already exists')
    elif not meta.get("generateName"):
        raise ArgoError(INVALID_ARGUMENT, "workflow.metadata: give a name or a generateName")
    documents = [doc, *namespace_templates(services.engine.records, namespace)]
    return Submission(text="\n---\n".join(json.dumps(d) for d in documents))


def create(
    services: Services, namespace: str, workflow: dict[str, Any], *, dry_run: bool = False
) -> dict[str, Any]:
    """Check and queue ``workflow`` in ``namespace`` (only check: ``dry_run``);
    the Workflow object as Argo answers it."""
    submission = _submission(services, namespace, workflow)
    if dry_run:
        record = services.engine.prepare(submission)
        return _argo(WorkflowView(record, {}))
    return _argo(services.engine.submit(submission))


@router.post("/{namespace}")
async def create_workflow(
    namespace: str, request: Request, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    """Create (submit) a workflow: body ``{"workflow": {...}, "serverDryRun": false}``."""
    check_namespace(namespace)
    body = await read_body(request, "workflow")
    dry_run = bool(body.get("serverDryRun"))
    return await run_in_threadpool(create, services, namespace, body["workflow"], dry_run=dry_run)


# -- read ------------------------------------------------------------------------


def _list(services: Services, namespace: str, name_filter: str | None) -> list[dict[str, Any]]:
    return [
        _argo(v)
        for v in services.engine.list()
        if v.record.namespace == namespace and (not name_filter or name_filter in v.record.name)
    ]


@router.get("/{namespace}")
async def list_workflows(
    namespace: str,
    services: ServicesDep,
    _caller: Reader,
    options: ListOptionsDep,
    fields: str | None = None,
    name_filter: Annotated[str | None, Query(alias="nameFilter")] = None,
) -> dict[str, Any]:
    """Workflows of the namespace, newest first (items without ``status.nodes``)."""
    check_namespace(namespace)
    items = await run_in_threadpool(_list, services, namespace, name_filter)
    return filter_fields(options.page(items), fields)


@router.get("/{namespace}/{name}")
async def get_workflow(
    namespace: str,
    name: str,
    services: ServicesDep,
    _caller: Reader,
    fields: str | None = None,
) -> dict[str, Any]:
    view = await run_in_threadpool(_view, services.engine, namespace, name)
    return filter_fields(_argo(view), fields)


# -- control ---------------------------------------------------------------------


@router.delete("/{namespace}/{name}")
async def delete_workflow(
    namespace: str, name: str, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    """Delete a workflow (a running one is terminated first)."""
    await run_in_threadpool(_view, services.engine, namespace, name)
    await run_in_threadpool(services.engine.delete, name)
    return {}


def _retry(services: Services, namespace: str, name: str, body: dict[str, Any]) -> WorkflowView:
    _view(services.engine, namespace, name)
    for unsupported in ("restartSuccessful", "nodeFieldSelector", "parameters"):
        if body.get(unsupported):
            raise ArgoError(
                INVALID_ARGUMENT,
                f"{unsupported}: not supported here; a retry re-runs the failed nodes "
                "and what they gate, and keeps the succeeded ones",
            )
    try:
        return services.engine.retry(name)
    except InvalidInput as err:
        raise ArgoError(FAILED_PRECONDITION, str(err)) from None


@router.put("/{namespace}/{name}/retry")
async def retry_workflow(
    namespace: str, name: str, request: Request, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    body = await read_body(request)
    return _argo(await run_in_threadpool(_retry, services, namespace, name, body))


def _stop(services: Services, namespace: str, name: str, strategy: StopStrategy) -> WorkflowView:
    _view(services.engine, namespace, name)
    try:
        return services.engine.stop(name, strategy=strategy)
    except InvalidInput as err:
        raise ArgoError(FAILED_PRECONDITION, str(err)) from None


@router.put("/{namespace}/{name}/stop")
async def stop_workflow(
    namespace: str, name: str, request: Request, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    """Stop: running steps are ended, exit handlers run."""
    body = await read_body(request)
    if body.get("nodeFieldSelector"):
        raise ArgoError(INVALID_ARGUMENT, "nodeFieldSelector: not supported; stop the workflow")
    return _argo(await run_in_threadpool(_stop, services, namespace, name, "Stop"))


@router.put("/{namespace}/{name}/terminate")
async def terminate_workflow(
    namespace: str, name: str, request: Request, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    """Terminate: running steps are ended, exit handlers do not run."""
    await read_body(request)
    return _argo(await run_in_threadpool(_stop, services, namespace, name, "Terminate"))


def _resume(services: Services, namespace: str, name: str, body: dict[str, Any]) -> WorkflowView:
    """Resume the workflow's waiting suspend nodes (those ``nodeFieldSelector`` picks)."""
    view = _view(services.engine, namespace, name)
    field, _, wanted = str(body.get("nodeFieldSelector") or "").partition("=")
    if field and field not in ("displayName", "name", "id", "templateName"):
        raise ArgoError(
            INVALID_ARGUMENT,
            f"nodeFieldSelector: unknown field {field!r}; use displayName=, name=, id= "
            "or templateName=",
        )
    waiting = [
        n
        for n in view.nodes.values()
        if n.type == "Suspend"
        and n.phase == "Running"
        and (
            not field
            or {
                "displayName": n.display_name,
                "name": n.name,
                "id": n.id,
                "templateName": n.template_name,
            }[field]
            == wanted
        )
    ]
    if not waiting:
        raise ArgoError(FAILED_PRECONDITION, f"workflow {name!r} has no suspended node to resume")
    for node in waiting:
        try:
            resume_node(services.engine, name, node.id)
        except InvalidInput as err:  # it ended meanwhile
            raise ArgoError(FAILED_PRECONDITION, str(err)) from None
    return services.engine.get(name)


@router.put("/{namespace}/{name}/resume")
async def resume_workflow(
    namespace: str, name: str, request: Request, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    """Resume suspended nodes, as `argo resume` (the local engine's `resume-node`)."""
    body = await read_body(request)
    return _argo(await run_in_threadpool(_resume, services, namespace, name, body))


# -- logs ------------------------------------------------------------------------


def _entries(engine: Engine, name: str, pod: str | None, follow: bool) -> Iterator[bytes]:
    """Argo's log stream: one ``{"result": {"content", "podName"}}`` per line."""
    for line in engine.logs(name, pod, follow=follow):
        entry = {"result": {"content": line.text, "podName": line.node_id}}
        yield (json.dumps(entry) + "\n").encode()


@router.get("/{namespace}/{name}/log")
async def workflow_logs(
    namespace: str,
    name: str,
    services: ServicesDep,
    _caller: Reader,
    pod_name: Annotated[str | None, Query(alias="podName")] = None,
    container: Annotated[str, Query(alias="logOptions.container")] = "main",
    follow: Annotated[bool, Query(alias="logOptions.follow")] = False,
    grep: str | None = None,
    selector: str | None = None,
) -> StreamingResponse:
    """The workflow's step logs (all steps, or ``podName``'s), following with
    ``logOptions.follow=true`` until the workflow ends."""
    view = await run_in_threadpool(_view, services.engine, namespace, name)
    for given, what in ((grep, "grep"), (selector, "selector")):
        if given:
            raise ArgoError(INVALID_ARGUMENT, f"{what}: not supported; filter the lines yourself")
    if pod_name and view.node(pod_name) is None:
        raise ArgoError(NOT_FOUND, f'workflow "{name}" has no pod "{pod_name}"')
    if container != "main":  # init and wait are Argo's own containers; we have none
        return StreamingResponse(iter(()), media_type="application/json")
    return StreamingResponse(
        _entries(services.engine, name, pod_name, follow), media_type="application/json"
    )
