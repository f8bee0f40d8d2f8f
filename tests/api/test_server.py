"""Every endpoint against a real server: successes, failures, and what gets stored."""

from __future__ import annotations

import asyncio
import copy
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clusterforge.store import Store

from .conftest import OTHER_TOKEN, PUSH, TOKEN, Server, start_server, stop_server


def _count(server: Server) -> int:
    return len(Store(server.home / "state.db").list_workflows())


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert "Traceback" not in response.text
    error: dict[str, Any] = body["error"]
    assert error["code"]
    assert error["message"]
    return error


# -- health ------------------------------------------------------------------------


def test_health_ready_docs(server: Server) -> None:
    with server.client(token=None) as anon:
        assert anon.get("/healthz").json() == {"status": "ok"}
        ready = anon.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["store"] == "ok"
        assert anon.get("/docs").status_code == 200
        spec = anon.get("/openapi.json").json()
        assert "/api/v1/builds" in spec["paths"]
        assert "/api/v1/events/{source}/{event}" in spec["paths"]


# -- auth --------------------------------------------------------------------------

MUTATING = [
    ("POST", "/api/v1/builds"),
    ("POST", "/api/v1/clusters/dev/stages/core"),
    ("DELETE", "/api/v1/clusters/dev"),
    ("POST", "/api/v1/builds/x/retry"),
    ("POST", "/api/v1/builds/x/stop"),
    ("POST", "/api/v1/events/github/push"),
]


@pytest.mark.parametrize(("method", "path"), MUTATING)
@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef", OTHER_TOKEN + "x"])
def test_mutations_need_the_right_token(
    server: Server, method: str, path: str, token: str | None
) -> None:
    before = _count(server)
    with server.client(token=token) as c:
        response = c.request(method, path, json=PUSH)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _error(response)["code"] == "unauthorized"
    assert _count(server) == before


def test_reads_need_a_token_unless_public(server: Server, tmp_path: Path) -> None:
    with server.client(token=None) as anon:
        assert anon.get("/api/v1/builds").status_code == 401
    public = start_server(tmp_path / "public", public_reads=True, workers=0)
    try:
        with public.client(token=None) as anon:
            assert anon.get("/api/v1/builds").status_code == 200
            assert anon.post("/api/v1/events/github/push", json=PUSH).status_code == 401
    finally:
        stop_server(public)


# -- body limits and rate limits ---------------------------------------------------


def test_bodies_over_the_limit_get_413(tmp_path: Path) -> None:
    small = start_server(tmp_path / "small", max_body=1024, workers=0)
    try:
        with small.client() as c:
            big = {"pad": "x" * 2000, **PUSH}
            response = c.post("/api/v1/events/github/push", json=big)
            assert response.status_code == 413
            assert _error(response)["code"] == "payload_too_large"

            def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
                yield b'{"pad": "'
                for _ in range(20):
                    yield b"y" * 100
                yield b'"}'

            streamed = c.post(
                "/api/v1/events/github/push",
                content=chunks(),
                headers={"Content-Type": "application/json"},
            )
            assert streamed.status_code == 413
            assert _error(streamed)["code"] == "payload_too_large"
            assert c.post("/api/v1/events/github/push", json=PUSH).status_code == 202
        assert _count(small) == 1
        metrics = httpx.get(f"{small.url}/metrics").text
        assert (
            'clusterforge_triggers_total{result="too_large",source="event:github"} 2.0' in metrics
        )
    finally:
        stop_server(small)


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    slow = start_server(tmp_path / "slow", rate_limit=0.5, rate_burst=2.0, workers=0)
    try:
        with slow.client() as c, slow.client(token=OTHER_TOKEN) as other:
            codes = [c.post("/api/v1/events/github/push", json=PUSH) for _ in range(3)]
            assert [r.status_code for r in codes] == [202, 202, 429]
            assert int(codes[2].headers["retry-after"]) >= 1
            assert _error(codes[2])["code"] == "rate_limited"
            # per token: another token still has its own budget
            assert other.post("/api/v1/events/github/push", json=PUSH).status_code == 202
        assert _count(slow) == 3
    finally:
        stop_server(slow)


# -- builds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON: line 1 column 2"),
        (b"", "the request body is empty"),
        (b'{"a": 1, "a": 2}', "key 'a' appears twice"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[" * 100 + b"]" * 100, "nested deeper than 64"),
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
    ],
)
def test_bad_json_is_400(client: httpx.Client, server: Server, body: bytes, message: str) -> None:
    before = _count(server)
    for path in ("/api/v1/builds", "/api/v1/events/github/push"):
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert message in _error(response)["message"]
    assert _count(server) == before


def test_an_invalid_spec_is_422_with_field_paths(client: httpx.Client, server: Server) -> None:
    before = _count(server)
    spec = {
        "apiVersion": "clusterforge.dev/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "Bad_Name"},
        "spec": {"provider": {"type": "kwok"}, "nodeGroups": [{"name": "a", "desired": "x"}]},
    }
    response = client.post("/api/v1/builds", json=spec)
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "invalid_spec"
    fields = {p["field"] for p in error["problems"]}
    assert "metadata.name" in fields
    assert any(f.startswith("spec.nodeGroups[0]") for f in fields)
    assert error["field"] in fields
    assert _count(server) == before


def _alias_bomb(levels: int = 9) -> bytes:
    """Each anchor a list of ten aliases of the previous one: 10**levels values once expanded."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]")
    return "\n".join(lines).encode() + b"\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"metadata: [1,\n", "not valid YAML: line 2 column 1"),
        (b"a: 1\n---\nb: 2\n", "send one YAML document, not 2"),
        (b"\xff\xfe", "not UTF-8"),
        (_alias_bomb(), "values once its aliases are expanded"),
    ],
)
def test_bad_yaml_is_400(client: httpx.Client, server: Server, body: bytes, message: str) -> None:
    before = _count(server)
    response = client.post(
        "/api/v1/builds", content=body, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_yaml"
    assert message in _error(response)["message"]
    assert _count(server) == before


def test_a_yaml_spec_is_read_and_checked_like_json(client: httpx.Client, server: Server) -> None:
    """A spec pasted as YAML (the web UI's form) meets the same checks, field by field."""
    before = _count(server)
    spec = (
        b"apiVersion: clusterforge.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: Bad_Name\n"
        b"spec:\n  provider: {type: kwok}\n  nodeGroups:\n  - {name: a, desired: x}\n"
    )
    response = client.post(
        "/api/v1/builds", content=spec, headers={"Content-Type": "application/yaml; charset=utf-8"}
    )
    assert response.status_code == 422
    fields = {p["field"] for p in _error(response)["problems"]}
    assert "metadata.name" in fields
    assert any(f.startswith("spec.nodeGroups[0]") for f in fields)
    assert _count(server) == before


def test_stage_and_teardown_of_unknown_clusters_are_404(client: httpx.Client) -> None:
    response = client.post("/api/v1/clusters/nowhere/stages/core", json={})
    assert response.status_code == 404
    assert "cluster 'nowhere' is not known" in _error(response)["message"]
    assert client.delete("/api/v1/clusters/nowhere").status_code == 404
    unknown = client.post("/api/v1/clusters/nowhere/stages/deploy")
    assert unknown.status_code == 404
    assert "preflight, core, addons, validation" in _error(unknown)["message"]
    assert client.post("/api/v1/clusters/nowhere/stages/core", json=[1]).status_code == 422


def test_clusters_list(client: httpx.Client) -> None:
    response = client.get("/api/v1/clusters")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_unknown_build_is_404(client: httpx.Client) -> None:
    for method, path in [
        ("GET", "/api/v1/builds/nope"),
        ("GET", "/api/v1/builds/nope/events"),
        ("GET", "/api/v1/builds/nope/logs"),
        ("GET", "/api/v1/builds/nope/nodes/x/logs"),
        ("POST", "/api/v1/builds/nope/retry"),
        ("POST", "/api/v1/builds/nope/stop"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 404, path
        assert _error(response)["code"] == "not_found"


# -- events ------------------------------------------------------------------------


def test_a_webhook_maps_the_payload_and_answers_with_the_build(
    client: httpx.Client, server: Server
) -> None:
    response = client.post("/api/v1/events/github/push", json=PUSH)
    assert response.status_code == 202
    answer = response.json()
    [build] = answer["builds"]
    assert answer["id"] == build["id"]
    assert build["id"].startswith("deploy-web")
    assert build["urls"]["status"] == f"{server.url}/api/v1/builds/{build['id']}"
    # stored before the answer: readable at once
    doc = client.get(f"/api/v1/builds/{build['id']}").json()
    assert doc["kind"] == "Workflow"
    assert doc["metadata"]["labels"]["clusterforge.dev/sensor"] == "github-deploy"
    final = server.wait_done(client, build["id"])
    assert final["status"]["phase"] == "Succeeded"
    logs = client.get(build["urls"]["logs"]).text
    assert "deploying web at ABC123 for acme (2 commits)" in logs


def test_a_filtered_event_is_422_naming_the_filter(client: httpx.Client, server: Server) -> None:
    before = _count(server)
    body = copy.deepcopy(PUSH)
    body["ref"] = "refs/heads/feature"
    response = client.post("/api/v1/events/github/push", json=body)
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "event_rejected"
    assert "filters.data[0]: body.ref = 'refs/heads/feature' does not match" in error["message"]
    assert error["reasons"]
    assert _count(server) == before


def test_events_nobody_listens_to_are_404(client: httpx.Client) -> None:
    response = client.post("/api/v1/events/gitlab/push", json=PUSH)
    assert response.status_code == 404
    assert "no sensor listens to gitlab/push" in _error(response)["message"]
    assert "github/push" in _error(response)["message"]


@pytest.mark.parametrize(
    ("method", "path", "status", "field"),
    [
        ("POST", "/api/v1/events/github/push/extra", 404, None),  # not an event path
        ("GET", "/api/v1/events/github/push", 405, None),
        ("POST", "/api/v1/events/-github/push", 422, "source"),
        ("POST", "/api/v1/events/github/push%20now", 422, "event"),
    ],
)
def test_event_paths_the_fast_intake_does_not_serve_keep_the_error_shape(
    client: httpx.Client, method: str, path: str, status: int, field: str | None
) -> None:
    # webhook events skip FastAPI's router (EventIntake); everything else around
    # that path still gets the app's answers, in the one error shape
    response = client.request(method, path, json=PUSH)
    assert response.status_code == status
    assert set(_error(response)) >= {"code", "message"}
    assert _error(response).get("field") == field


def test_the_builtin_event_source_is_reserved(client: httpx.Client) -> None:
    response = client.post("/api/v1/events/clusterforge/build", json={})
    assert response.status_code == 403


def test_a_two_event_sensor_waits_then_starts(client: httpx.Client, server: Server) -> None:
    first = client.post("/api/v1/events/pair/left", json={"v": "L"})
    assert first.status_code == 202
    assert first.json()["builds"] == []
    assert first.json()["waiting"] == ["sensor pair waits for right"]
    second = client.post("/api/v1/events/pair/right", json={"v": "R"})
    [build] = second.json()["builds"]
    assert server.wait_done(client, build["id"])["status"]["phase"] == "Succeeded"
    assert client.get(build["urls"]["logs"]).text == f"{build['id']}: L R\n"


def test_sensors_are_listed(client: httpx.Client) -> None:
    names = {s["name"]: s for s in client.get("/api/v1/sensors").json()}
    assert names["clusterforge-build"]["builtin"] is True
    assert names["github-deploy"]["dependencies"] == [
        {"name": "push", "eventSourceName": "github", "eventName": "push"}
    ]


# -- idempotency -------------------------------------------------------------------


def test_the_same_idempotency_key_gives_the_same_build(
    client: httpx.Client, server: Server
) -> None:
    before = _count(server)
    headers = {"Idempotency-Key": f"key-{time.time()}"}
    first = client.post("/api/v1/events/github/push", json=PUSH, headers=headers)
    again = client.post("/api/v1/events/github/push", json=PUSH, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["replayed"] is True
    assert _count(server) == before + 1
    other = client.post("/api/v1/events/github/push", json={**PUSH, "after": "x"}, headers=headers)
    assert other.status_code == 422
    assert _error(other)["code"] == "idempotency_key_reused"
    # keys belong to a token: another token with the same key is a new request
    with server.client(token=OTHER_TOKEN) as c:
        third = c.post("/api/v1/events/github/push", json=PUSH, headers=headers)
    assert third.json()["id"] != first.json()["id"]


def test_concurrent_requests_with_one_key_start_one_build(server: Server) -> None:
    before = _count(server)
    headers = {"Idempotency-Key": f"race-{time.time()}"}

    async def race() -> list[httpx.Response]:
        auth = {"Authorization": f"Bearer {server.token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as c:
            posts = [
                c.post("/api/v1/events/github/push", json=PUSH, headers=headers) for _ in range(8)
            ]
            return list(await asyncio.gather(*posts))

    answers = asyncio.run(race())
    assert {r.status_code for r in answers} == {202}
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(not r.json().get("replayed") for r in answers) == 1
    assert _count(server) == before + 1


# -- many at once ------------------------------------------------------------------


def test_every_accepted_event_is_stored(server: Server) -> None:
    """Many concurrent events (the group-commit path): every 202 names a stored build."""

    async def burst() -> list[httpx.Response]:
        auth = {"Authorization": f"Bearer {server.token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=60) as c:
            posts = [
                c.post(
                    "/api/v1/events/github/push",
                    json={**PUSH, "head_commit": {"id": f"sha{n}"}},
                )
                for n in range(60)
            ]
            return list(await asyncio.gather(*posts))

    answers = asyncio.run(burst())
    assert {r.status_code for r in answers} == {202}
    store = Store(server.home / "state.db")
    shas: set[str] = set()
    for response in answers:
        build = store.get_workflow(response.json()["id"])
        assert build is not None
        params = build.manifest["spec"]["arguments"]["parameters"]
        shas.update(p["value"] for p in params if p["name"] == "sha")
    assert shas == {f"SHA{n}" for n in range(60)}  # each build has its own event's values


def test_a_generated_name_taken_meanwhile_is_drawn_again(
    client: httpx.Client, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clusterforge import ids

    real = ids.random_bytes
    same = iter(range(2))

    def draws(count: int) -> bytes:
        # the first two name suffixes are the same; everything else is random
        if count == 5 and next(same, None) is not None:
            return b"\x07" * 5
        return real(count)

    monkeypatch.setattr(ids, "random_bytes", draws)
    first = client.post("/api/v1/events/github/push", json=PUSH)
    second = client.post("/api/v1/events/github/push", json=PUSH)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == "deploy-webhhhhh"
    assert second.json()["id"] != first.json()["id"]
    assert Store(server.home / "state.db").get_workflow(second.json()["id"]) is not None


# -- list, logs, control -----------------------------------------------------------


def test_builds_list_filters_and_pages(client: httpx.Client, server: Server) -> None:
    ids = [
        client.post("/api/v1/events/test/steps", json={"pause": "0"}).json()["id"] for _ in range(3)
    ]
    for build_id in ids:
        server.wait_done(client, build_id)
    page = client.get("/api/v1/builds", params={"limit": 2, "phase": "Succeeded"}).json()
    assert len(page["items"]) == 2
    assert all(item["phase"] == "Succeeded" for item in page["items"])
    assert page["next"]
    rest = client.get(page["next"]).json()
    assert rest["offset"] == 2
    seen = [i["id"] for i in page["items"]] + [i["id"] for i in rest["items"]]
    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen)
    assert client.get("/api/v1/builds", params={"phase": "Bogus"}).status_code == 422
    assert client.get("/api/v1/builds", params={"limit": 0}).status_code == 422


def test_logs_of_a_node_and_following(client: httpx.Client, server: Server) -> None:
    build = client.post("/api/v1/events/test/steps", json={"pause": "0.3"}).json()
    with client.stream(
        "GET", f"/api/v1/builds/{build['id']}/logs", params={"follow": "true"}
    ) as stream:
        lines = [line for line in stream.iter_lines() if line]
    assert lines == ["one: napped", "two: napped", "three: napped"]
    node = client.get(f"/api/v1/builds/{build['id']}/nodes/two/logs", params={"format": "ndjson"})
    [item] = [httpx.Response(200, content=line).json() for line in node.text.splitlines()]
    assert item["displayName"] == "two"
    assert item["text"] == "napped"
    missing = client.get(f"/api/v1/builds/{build['id']}/nodes/four/logs")
    assert missing.status_code == 404


def test_stop_and_retry(client: httpx.Client, server: Server) -> None:
    slow = client.post("/api/v1/events/test/slow", json={}).json()
    deadline = time.monotonic() + 30
    while client.get(slow["urls"]["status"]).json()["status"]["phase"] != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    stopped = client.post(f"/api/v1/builds/{slow['id']}/stop")
    assert stopped.status_code == 202
    assert server.wait_done(client, slow["id"])["status"]["phase"] in ("Failed", "Error")
    assert client.post(f"/api/v1/builds/{slow['id']}/stop").status_code == 409

    marker = server.home / f"marker-{time.time()}"
    flaky = client.post("/api/v1/events/test/flaky", json={"marker": str(marker)}).json()
    assert server.wait_done(client, flaky["id"])["status"]["phase"] == "Failed"
    retried = client.post(f"/api/v1/builds/{flaky['id']}/retry")
    assert retried.status_code == 202
    assert retried.json()["id"] == flaky["id"]
    assert server.wait_done(client, flaky["id"])["status"]["phase"] == "Succeeded"
    conflict = client.post(f"/api/v1/builds/{flaky['id']}/retry")
    assert conflict.status_code == 409
    assert "nothing to retry" in _error(conflict)["message"]


def test_metrics_count_triggers_and_steps(client: httpx.Client, server: Server) -> None:
    build = client.post("/api/v1/events/test/steps", json={"pause": "0"}).json()
    server.wait_done(client, build["id"])
    # the runner observes the steps just after the workflow ends: wait for their durations
    deadline = time.monotonic() + 30
    while "clusterforge_step_duration_seconds_count" not in (
        text := httpx.get(f"{server.url}/metrics").text
    ):
        assert time.monotonic() < deadline, "no step durations in /metrics"
        time.sleep(0.05)
    assert 'clusterforge_triggers_total{result="accepted",source="event:test"}' in text
    assert 'clusterforge_builds{phase="Succeeded"}' in text
    assert "clusterforge_step_duration_seconds_count" in text
    assert 'clusterforge_run_queue{state="queued"}' in text


def _store_an_orphan(home: Path) -> str:
    """Store workflow ``orphan``, Pending, owned by a dead engine; its owner."""
    from clusterforge.engine import LocalEngine, Submission

    engine = LocalEngine(home)
    text = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: orphan}\n"
        "spec:\n  entrypoint: main\n  templates:\n"
        "  - {name: main, container: {image: alpine, command: [echo, back]}}\n"
    )
    record = engine.prepare(Submission(text=text))
    record.owner = f"{socket.gethostname()}:1:not-the-start-time"  # a dead engine
    engine.store.create_workflow(record)
    return record.owner


def test_the_server_resumes_what_a_dead_owner_left(tmp_path: Path) -> None:
    home = tmp_path / "orphans"
    _store_an_orphan(home)
    revived = start_server(home)
    try:
        with revived.client() as c:
            assert revived.wait_done(c, "orphan")["status"]["phase"] == "Succeeded"
            assert c.get("/api/v1/builds/orphan/logs").text == "orphan: back\n"
    finally:
        stop_server(revived)


def test_a_port_in_use_stops_the_server_before_it_takes_anything_back(tmp_path: Path) -> None:
    """``serve`` on a taken port exits saying so and leaves the interrupted builds
    alone. It used to take them back first — the app's lifespan ran before uvicorn
    bound the port — and run them until it exited on the bind error (this orphan
    ended Succeeded, run by a server that never served)."""
    home = tmp_path / "orphans"
    owner = _store_an_orphan(home)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "clusterforge.cli", "serve", "--port", str(port)],
            env={**os.environ, "CLUSTERFORGE_HOME": str(home), "CLUSTERFORGE_TOKENS": TOKEN},
            capture_output=True,
            text=True,
            timeout=120,
        )
    record = Store(home / "state.db").get_workflow("orphan")
    assert record is not None
    assert (record.phase, record.owner) == ("Pending", owner), result.stderr
    assert result.returncode != 0
    assert f"--port {port}" in result.stderr
    assert "address already in use" in result.stderr.lower()
    assert "Traceback" not in result.stderr
