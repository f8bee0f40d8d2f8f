"""Builds and clusters: start a build or one stage, tear down, list, inspect, control.

Every mutating route reads its whole body, validates it, and only then calls
the pipeline; the build is stored (and queued) before the 202 is sent, and
an ``Idempotency-Key`` answer is stored before that. A route that fails
stores nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from clusterforge.api.bodies import read_json
from clusterforge.api.deps import Reader, ServicesDep, Writer, base_url
from clusterforge.api.errors import ApiError
from clusterforge.api.roles import require_admin_for_commands
from clusterforge.api.schemas import ERRORS, Accepted, BuildList
from clusterforge.api.services import LABEL_CLUSTER, LABEL_STAGE, Services
from clusterforge.engine.status import iso

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["builds"])

STAGES = ("preflight", "core", "addons", "validation")
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Same key, same request → same build"),
]


def _spec_schema() -> dict[str, Any]:
    try:
        from clusterforge.spec import json_schema

        return json_schema()
    except Exception:  # the docs must not fail because of a schema detail
        return {"type": "object"}


async def _accept(
    request: Request,
    services: Services,
    scope: str,
    key: str | None,
    source: str,
    work: Any,
    *,
    empty: Any = ...,
) -> JSONResponse:
    """Read the body, run ``work(data)`` once per idempotency key, answer 202."""
    data, raw = await read_json(request, empty=empty, yaml_ok=True)
    base = base_url(request)

    def run() -> tuple[dict[str, Any], int]:
        with services.idempotency.slot(key, scope, raw) as slot:
            if slot.answer is not None:
                return {**slot.answer, "replayed": True}, slot.status
            record = work(data)
            answer = services.answer(base, record)
            slot.save(answer)
            return answer, 202

    try:
        answer, status = await run_in_threadpool(run)
    except ApiError as err:
        services.metrics.trigger(source, "rejected" if err.status < 500 else "error")
        raise
    except Exception as err:
        from clusterforge.errors import UserError

        services.metrics.trigger(source, "rejected" if isinstance(err, UserError) else "error")
        raise
    services.metrics.trigger(source, "accepted")
    return JSONResponse(answer, status_code=status)


@router.post(
    "/builds",
    status_code=202,
    response_model=Accepted,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _spec_schema()},
                "application/yaml": {"schema": _spec_schema()},
            },
        }
    },
)
async def create_build(
    request: Request, services: ServicesDep, caller: Writer, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Start a full build (preflight → core → add-ons → validation) from a cluster spec."""

    def work(data: Any) -> Any:
        require_admin_for_commands(caller.role, data)
        return services.build(data)

    return await _accept(
        request, services, f"{caller.key} POST builds", idempotency_key, "build", work
    )


@router.post(
    "/clusters/{name}/stages/{stage}",
    status_code=202,
    response_model=Accepted,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def run_stage(
    name: str,
    stage: str,
    request: Request,
    services: ServicesDep,
    caller: Writer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run one stage against a known cluster; the optional body is a partial spec merged
    onto the cluster's last spec (e.g. ``{"spec": {"addons": {"fluent-bit": "none"}}}``)."""
    if stage not in STAGES:
        raise ApiError(
            404,
            "unknown_stage",
            f"stage {stage!r} is not one of: {', '.join(STAGES)}",
            field="stage",
        )

    def work(data: Any) -> Any:
        require_admin_for_commands(caller.role, data)
        if data is not None and not isinstance(data, dict):
            raise ApiError(
                422,
                "invalid_overrides",
                "the body must be a JSON object: a partial spec such as "
                '{"spec": {"addons": {"fluent-bit": "none"}}}',
            )
        return services.stage(name, stage, data or None)

    scope = f"{caller.key} POST {name}/{stage}"
    return await _accept(request, services, scope, idempotency_key, "stage", work, empty=None)


@router.delete("/clusters/{name}", status_code=202, response_model=Accepted, responses=ERRORS)
async def destroy_cluster(
    name: str,
    request: Request,
    services: ServicesDep,
    caller: Writer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Tear the cluster down (the ``cluster-teardown`` workflow)."""
    scope = f"{caller.key} DELETE {name}"
    return await _accept(
        request,
        services,
        scope,
        idempotency_key,
        "destroy",
        lambda _data: services.destroy(name),
        empty=None,
    )


@router.get("/clusters", responses=ERRORS)
async def list_clusters(services: ServicesDep, _caller: Reader) -> list[dict[str, Any]]:
    """The fleet: every cluster, its last build and its last validation."""
    return await run_in_threadpool(services.clusters)


@router.get("/builds", response_model=BuildList, responses=ERRORS)
async def list_builds(
    request: Request,
    services: ServicesDep,
    _caller: Reader,
    cluster: Annotated[str | None, Query(max_length=253)] = None,
    phase: Annotated[
        str | None, Query(pattern="^(Pending|Running|Succeeded|Failed|Error)$")
    ] = None,
    stage: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Builds and other workflows, newest first; filter by cluster, stage and phase."""
    labels = {}
    if cluster:
        labels[LABEL_CLUSTER] = cluster
    if stage:
        labels[LABEL_STAGE] = stage
    views = await run_in_threadpool(
        services.engine.list, phase=phase, labels=labels, limit=limit + 1, offset=offset
    )
    base = base_url(request)
    items = []
    for view in views[:limit]:
        record = view.record
        summary = services.answer(base, view)
        summary.update(
            message=record.message,
            createdAt=iso(record.created_at),
            startedAt=iso(record.started_at),
            finishedAt=iso(record.finished_at),
            labels=record.labels,
        )
        items.append(summary)
    following = None
    if len(views) > limit:
        following = str(request.url.include_query_params(offset=offset + limit))
    return {"items": items, "limit": limit, "offset": offset, "next": following}


@router.get("/builds/{build_id}", responses=ERRORS)
async def get_build(build_id: str, services: ServicesDep, _caller: Reader) -> JSONResponse:
    """The workflow in Argo's shape (``status.phase``, ``status.nodes``…)."""
    view = await run_in_threadpool(services.engine.get, build_id)
    # already plain JSON data: skip FastAPI's per-value encoder (half the time of a
    # 5,000-node workflow's answer, which the web UI's build page waits for)
    return JSONResponse(await run_in_threadpool(view.to_argo))


@router.post("/builds/{build_id}/retry", status_code=202, response_model=Accepted, responses=ERRORS)
async def retry_build(
    build_id: str, request: Request, services: ServicesDep, _caller: Writer
) -> JSONResponse:
    """Re-run the failed nodes of a finished build (and what they gate)."""
    view = await run_in_threadpool(services.retry, build_id)
    services.metrics.trigger("retry", "accepted")
    return JSONResponse(services.answer(base_url(request), view), status_code=202)


@router.post("/builds/{build_id}/stop", status_code=202, response_model=Accepted, responses=ERRORS)
async def stop_build(
    build_id: str, request: Request, services: ServicesDep, _caller: Writer
) -> JSONResponse:
    """Stop a running build: running steps are terminated, exit handlers run."""
    view = await run_in_threadpool(services.stop, build_id)
    services.metrics.trigger("stop", "accepted")
    return JSONResponse(services.answer(base_url(request), view), status_code=202)
