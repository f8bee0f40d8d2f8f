"""Token roles: read, build, admin — and specs that run commands need admin.

A real server with a token file in the new format (and one bare token, the
old format, which stays all-powerful). Specs are deliberately invalid apart
from what is under test, so an accepted role shows as 422 (validation ran)
rather than starting a real build; a refused one is 403 naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clusterforge.api.settings import read_token_entries
from clusterforge.errors import InvalidInput
from tests.api.conftest import Server, start_server, stop_server

READ = "read-token-0123456789abcdef"
BUILD = "build-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"
LEGACY = "legacy-token-0123456789abcdef"


def spec(**extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "clusterforge.dev/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "roles"},
        # no nodeGroups: invalid, so an accepted request stops at validation (422)
        "spec": {"provider": {"type": "kwok"}, "kubernetesVersion": "1.34", **extra},
    }


WITH_COMMAND = spec(preflight={"checks": [{"name": "x", "command": ["touch", "/tmp/pwned"]}]})
WITH_BATS = spec(validation={"batsFiles": ["evil.bats"]})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("roles-home")
    token_file = home / "tokens"
    token_file.write_text(f"# roles\n{READ} read\n{BUILD} build\n{ADMIN} admin\n{LEGACY}\n")
    token_file.chmod(0o600)
    running = start_server(home, tokens=(), token_file=token_file)
    try:
        yield running
    finally:
        stop_server(running)


def post(
    server: Server, token: str, body: dict[str, Any], path: str = "/api/v1/builds"
) -> httpx.Response:
    with server.client(token) as client:
        return client.post(path, json=body)


def test_token_file_roles_and_backwards_compatibility(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"{READ} read\n{LEGACY}\n")
    path.chmod(0o600)
    assert read_token_entries(path) == [(READ, "read"), (LEGACY, "admin")]
    path.write_text(f"{READ} root\n")
    with pytest.raises(InvalidInput, match="role 'root'"):
        read_token_entries(path)


def test_read_token_reads_but_cannot_build(server: Server) -> None:
    with server.client(READ) as client:
        assert client.get("/api/v1/builds").status_code == 200
        refused = client.post("/api/v1/builds", json=spec())
    assert refused.status_code == 403
    assert "role is 'read'" in refused.text


def test_build_token_builds_without_commands(server: Server) -> None:
    assert post(server, BUILD, spec()).status_code == 422  # passed the role check


@pytest.mark.parametrize(
    ("body", "field"),
    [(WITH_COMMAND, "spec.preflight.checks"), (WITH_BATS, "spec.validation.batsFiles")],
)
def test_commands_need_admin(server: Server, body: dict[str, Any], field: str) -> None:
    refused = post(server, BUILD, body)
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == field
    stage = post(server, BUILD, body, "/api/v1/clusters/roles/stages/preflight")
    assert stage.status_code == 403
    for token in (ADMIN, LEGACY):
        assert post(server, token, body).status_code == 422  # admin: on to validation
    assert not Path("/tmp/pwned").exists()
