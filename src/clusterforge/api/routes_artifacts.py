"""A build's artifacts over HTTP: its reports, logs and spec from the artifact repository.

``GET /api/v1/builds/{id}/artifacts`` lists them (``?node=`` for one step),
``GET /api/v1/builds/{id}/artifacts/{path}`` streams one, with the same
bearer-token auth as the build's logs. The object is streamed from the
repository (a local directory or S3) in chunks; nothing is buffered whole.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from clusterforge.api.deps import Reader, ServicesDep
from clusterforge.api.schemas import ERRORS
from clusterforge.api.services import LABEL_CLUSTER, Services
from clusterforge.engine import WorkflowView
from clusterforge.errors import UserError
from clusterforge.stages.build_artifacts import BuildArtifacts

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["artifacts"])
log = logging.getLogger("clusterforge.api")
_CHUNK = 256 * 1024
_BY_SERVICES: weakref.WeakKeyDictionary[Services, BuildArtifacts] = weakref.WeakKeyDictionary()


def _artifacts(services: Services) -> BuildArtifacts:
    found = _BY_SERVICES.get(services)
    if found is None:
        found = _BY_SERVICES[services] = BuildArtifacts(services.pipeline)
    return found


@router.get("/builds/{build_id}/artifacts", responses=ERRORS)
async def list_artifacts(
    build_id: str,
    services: ServicesDep,
    _caller: Reader,
    node: Annotated[str | None, Query(description="One node (id, name or display name)")] = None,
) -> dict[str, Any]:
    """The build's stored artifacts: key, path under the build, size."""
    artifacts = _artifacts(services)
    items = await run_in_threadpool(artifacts.list, build_id, node)
    prefix = f"{build_id}/"
    return {
        "build": build_id,
        "repository": artifacts.repo.name,
        "artifacts": [
            {"key": o.key, "path": o.key.removeprefix(prefix), "size": o.size} for o in items
        ],
    }


@router.get("/builds/{build_id}/artifacts/{path:path}", responses=ERRORS)
async def get_artifact(
    build_id: str, path: str, services: ServicesDep, _caller: Reader
) -> StreamingResponse:
    """One artifact's bytes, streamed."""
    opened = await run_in_threadpool(_artifacts(services).reader, build_id, path)
    media = "text/plain; charset=utf-8" if path.endswith((".log", ".tap", ".txt")) else None
    return StreamingResponse(_chunks(opened), media_type=media or "application/octet-stream")


def _chunks(opened: AbstractContextManager[IO[bytes]]) -> Iterator[bytes]:
    with opened as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def publish_finished(services: Services, view: WorkflowView) -> None:
    """Publish a finished build's artifacts; a failure is logged, never raised.

    A repository that is down must not fail the build (it has ended): the
    artifacts are published again on the first listing once it is back.
    """
    if LABEL_CLUSTER not in (view.record.labels or {}):
        return
    try:
        _artifacts(services).publish(view.id)
    except UserError as err:
        log.warning("artifacts of build %s not published: %s", view.id, err)
