"""Hypothesis-driven fuzz of the API and the loaders with hostile inputs.

Every generated input must end in an answer, never a crash: over HTTP no 5xx,
no traceback in a body or in the server's log, every 4xx in the error shape
with a message; in-process no exception but the user errors the loaders
document; and, after the whole run, no file outside the data directory
created, changed or removed.

The default run is small enough for CI. ``CLUSTERFORGE_FUZZ_EXAMPLES=N`` sets
the number of generated inputs per test (the note reports a 10,000-input
run: ``CLUSTERFORGE_FUZZ_EXAMPLES=2500`` over the four tests).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterforge.errors import UserError
from clusterforge.safety import check_workflow_name
from clusterforge.spec.loading import parse_spec
from clusterforge.workflow import WorkflowInvalid, load_text
from tests.api.conftest import Server

from .conftest import Sandbox

EXAMPLES = int(os.environ.get("CLUSTERFORGE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "../../x", "/etc/passwd", "..", ".", "a\x00b", "\ud800", "x" * 300, "${IFS}",
            "$(id)", "`id`", "; rm -rf /", "%2e%2e%2f", "a/b", "\\\\", "{{workflow.name}}",
            "^([a-z0-9]+-?)*$", "a" * 40 + "!", "9" * 30, "-1", "1e309", "NaN",
        ]
    ),
)  # fmt: skip
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(HOSTILE_TEXT, children, max_size=4)
    ),
    max_leaves=20,
)
PUSH = st.fixed_dictionaries(
    {
        "ref": st.sampled_from(["refs/heads/main", "refs/heads/x"]) | HOSTILE_TEXT,
        "head_commit": st.fixed_dictionaries({"id": HOSTILE_TEXT}),
        "commits": st.lists(JSON_VALUE, max_size=3),
        "repository": st.fixed_dictionaries(
            {
                "name": HOSTILE_TEXT,
                "size": st.integers(min_value=-(2**70), max_value=2**70) | HOSTILE_TEXT,
                "stars": st.integers() | HOSTILE_TEXT,
                "owner": st.fixed_dictionaries({"login": st.just("acme") | HOSTILE_TEXT}),
            }
        ),
    }
)
SPECISH = st.fixed_dictionaries(
    {
        "apiVersion": st.just("clusterforge.dev/v1alpha1") | HOSTILE_TEXT,
        "kind": st.just("Cluster") | HOSTILE_TEXT,
        "metadata": st.fixed_dictionaries({"name": HOSTILE_TEXT}),
        "spec": st.dictionaries(
            st.sampled_from(["provider", "nodeGroups", "addons", "preflight", "validation"]),
            JSON_VALUE,
            max_size=4,
        ),
    }
)


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture(scope="module")
def watched(api_sandbox: tuple[Server, Sandbox]) -> Iterator[tuple[Server, Sandbox, list[int]]]:
    server, box = api_sandbox
    handler = _Tracebacks()
    logging.getLogger().addHandler(handler)
    counts: list[int] = []
    try:
        yield server, box, counts
    finally:
        logging.getLogger().removeHandler(handler)
    print(f"\nfuzz: {len(counts)} requests, statuses {sorted(set(counts))}")
    assert not handler.records, [r.getMessage() for r in handler.records]
    assert box.changes() == []


def _check(response: httpx.Response, counts: list[int]) -> None:
    counts.append(response.status_code)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        error = response.json()["error"]
        assert error["message"]


@FUZZ
@given(payload=PUSH | SPECISH | JSON_VALUE)
def test_payloads(watched: tuple[Server, Sandbox, list[int]], payload: Any) -> None:
    server, _box, counts = watched
    with server.client() as client:
        # encoded here, not by httpx: lone surrogates go out as \\udXXX escapes and
        # infinities as Infinity, both of which the server must refuse cleanly
        body = json.dumps(payload).encode()
        json_type = {"Content-Type": "application/json"}
        for path in ("/api/v1/events/github/push", "/api/v1/builds"):
            _check(client.post(path, content=body, headers=json_type), counts)


@FUZZ
@given(segment=HOSTILE_TEXT, header=HOSTILE_TEXT, after=HOSTILE_TEXT)
def test_paths_headers_and_numbers(
    watched: tuple[Server, Sandbox, list[int]], segment: str, header: str, after: str
) -> None:
    server, _box, counts = watched
    name = quote(segment.encode("utf-8", "surrogatepass"), safe="")
    raw = header.encode("utf-8", "surrogatepass")
    sendable = raw and raw == raw.strip() and all(b >= 0x20 and b != 0x7F for b in raw)
    headers = {"Last-Event-ID": raw} if sendable else {}  # what an HTTP client can send
    with server.client() as client:
        for method, path in (
            ("GET", f"/api/v1/builds/{name}"),
            ("GET", f"/api/v1/builds/{name}/events"),
            ("POST", f"/api/v1/clusters/{name}/stages/core"),
            ("POST", f"/api/v1/events/{name}/push"),
        ):
            params = {"after": after.encode("utf-8", "surrogatepass")}
            _check(client.request(method, path, headers=headers, params=params, json={}), counts)


@FUZZ
@given(text=st.text(max_size=400) | JSON_VALUE.map(lambda v: json.dumps(v)))
def test_workflow_and_spec_loaders(text: str) -> None:
    with contextlib.suppress(WorkflowInvalid):
        load_text(text)
    try:
        data = json.loads(text)
    except ValueError:
        return
    with contextlib.suppress(UserError):
        parse_spec(data)


@FUZZ
@given(name=HOSTILE_TEXT)
def test_names_are_accepted_only_when_safe(name: str) -> None:
    try:
        checked = check_workflow_name(name)
    except UserError as err:
        refusal = str(err)
    else:
        refusal = ""
    if refusal:
        assert refusal.startswith("metadata.name: ")
        return
    assert "/" not in checked
    assert ".." not in checked
    assert "\x00" not in checked
    assert 0 < len(checked.encode()) <= 200
