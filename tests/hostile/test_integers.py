"""Sequence numbers from clients: huge, non-ASCII or negative values are a 4xx.

``Last-Event-ID`` over 2**63 used to end the event stream with an
``OverflowError``, and one of more than 4,300 digits was a 500. Both the
header and ``?after=`` are now bounded to SQLite's 64-bit integers.
"""

from __future__ import annotations

import pytest

from clusterforge.errors import InvalidInput
from clusterforge.safety import INT64_MAX, bounded_int
from tests.api.conftest import Server

from .test_names import PUSH

TOO_BIG = [str(INT64_MAX + 1), str(2**64), "9" * 19, "9" * 5_000, "0" * 30 + "9" * 20]
NOT_NUMBERS = ["²", "١٢", "-1", "1e3", "0x10", " ", "1 2"]


@pytest.mark.parametrize("text", TOO_BIG + NOT_NUMBERS)
def test_bounded_int_refuses_with_the_field(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^Last-Event-ID: "):
        bounded_int(text, "Last-Event-ID")


def test_bounded_int_accepts_the_bound() -> None:
    assert bounded_int(str(INT64_MAX), "x") == INT64_MAX
    assert bounded_int("000" + str(INT64_MAX), "x") == INT64_MAX
    assert bounded_int(" 7 ", "x") == 7


@pytest.fixture(scope="module")
def finished_build(api_sandbox: tuple[Server, object]) -> str:
    server = api_sandbox[0]
    with server.client() as client:
        answer = client.post("/api/v1/events/github/push", json=PUSH)
        assert answer.status_code == 202, answer.text
        build_id: str = answer.json()["builds"][0]["id"]
        server.wait_done(client, build_id)
    return build_id


@pytest.mark.parametrize("value", [v for v in TOO_BIG + NOT_NUMBERS if v.strip()])
def test_last_event_id_is_a_400(
    api_sandbox: tuple[Server, object], finished_build: str, value: str
) -> None:
    with api_sandbox[0].client() as client:
        got = client.get(
            f"/api/v1/builds/{finished_build}/events",
            headers={"Last-Event-ID": value.encode()},  # raw UTF-8 bytes, as a client may send
        )
    assert got.status_code == 400, got.text
    assert got.json()["error"]["field"] == "Last-Event-ID"


@pytest.mark.parametrize("value", [*TOO_BIG, "-1", "²"])
def test_after_is_a_422(
    api_sandbox: tuple[Server, object], finished_build: str, value: str
) -> None:
    with api_sandbox[0].client() as client:
        got = client.get(f"/api/v1/builds/{finished_build}/events", params={"after": value})
    assert got.status_code == 422, got.text
    assert "after" in got.text


def test_the_largest_sequence_number_streams_nothing_and_ends(
    api_sandbox: tuple[Server, object], finished_build: str
) -> None:
    with api_sandbox[0].client() as client:
        for headers, params in (
            ({"Last-Event-ID": str(INT64_MAX)}, {}),
            ({}, {"after": INT64_MAX}),
        ):
            got = client.get(
                f"/api/v1/builds/{finished_build}/events", headers=headers, params=params
            )
            assert got.status_code == 200, got.text
            assert "event: node" not in got.text
