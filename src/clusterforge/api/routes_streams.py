"""Following a build: its node events as server-sent events, and its step logs.

``GET /api/v1/builds/{id}/events`` replays the event journal from the start
(or after ``Last-Event-ID`` / ``?after=``) and then follows it: one
``event: node`` per node phase change, in journal order, each with its
sequence number as the SSE ``id`` so a reconnecting client resumes exactly
where it was; ``event: end`` with the workflow's phase closes the stream once
the workflow has finished and every event is sent. A ``: keep-alive``
comment goes out every 15 s of silence so proxies keep the line open.

``GET /api/v1/changes`` is the fleet's feed: which workflows changed since the
last event id, so a live list refetches only when something happened.

Logs are plain text (``<step>: <line>``) or NDJSON (``?format=ndjson``), and
``?follow=true`` keeps streaming until the workflow ends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from clusterforge.api.deps import Reader, ServicesDep
from clusterforge.api.errors import ApiError
from clusterforge.api.schemas import ERRORS
from clusterforge.api.services import Services
from clusterforge.engine import Engine
from clusterforge.engine.status import WORKFLOW_DONE, iso
from clusterforge.errors import InvalidInput, NotFound
from clusterforge.safety import INT64_MAX, bounded_int
from clusterforge.store import NodeEvent, WorkflowRecord

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["streams"])

_KEEPALIVE = 15.0


def _sse(event: NodeEvent) -> str:
    data = {
        "seq": event.seq,
        "workflow": event.workflow_id,
        "nodeId": event.node_id,
        "nodeName": event.node_name,
        "displayName": event.display_name,
        "type": event.type,
        "phase": event.phase,
        "message": event.message,
        "at": iso(event.at),
    }
    return f"id: {event.seq}\nevent: node\ndata: {json.dumps(data)}\n\n"


def _record(engine: Engine, workflow_id: str) -> WorkflowRecord | None:
    """The workflow's record, or None once it is gone (deleted meanwhile)."""
    try:
        return engine.summary(workflow_id).record
    except NotFound:
        return None


async def _follow(services: Services, build_id: str, after: int) -> AsyncIterator[str]:
    engine = services.engine
    seq = after
    quiet_since = time.monotonic()
    yield "retry: 1000\n\n"
    while True:
        events = await run_in_threadpool(engine.events, build_id, after=seq)
        for event in events:
            yield _sse(event)
            seq = event.seq
        if events:
            quiet_since = time.monotonic()
            continue
        record = await run_in_threadpool(_record, engine, build_id)
        if record is None or record.phase in WORKFLOW_DONE:
            for event in await run_in_threadpool(engine.events, build_id, after=seq):
                yield _sse(event)
                seq = event.seq
            phase = record.phase if record else "Error"
            end = {
                "workflow": build_id,
                "phase": phase,
                "message": record.message if record else "",
            }
            yield f"id: {seq}\nevent: end\ndata: {json.dumps(end)}\n\n"
            return
        if time.monotonic() - quiet_since > _KEEPALIVE:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(services.settings.poll_interval)


def _resume_at(last_event_id: str | None, after: int | None) -> int | None:
    """Where a stream resumes: the ``Last-Event-ID`` header wins over ``?after=``."""
    if not last_event_id:
        return after
    try:
        return bounded_int(last_event_id, "Last-Event-ID")
    except InvalidInput as err:
        raise ApiError(400, "bad_request", str(err), field="Last-Event-ID") from None


def _event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/builds/{build_id}/events",
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
)
async def build_events(
    build_id: str,
    services: ServicesDep,
    _caller: Reader,
    after: Annotated[
        int, Query(ge=0, le=INT64_MAX, description="Resume after this sequence number")
    ] = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Server-sent events: every node phase change of the build, in order, until it ends."""
    await run_in_threadpool(services.engine.get, build_id)  # 404 before the stream starts
    return _event_stream(_follow(services, build_id, _resume_at(last_event_id, after) or 0))


async def _changes(services: Services, after: int | None) -> AsyncIterator[str]:
    engine = services.engine
    if after is None:  # a new follower starts from now
        after, _none = await run_in_threadpool(engine.changes, None)
    quiet_since = time.monotonic()
    yield "retry: 1000\n\n"
    while True:
        latest, changed = await run_in_threadpool(engine.changes, after)
        if changed:
            after = latest
            quiet_since = time.monotonic()
            yield f"id: {after}\nevent: changed\ndata: {json.dumps({'workflows': changed})}\n\n"
        elif time.monotonic() - quiet_since > _KEEPALIVE:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(max(services.settings.poll_interval, 0.25))


@router.get("/changes", responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}})
async def changes(
    services: ServicesDep,
    _caller: Reader,
    after: Annotated[
        int | None, Query(ge=0, le=INT64_MAX, description="Resume after this event id")
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Server-sent events naming the workflows that changed, for live lists (the fleet,
    the builds page): ``event: changed`` with ``{"workflows": [ids]}``."""
    return _event_stream(_changes(services, _resume_at(last_event_id, after)))


def _log_lines(
    services: Services, build_id: str, node: str | None, follow: bool, fmt: str
) -> Iterator[str]:
    for line in services.engine.logs(build_id, node, follow=follow):
        if fmt == "ndjson":
            yield (
                json.dumps(
                    {
                        "nodeId": line.node_id,
                        "displayName": line.display_name,
                        "stream": line.stream,
                        "text": line.text,
                    }
                )
                + "\n"
            )
        else:
            yield f"{line.display_name}: {line.text}\n"


async def _logs(
    services: Services, build_id: str, node: str | None, follow: bool, fmt: str
) -> StreamingResponse:
    view = await run_in_threadpool(services.engine.get, build_id)
    if node is not None and view.node(node) is None:
        raise NotFound(f"build {build_id!r} has no node {node!r}")
    media = "application/x-ndjson" if fmt == "ndjson" else "text/plain; charset=utf-8"
    return StreamingResponse(_log_lines(services, build_id, node, follow, fmt), media_type=media)


Follow = Annotated[bool, Query(description="Keep streaming until the build ends")]
Format = Annotated[Literal["text", "ndjson"], Query(description="text or ndjson")]


@router.get("/builds/{build_id}/logs", responses=ERRORS)
async def build_logs(
    build_id: str,
    services: ServicesDep,
    _caller: Reader,
    follow: Follow = False,
    format: Format = "text",
) -> StreamingResponse:
    """Logs of every step of the build."""
    return await _logs(services, build_id, None, follow, format)


@router.get("/builds/{build_id}/nodes/{node}/logs", responses=ERRORS)
async def node_logs(
    build_id: str,
    node: str,
    services: ServicesDep,
    _caller: Reader,
    follow: Follow = False,
    format: Format = "text",
) -> StreamingResponse:
    """Logs of one node (by id, name or display name), every attempt."""
    return await _logs(services, build_id, node, follow, format)
