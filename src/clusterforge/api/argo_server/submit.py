"""Submitting a workflow from a template: ``POST /api/v1/workflows/{namespace}/submit``.

What ``argo submit --from workflowtemplate/NAME`` sends: the template's kind
and name, and ``submitOptions`` (``parameters`` as ``NAME=VALUE`` strings,
``labels`` as ``k=v,k2=v2``, ``name``/``generateName``, ``entryPoint``,
``serverDryRun``). It becomes a Workflow with ``workflowTemplateRef`` and
goes the way of every created workflow.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from clusterforge.api.argo_server.errors import INVALID_ARGUMENT, ArgoError, ArgoRoute
from clusterforge.api.argo_server.objects import check_name, check_namespace, read_body
from clusterforge.api.argo_server.workflows import create
from clusterforge.api.deps import ServicesDep, Writer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/workflows", tags=["argo-server"], route_class=ArgoRoute)

_KINDS = {"WorkflowTemplate": False, "ClusterWorkflowTemplate": True}


def _pairs(values: Any, field: str) -> list[tuple[str, str]]:
    """``["a=1", "b=2"]`` (or ``"a=1,b=2"``) as pairs; a malformed one names the field."""
    items = values.split(",") if isinstance(values, str) else values
    if not isinstance(items, list):
        raise ArgoError(INVALID_ARGUMENT, f"{field}: a list of NAME=VALUE strings")
    pairs = []
    for item in items:
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip():
            raise ArgoError(INVALID_ARGUMENT, f"{field}: {item!r} is not NAME=VALUE")
        pairs.append((name.strip(), value))
    return pairs


def workflow_from(body: dict[str, Any]) -> dict[str, Any]:
    """The Workflow a submit request asks for (a ``workflowTemplateRef`` to its template)."""
    kind = body.get("resourceKind")
    if kind not in _KINDS:
        raise ArgoError(
            INVALID_ARGUMENT,
            f"resourceKind: {kind!r}; submit from WorkflowTemplate or ClusterWorkflowTemplate",
        )
    template = check_name(str(body.get("resourceName") or ""), "resourceName")
    options = body.get("submitOptions") or {}
    if not isinstance(options, dict):
        raise ArgoError(INVALID_ARGUMENT, "submitOptions: a JSON object")
    metadata: dict[str, Any] = {}
    if options.get("name"):
        metadata["name"] = str(options["name"])
    else:
        metadata["generateName"] = str(options.get("generateName") or f"{template}-")
    if options.get("labels"):
        metadata["labels"] = dict(_pairs(options["labels"], "submitOptions.labels"))
    ref: dict[str, Any] = {"name": template}
    if _KINDS[kind]:
        ref["clusterScope"] = True
    spec: dict[str, Any] = {"workflowTemplateRef": ref}
    if options.get("entryPoint"):
        spec["entrypoint"] = str(options["entryPoint"])
    parameters = _pairs(options.get("parameters") or [], "submitOptions.parameters")
    if parameters:
        spec["arguments"] = {"parameters": [{"name": n, "value": v} for n, v in parameters]}
    return {"metadata": metadata, "spec": spec}


@router.post("/{namespace}/submit")
async def submit_workflow(
    namespace: str, request: Request, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    """Create a workflow from a (cluster) workflow template, as ``argo submit --from``."""
    check_namespace(namespace)
    body = await read_body(request)
    workflow = workflow_from(body)
    options = body.get("submitOptions") or {}
    dry_run = bool(options.get("serverDryRun") or options.get("dryRun"))
    return await run_in_threadpool(create, services, namespace, workflow, dry_run=dry_run)
