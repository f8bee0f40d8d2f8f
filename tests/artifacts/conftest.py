"""Fixtures of the artifact tests: one SeaweedFS server per test session (and worker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.artifacts.seaweed import S3Server, seaweed_server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with seaweed_server(tmp_path_factory.mktemp("seaweed")) as server:
        yield server
