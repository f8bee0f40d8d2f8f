"""Argo Server's REST API, served by ``clusterforge serve``.

Clients written for Argo — Hera's ``WorkflowsService``, ``argo --argo-server``
— submit and watch any Argo workflow here: ``/api/v1/workflows/{namespace}``
(create, list, get, delete, retry, stop, terminate, log) and
``/api/v1/workflows/{namespace}/submit`` (from a template),
``/api/v1/workflow-templates/{namespace}`` (create, list, get, delete) and
``/api/v1/version``/``info``, with
our bearer tokens, in Argo's JSON shapes and Argo Server's error shape. The
workflows run on the server's engine like every other, so the builds API and
the UI show them too.
"""

from fastapi import APIRouter

from clusterforge.api.argo_server import info, submit, templates, workflows

__all__ = ["router"]

router = APIRouter()
router.include_router(submit.router)
router.include_router(workflows.router)
router.include_router(templates.router)
router.include_router(info.router)
