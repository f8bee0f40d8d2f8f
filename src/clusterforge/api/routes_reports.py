"""A build's validation report as files: summary (JSON), JUnit XML and TAP.

The validation stage writes them into the build's artifacts; these routes let
a browser (the web UI's download links) or CI fetch them without access to the
server's disk. Only the three known names are served — a name is never joined
onto a path unchecked.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from clusterforge.api.deps import Reader, ServicesDep
from clusterforge.api.schemas import ERRORS
from clusterforge.errors import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["builds"])

ReportName = Literal["summary.json", "junit.xml", "results.tap"]


@router.get("/builds/{build_id}/reports/{name}", responses=ERRORS)
async def validation_report(
    build_id: str, name: ReportName, services: ServicesDep, _caller: Reader
) -> FileResponse:
    """One file of the build's validation report (404 until validation has reported)."""
    from clusterforge.stages import REPORT_FILES, validation_report

    path = await run_in_threadpool(validation_report, services.pipeline, build_id, name)
    if path is None:
        raise NotFound(f"build {build_id!r} has no validation report {name!r} (yet)")
    return FileResponse(
        path,
        media_type=REPORT_FILES[name],
        filename=f"{build_id}-{name}",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )
