"""WorkflowTemplates over Argo Server's API: create, list, get, delete.

A WorkflowTemplate created here is checked as a document of the Argo dialect
(parsed with Hera's models; unknown fields and bad shapes are refused with
their path) and kept in the engine's records, per namespace. Workflows
created in that namespace see them — by ``workflowTemplateRef`` or a step's
``templateRef`` — next to the shipped stage library.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from clusterforge import ids
from clusterforge.api.argo_server.errors import (
    ALREADY_EXISTS,
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
from clusterforge.api.deps import Reader, ServicesDep, Writer
from clusterforge.api.services import Services
from clusterforge.engine import Records
from clusterforge.engine.status import iso
from clusterforge.workflow import load_text

__all__ = ["namespace_templates", "router"]

router = APIRouter(prefix="/api/v1/workflow-templates", tags=["argo-server"], route_class=ArgoRoute)

_SCOPE = "argo-server/workflow-templates"


def _key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def namespace_templates(records: Records, namespace: str) -> list[dict[str, Any]]:
    """Every WorkflowTemplate created in ``namespace``, oldest name first."""
    prefix = f"{namespace}/"
    return [doc for key, doc in sorted(records.kv_items(_SCOPE)) if key.startswith(prefix)]


def _checked(template: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The template as it will be stored, or an ArgoError naming what is wrong."""
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", **template}
    if doc["kind"] != "WorkflowTemplate":
        raise ArgoError(INVALID_ARGUMENT, f"template.kind: {doc['kind']!r}; use WorkflowTemplate")
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise ArgoError(INVALID_ARGUMENT, "template.metadata.name: required")
    check_name(meta["name"], "template.metadata.name")
    if meta.get("namespace") not in (None, "", namespace):
        raise ArgoError(
            INVALID_ARGUMENT,
            f"template.metadata.namespace {meta['namespace']!r} differs from the "
            f"request's namespace {namespace!r}",
        )
    load_text(json.dumps(doc), source=f"template {meta['name']}")  # raises with every problem
    stamped = {
        **meta,
        "namespace": namespace,
        "uid": str(ids.uuid4()),
        "creationTimestamp": iso(time.time()),
    }
    return {**doc, "metadata": stamped}


@router.post("/{namespace}")
async def create_workflow_template(
    namespace: str, request: Request, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    """Create a WorkflowTemplate (body ``{"template": {...}}``)."""
    check_namespace(namespace)
    body = await read_body(request, "template")
    doc = await run_in_threadpool(_checked, body["template"], namespace)
    name = doc["metadata"]["name"]
    records = services.engine.records
    if not await run_in_threadpool(records.kv_create, _SCOPE, _key(namespace, name), doc):
        raise ArgoError(ALREADY_EXISTS, f'workflowtemplates.argoproj.io "{name}" already exists')
    return doc


@router.get("/{namespace}")
async def list_workflow_templates(
    namespace: str, services: ServicesDep, _caller: Reader, options: ListOptionsDep
) -> dict[str, Any]:
    check_namespace(namespace)
    docs = await run_in_threadpool(namespace_templates, services.engine.records, namespace)
    return options.page(docs)


def _stored(services: Services, namespace: str, name: str) -> dict[str, Any]:
    check_namespace(namespace)
    check_name(name)
    doc = services.engine.records.kv_get(_SCOPE, _key(namespace, name))
    if doc is None:
        raise ArgoError(NOT_FOUND, f'workflowtemplates.argoproj.io "{name}" not found')
    found: dict[str, Any] = doc
    return found


@router.get("/{namespace}/{name}")
async def get_workflow_template(
    namespace: str, name: str, services: ServicesDep, _caller: Reader
) -> dict[str, Any]:
    return await run_in_threadpool(_stored, services, namespace, name)


@router.delete("/{namespace}/{name}")
async def delete_workflow_template(
    namespace: str, name: str, services: ServicesDep, _caller: Writer
) -> dict[str, Any]:
    await run_in_threadpool(_stored, services, namespace, name)
    await run_in_threadpool(services.engine.records.kv_delete, _SCOPE, _key(namespace, name))
    return {}
