"""The shapes of the API's answers, for the OpenAPI document at ``/docs``.

Request bodies are read by hand (see :mod:`bodies`) so that every mistake gets
the API's own error shape; their schemas are declared here for the docs only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Accepted", "BuildList", "BuildSummary", "ErrorBody", "EventAccepted", "Urls"]


class Urls(BaseModel):
    status: str = Field(description="GET: the workflow in Argo's shape")
    logs: str = Field(description="GET: step logs (?follow=true streams)")
    events: str = Field(description="GET: server-sent events, one per node phase change")


class Accepted(BaseModel):
    """A build (workflow) was stored and queued."""

    id: str
    cluster: str | None = None
    stage: str | None = None
    phase: str
    urls: Urls


class EventAccepted(BaseModel):
    """An event some sensor accepted: the workflows it started, or what it waits for."""

    event: str
    builds: list[Accepted]
    waiting: list[str] = []
    id: str | None = None
    urls: Urls | None = None


class BuildSummary(BaseModel):
    id: str
    cluster: str | None = None
    stage: str | None = None
    phase: str
    message: str = ""
    createdAt: str | None = None
    startedAt: str | None = None
    finishedAt: str | None = None
    labels: dict[str, str] = {}
    urls: Urls


class BuildList(BaseModel):
    items: list[BuildSummary]
    limit: int
    offset: int
    next: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Bad JSON"),
        (401, "Missing or wrong bearer token"),
        (404, "Not found"),
        (413, "Body over the limit"),
        (422, "Invalid spec, event or parameters (field path and reason)"),
        (429, "Rate limited (see Retry-After)"),
        (502, "An upstream (the artifact repository) cannot be reached or refused"),
    )
}
