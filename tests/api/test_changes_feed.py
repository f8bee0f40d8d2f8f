"""The fleet's live feed: which workflows changed, resumable, never a poll."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from clusterforge.store import Store

from .conftest import Server


def _first_changed(
    client: httpx.Client, headers: dict[str, str], on_open: Callable[[], None] = lambda: None
) -> tuple[int, list[str]]:
    """The first change the stream reports; ``on_open`` runs once the stream has taken
    its starting point (the server sends ``retry:`` right after), so what it does is news."""
    with client.stream("GET", "/api/v1/changes", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        ident = 0
        for line in response.iter_lines():
            if line.startswith("retry: "):
                on_open()
            elif line.startswith("id: "):
                ident = int(line[4:])
            elif line.startswith("data: "):
                workflows: list[str] = json.loads(line[6:])["workflows"]
                return ident, workflows
    raise AssertionError("the stream ended without a change")


def test_a_started_workflow_is_announced_and_a_resume_starts_after_the_last_id(
    client: httpx.Client, server: Server
) -> None:
    started: dict[str, str] = {}

    def trigger() -> None:
        started["id"] = client.post("/api/v1/events/test/steps", json={"pause": "0"}).json()["id"]

    ident, workflows = _first_changed(client, {}, trigger)
    assert workflows == [started["id"]]
    server.wait_done(client, started["id"])
    journal = Store(server.home / "state.db")
    assert ident <= journal.latest_event()
    # resuming just before an id it saw, a client hears of that workflow again
    again, rest = _first_changed(client, {"Last-Event-ID": str(ident - 1)})
    assert rest == [started["id"]]
    assert again >= ident
    bad = client.get("/api/v1/changes", headers={"Last-Event-ID": "x"})
    assert bad.status_code == 400


def test_reports_of_a_build_without_validation_are_not_found(
    client: httpx.Client, server: Server
) -> None:
    build = client.post("/api/v1/events/test/steps", json={"pause": "0"}).json()["id"]
    missing = client.get(f"/api/v1/builds/{build}/reports/junit.xml")
    assert missing.status_code == 404
    refused = client.get(f"/api/v1/builds/{build}/reports/..%2Fstate.db")
    assert refused.status_code in (404, 422)
