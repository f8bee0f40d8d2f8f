"""Liveness, readiness and metrics — open to every caller, no token needed.

``/healthz`` answers while the process serves HTTP. ``/readyz`` also reads
the state database and checks the run-queue workers are alive, so a load
balancer stops sending triggers to a server that could not store them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from clusterforge.api.deps import ServicesDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    """The state database answers and the workers run."""
    checks: dict[str, Any] = {}
    try:
        await run_in_threadpool(services.engine.records.kv_get, "health", "probe")
        checks["store"] = "ok"
    except Exception as err:  # any failure means: not ready
        checks["store"] = f"failing: {type(err).__name__}"
    alive = services.engine.alive()
    checks["workers"] = f"{alive}/{services.engine.workers} alive"
    ready = checks["store"] == "ok" and alive == services.engine.workers
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
async def metrics(services: ServicesDep) -> Response:
    """Prometheus metrics in the text exposition format."""
    body = await run_in_threadpool(services.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
