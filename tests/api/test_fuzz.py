"""Fuzzing the payload endpoints: whatever arrives, no 5xx and no traceback."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Server

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
SPECISH = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["clusterforge.dev/v1alpha1", "v1", ""]),
        "kind": st.sampled_from(["Cluster", "Pod"]),
        "metadata": st.fixed_dictionaries({"name": st.text(max_size=70)}) | JSON,
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "provider": st.fixed_dictionaries({"type": st.sampled_from(["kwok", "aws", "x"])}),
                "nodeGroups": st.lists(
                    st.fixed_dictionaries({"name": st.text(max_size=10), "desired": JSON}),
                    max_size=2,
                ),
                "addons": st.dictionaries(st.text(max_size=15), JSON, max_size=3),
                "kubernetesVersion": JSON,
            },
        ),
    }
)
PATHS = [
    "/api/v1/builds",
    "/api/v1/events/github/push",
    "/api/v1/events/pair/left",
    "/api/v1/clusters/nowhere/stages/core",
]


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=JSON | SPECISH, path=st.sampled_from(PATHS))
def test_json_payloads_never_break_the_server(server: Server, payload: Any, path: str) -> None:
    with server.client() as c:
        _check(c.post(path, json=payload))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=300), path=st.sampled_from(PATHS))
def test_arbitrary_bytes_never_break_the_server(server: Server, body: bytes, path: str) -> None:
    with server.client() as c:
        _check(c.post(path, content=body, headers={"Content-Type": "application/json"}))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    segment=st.text(min_size=1, max_size=30).map(lambda s: quote(s, safe="")),
    key=st.text(max_size=40),
)
def test_odd_names_and_headers_never_break_the_server(
    server: Server, segment: str, key: str
) -> None:
    with server.client() as c:
        for method, path in [
            ("POST", f"/api/v1/events/{segment}/push"),
            ("POST", f"/api/v1/clusters/{segment}/stages/core"),
            ("GET", f"/api/v1/builds/{segment}"),
            ("GET", f"/api/v1/builds/{segment}/events"),
        ]:
            headers = {"Idempotency-Key": key} if key.isascii() and key.isprintable() else {}
            _check(c.request(method, path, json={}, headers=headers))
