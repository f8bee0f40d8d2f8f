"""Webhook event sources: ``POST /api/v1/events/{source}/{event}`` with any JSON.

The event goes to every loaded sensor listening to ``source``/``event``. The
answer is never a bare 200: 202 with the builds it started (or the sensors
now waiting for their other dependencies), 404 when no sensor listens, and
422 with every filter's reason when none accepts it.

The route is declared for the OpenAPI document, but requests reach it
through :class:`EventIntake`, a plain ASGI layer in front of FastAPI's router:
matching the path and solving the (empty) dependencies took about a third of
a trigger's CPU, and this is the endpoint that must take a thousand a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from clusterforge.api.bodies import read_json
from clusterforge.api.deps import Reader, ServicesDep, base_url
from clusterforge.api.errors import ApiError, error_response, from_user_error
from clusterforge.api.idempotency import KeyTaken
from clusterforge.api.schemas import ERRORS, EventAccepted
from clusterforge.api.services import Services
from clusterforge.api.triggers import Dispatch, PendingChanged
from clusterforge.engine import WorkflowView
from clusterforge.errors import UserError

__all__ = ["EventIntake", "router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
_NAME_RE = re.compile(_NAME)
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_REDISPATCH = 5


def _name_parameter(name: str) -> dict[str, Any]:
    schema = {"type": "string", "pattern": _NAME, "title": name.title()}
    return {"name": name, "in": "path", "required": True, "schema": schema}


@router.post(
    "/events/{source}/{event}",
    status_code=202,
    response_model=EventAccepted,
    responses=ERRORS,
    openapi_extra={
        "parameters": [
            _name_parameter("source"),
            _name_parameter("event"),
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "title": "Idempotency-Key"},
                "description": "Same key, same event → same answer",
            },
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
    },
)
async def post_event(request: Request) -> JSONResponse:
    """Deliver an event to the sensors listening to ``source``/``event``."""
    # The one endpoint that must take a thousand requests a second: it reads its
    # path, header and caller itself instead of through FastAPI's parameter and
    # dependency machinery (which costs more than the event's own work), with the
    # same checks in the same order: the caller (401/429), then the names (422).
    services: Services = request.app.state.services
    caller = services.guard.write(request)
    source, event = request.path_params["source"], request.path_params["event"]
    for field, value in (("source", source), ("event", event)):
        if not _NAME_RE.match(value):
            raise ApiError(
                422,
                "invalid_request",
                f"{field}: String should match pattern '{_NAME}'",
                field=field,
            )
    idempotency_key = request.headers.get("idempotency-key")
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
    scope = f"{caller.key} POST events/{source}/{event}"
    try:
        async with services.idempotency.claim(idempotency_key, scope, raw) as slot:
            if slot.answer is not None:
                answer, status = {**slot.answer, "replayed": True}, slot.status
            else:
                # the idempotency answer is saved in the same transaction as the builds
                keep = slot.save if slot.key is not None else None
                try:
                    answer = await _deliver(services, source, event, body, headers, base, keep)
                    status = 202
                except KeyTaken:  # another server process answered this key first
                    answer, status = services.idempotency.replay(slot)
    except ApiError as err:
        services.metrics.trigger(label, "rejected" if err.status < 500 else "error")
        raise
    except Exception:
        services.metrics.trigger(label, "error")
        raise
    services.metrics.trigger(label, "accepted" if answer.get("builds") else "waiting")
    return JSONResponse(answer, status_code=status)


async def _deliver(
    services: Services,
    source: str,
    event: str,
    body: Any,
    headers: dict[str, list[str]],
    base: str,
    keep: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """Dispatch the event and store what it fired; dispatched again if a sensor's
    partial state changed meanwhile (another request completed part of it)."""
    for _attempt in range(_REDISPATCH):
        result, prepared = services.dispatch(source, event, body, headers)

        def shape(views: list[WorkflowView], result: Dispatch = result) -> dict[str, Any]:
            builds = [services.answer(base, v) for v in views]
            out: dict[str, Any] = {
                "event": f"{source}/{event}",
                "builds": builds,
                "waiting": result.waiting,
            }
            if builds:
                out["id"] = builds[0]["id"]
                out["urls"] = builds[0]["urls"]
            return out

        try:
            return await services.accept(result, prepared, shape, keep)
        except PendingChanged:
            continue
    raise ApiError(
        409, "conflict", "the sensors' state kept changing under this event; send it again"
    )


@router.get("/sensors", responses=ERRORS)
async def list_sensors(services: ServicesDep, _caller: Reader) -> list[dict[str, Any]]:
    """The loaded sensors (built-in and user), what they listen to, and their warnings."""
    return services.sensor_list()


_PREFIX = "/api/v1/events/"


class EventIntake:
    """ASGI middleware: ``POST /api/v1/events/{source}/{event}`` straight to
    :func:`post_event`, skipping FastAPI's routing; errors get the same JSON as
    from the app's handlers (anything unexpected goes on to the app's 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "POST" and path.startswith(_PREFIX):
            source, slash, event = path[len(_PREFIX) :].partition("/")
            if source and slash and event and "/" not in event:
                scope["path_params"] = {"source": source, "event": event}
                try:
                    response = await post_event(Request(scope, receive))
                except ApiError as err:
                    response = error_response(err)
                except UserError as err:
                    response = error_response(from_user_error(err))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
