"""Webhook event sources: ``POST /api/v1/events/{source}/{event}`` with any JSON.

The event goes to every loaded sensor listening to ``source``/``event``. The
answer is never a bare 200: 202 with the builds it started (or the sensors
now waiting for their other dependencies), 404 when no sensor listens, and
422 with every filter's reason when none accepts it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from clusterforge.api.bodies import read_json
from clusterforge.api.deps import Reader, ServicesDep, Writer, base_url
from clusterforge.api.errors import ApiError
from clusterforge.api.schemas import ERRORS, EventAccepted

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@router.post(
    "/events/{source}/{event}",
    status_code=202,
    response_model=EventAccepted,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}
    },
)
async def post_event(
    source: Annotated[str, Path(pattern=_NAME)],
    event: Annotated[str, Path(pattern=_NAME)],
    request: Request,
    services: ServicesDep,
    caller: Writer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Deliver an event to the sensors listening to ``source``/``event``."""
    label = f"event:{source}"
    try:
        body, raw = await read_json(request)
    except ApiError:
        services.metrics.trigger(label, "rejected")
        raise
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        if name.lower() not in _PRIVATE_HEADERS:
            headers.setdefault(name.title(), []).append(value)
    base = base_url(request)

    def run() -> tuple[dict[str, Any], int]:
        scope = f"{caller.key} POST events/{source}/{event}"
        with services.idempotency.slot(idempotency_key, scope, raw) as slot:
            if slot.answer is not None:
                return {**slot.answer, "replayed": True}, slot.status
            result, views = services.event(source, event, body, headers)
            builds = [services.answer(base, v) for v in views]
            answer: dict[str, Any] = {
                "event": f"{source}/{event}",
                "builds": builds,
                "waiting": result.waiting,
            }
            if builds:
                answer["id"] = builds[0]["id"]
                answer["urls"] = builds[0]["urls"]
            slot.save(answer)
            return answer, 202

    try:
        answer, status = await run_in_threadpool(run)
    except ApiError as err:
        services.metrics.trigger(label, "rejected" if err.status < 500 else "error")
        raise
    except Exception:
        services.metrics.trigger(label, "error")
        raise
    services.metrics.trigger(label, "accepted" if answer.get("builds") else "waiting")
    return JSONResponse(answer, status_code=status)


@router.get("/sensors", responses=ERRORS)
async def list_sensors(services: ServicesDep, _caller: Reader) -> list[dict[str, Any]]:
    """The loaded sensors (built-in and user), what they listen to, and their warnings."""
    return services.sensor_list()
