"""Catastrophic-backtracking patterns run in linear time everywhere users write them.

``^([a-z0-9]+-?)*$`` against a near-match doubles its cost per character on a
backtracking engine (28 characters took 11 s with Python's ``re``). Every
user pattern now runs on RE2, so these tests feed payloads of 10,000
characters — hopeless for a backtracking engine, instant for RE2 — through
each place a pattern can come from. They assert behaviour (an answer, the
right answer, the server still answering); the time lives in
``bench/redos.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clusterforge.checks.detik import compile_ere
from clusterforge.workflow.expressions import evaluate_when, substitute
from tests.api.conftest import Server, start_server, stop_server

EVIL = "^([a-z0-9]+-?)*$"
NEAR_MATCH = "a" * 10_000 + "!"  # almost matches: the worst case for backtracking


def test_when_matches_in_linear_time() -> None:
    assert evaluate_when(f"'{NEAR_MATCH}' =~ '{EVIL}'") is False
    assert evaluate_when(f"'{'a' * 10_000}' =~ '{EVIL}'") is True
    assert evaluate_when(f"'{NEAR_MATCH}' !~ '{EVIL}'") is True


def test_expr_matches_in_linear_time() -> None:
    tag = f"{{{{=inputs.parameters.name matches '{EVIL}'}}}}"
    assert substitute(tag, {"inputs.parameters.name": NEAR_MATCH}) == "false"
    assert substitute(tag, {"inputs.parameters.name": "abc-def"}) == "true"


def test_detik_ere_in_linear_time() -> None:
    assert compile_ere("^([a-z0-9]+-?)*$").search(NEAR_MATCH) is None
    assert compile_ere("^([a-z0-9]+-?)*$").search("abc-def") is not None


@pytest.fixture(scope="module")
def redos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("redos-home"), sensor_dirs=(Path(__file__).parent / "sensors",)
    )
    try:
        yield running
    finally:
        stop_server(running)


def test_sensor_filter_answers_and_healthz_keeps_answering(redos_server: Server) -> None:
    answers: list[tuple[int, str]] = []

    def hostile() -> None:
        with redos_server.client() as client:
            for _ in range(5):
                got = client.post("/api/v1/events/redos/check", json={"name": NEAR_MATCH})
                answers.append((got.status_code, got.text))

    attacker = threading.Thread(target=hostile)
    attacker.start()
    health: list[int] = []
    with httpx.Client(base_url=redos_server.url, timeout=30) as plain:
        # at least one probe, even if the attacker's five requests end before the first
        # (a loaded machine may not schedule this thread until then)
        while True:
            health.append(plain.get("/healthz").status_code)
            if not attacker.is_alive():
                break
    attacker.join()
    # a near-match is no match: the event is refused (422) with the filter named
    assert len(answers) == 5
    assert all(code == 422 and "does not match" in text for code, text in answers), answers
    assert health
    assert set(health) == {200}
    with redos_server.client() as client:
        kept = client.post("/api/v1/events/redos/check", json={"name": "a-b-c"})
        assert kept.status_code == 202, kept.text
