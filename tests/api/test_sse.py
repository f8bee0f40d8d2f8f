"""Server-sent events: every node transition of a running workflow, in order, resumable."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import httpx

from clusterforge.store import Store

from .conftest import Server


def _read_sse(response: httpx.Response) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(event, id, data) for each message of a text/event-stream."""
    messages = []
    event, ident, data = "message", None, []
    for line in response.iter_lines():
        if line == "":
            if data:
                messages.append((event, ident, json.loads("\n".join(data))))
            event, ident, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "id":
                ident = value
            elif name == "data":
                data.append(value)
    return messages


def test_a_client_sees_every_transition_in_order(client: httpx.Client, server: Server) -> None:
    build = client.post("/api/v1/events/test/steps", json={"pause": "0.2"}).json()
    assert build["urls"]["events"].endswith(f"/api/v1/builds/{build['id']}/events")
    with client.stream("GET", build["urls"]["events"]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        messages = _read_sse(response)
    *nodes, end = messages
    assert end[0] == "end"
    assert end[2]["phase"] == "Succeeded"
    assert all(kind == "node" for kind, _id, _data in nodes)
    # exactly the journal, in journal order, with the sequence numbers as SSE ids
    journal = Store(server.home / "state.db").events(build["id"])
    assert [int(i or 0) for _k, i, _d in nodes] == [e.seq for e in journal]
    assert [(d["nodeId"], d["phase"]) for _k, _i, d in nodes] == [
        (e.node_id, e.phase) for e in journal
    ]
    # each step went forward through its phases and the steps ran one after another
    phases: dict[str, list[str]] = defaultdict(list)
    for _k, _i, data in nodes:
        if data["type"] == "Pod":
            phases[data["displayName"]].append(data["phase"])
    assert list(phases) == ["one", "two", "three"]
    for seen in phases.values():
        assert seen[-1] == "Succeeded"
        assert "Running" in seen
        assert seen.index("Running") < seen.index("Succeeded")
    finished = [
        d["displayName"] for _k, _i, d in nodes if d["type"] == "Pod" and d["phase"] == "Succeeded"
    ]
    assert finished == ["one", "two", "three"]


def test_last_event_id_resumes_where_the_client_was(client: httpx.Client, server: Server) -> None:
    build = client.post("/api/v1/events/test/steps", json={"pause": "0"}).json()
    server.wait_done(client, build["id"])
    with client.stream("GET", build["urls"]["events"]) as response:
        everything = _read_sse(response)
    cut = everything[2][1]
    assert cut is not None
    with client.stream("GET", build["urls"]["events"], headers={"Last-Event-ID": cut}) as response:
        resumed = _read_sse(response)
    assert resumed == everything[3:]
    with client.stream("GET", build["urls"]["events"], params={"after": cut}) as response:
        assert _read_sse(response) == resumed
    bad = client.get(build["urls"]["events"], headers={"Last-Event-ID": "x"})
    assert bad.status_code == 400
